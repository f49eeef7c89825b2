// Upload limits hold before any work: a tar with more entries than MAX_UPLOAD_ENTRIES is
// refused before one file is written, and a body whose Content-Length is over the limit is
// refused with 413 before one byte of it is read.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createApi } from '../api/server.ts';
import { ImageStore } from '../image/index.ts';
import { writeTar, type TarEntry } from '../image/tar.ts';
import { tempDir } from '../image/testing.ts';
import { isNanovisorError } from '../shared/errors.ts';
import { ControlPlane } from './control.ts';
import { StateDb } from './db.ts';
import { MAX_UPLOAD_ENTRIES, extractAppTar } from './upload-tar.ts';

test('a tar with one entry more than the limit writes nothing', () => {
  using dir = tempDir('nv-upload-');
  const entries: TarEntry[] = Array.from({ length: MAX_UPLOAD_ENTRIES + 1 }, (_, i) => ({ path: `f${i}.txt`, kind: 'file', mode: 0o644, data: new Uint8Array([1]) }));
  const dest = join(dir.path, 'app');
  mkdirSync(dest);
  assert.throws(() => extractAppTar(writeTar(entries), dest), (e: unknown) => isNanovisorError(e, 'NV_API_BAD_REQUEST') && /more than 10000 entries \(nothing was written\)/.test((e as Error).message));
  assert.deepEqual(readdirSync(dest), []);
  // A bad entry at the end (a symlink) also stops it before the first file.
  const bad = writeTar([{ path: 'a.txt', kind: 'file', mode: 0o644, data: new Uint8Array([1]) }, { path: 'l', kind: 'symlink', mode: 0o777, target: '/etc/passwd' } as TarEntry]);
  assert.throws(() => extractAppTar(bad, dest));
  assert.deepEqual(readdirSync(dest), []);
  // Within the limit it extracts.
  assert.equal(extractAppTar(writeTar(entries.slice(0, 3)), dest), 3);
});

test('an upload whose Content-Length is over the limit is 413 before its body is read', async () => {
  using dir = tempDir('nv-upload-');
  const db = StateDb.open(join(dir.path, 'nanovisor.db'));
  const control = ControlPlane.open({ db, store: ImageStore.open(join(dir.path, 'images')), tokenFile: join(dir.path, 'token'), tmpDir: join(dir.path, 'tmp'), version: '0' });
  const api = createApi({ control, maxUploadBytes: 1024 });
  const auth = `Bearer ${readFileSync(join(dir.path, 'token'), 'utf8').trim()}`;
  try {
    let read = 0;
    const body: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        read++;
        yield new Uint8Array(512);
      },
    };
    for (const url of ['/v1/images', '/v1/images/build']) {
      const r = await api.request({ method: 'POST', url, headers: { authorization: auth, 'content-type': 'application/x-tar', 'content-length': String(10 * 1024 * 1024) }, body });
      assert.equal(r.status, 413, String(r.body));
      assert.match(String(r.body), /NV_API_BODY_TOO_LARGE.*10485760 bytes, from Content-Length\) is larger than 1024 bytes/);
    }
    assert.equal(read, 0, 'not one chunk of the body was read');
  } finally {
    db.close();
  }
});
