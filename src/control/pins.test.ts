// The version pins (`nanovisor.app.<app>:v<N>`) are the control plane's alone: the upload and
// build APIs, imports and `image tag` cannot write one, `image rm` cannot drop one nor delete
// the blobs a deployed version runs on, and deleting the app still drops its pins.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { wat } from '../../test/support/wat.ts';
import { createApi } from '../api/server.ts';
import { ImageStore } from '../image/index.ts';
import { readTar, writeTar, type TarEntry } from '../image/tar.ts';
import { tempDir } from '../image/testing.ts';
import { isNanovisorError, type ErrorCode } from '../shared/errors.ts';
import { ControlPlane, pinTag } from './control.ts';
import { StateDb } from './db.ts';

const enc = new TextEncoder();

function appTar(marker: string): Uint8Array {
  const module = wat(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 0) "${marker}")
    (func (export "_start")))`);
  const entries: TarEntry[] = [
    { path: 'nanovisor.json', kind: 'file', mode: 0o644, data: enc.encode(JSON.stringify({ name: 'hello', version: '1', module: 'm.wasm' })) },
    { path: 'm.wasm', kind: 'file', mode: 0o644, data: module },
  ];
  return writeTar(entries);
}

function throwsCode(fn: () => unknown, code: ErrorCode, pattern: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(isNanovisorError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

test('reserved tags cannot be written through the API, and pinned blobs cannot be removed', async () => {
  using dir = tempDir('nv-pins-');
  const db = StateDb.open(join(dir.path, 'nanovisor.db'));
  const store = ImageStore.open(join(dir.path, 'images'));
  const control = ControlPlane.open({ db, store, tokenFile: join(dir.path, 'token'), tmpDir: join(dir.path, 'tmp'), version: '0' });
  const api = createApi({ control });
  const auth = { authorization: `Bearer ${readFileSync(join(dir.path, 'token'), 'utf8').trim()}` };
  const tarHeaders = { ...auth, 'content-type': 'application/x-tar' };
  try {
    // A deployed version of app "other", pinned.
    const built = await api.request({ method: 'POST', url: '/v1/images/build?tag=hello:1', headers: tarHeaders, body: appTar('v1') });
    assert.equal(built.status, 201, built.body as string);
    const v1 = JSON.parse(built.body as string).digest as string;
    control.execute({ kind: 'CreateApp', input: { name: 'other', routes: [{ path: '/other' }] } });
    control.execute({ kind: 'DeployVersion', app: 'other', image: 'hello:1' });
    const pin = pinTag('other', 1);
    assert.equal(store.resolve(pin).digest, v1);

    // Build with a reserved tag: 400, nothing retargeted.
    const bad = await api.request({ method: 'POST', url: `/v1/images/build?tag=${encodeURIComponent(pin)}`, headers: tarHeaders, body: appTar('evil') });
    assert.equal(bad.status, 400, bad.body as string);
    const badErr = JSON.parse(bad.body as string).error;
    assert.equal(badErr.code, 'NV_IMAGE_TAG_RESERVED');
    assert.match(badErr.message, /nanovisor\.app\./);
    assert.equal(store.resolve(pin).digest, v1);

    // Upload an export whose index names the pin: 400, nothing written.
    const evil = await api.request({ method: 'POST', url: '/v1/images/build?tag=evil:1', headers: tarHeaders, body: appTar('evil') });
    assert.equal(evil.status, 201);
    const evilDigest = JSON.parse(evil.body as string).digest as string;
    const exported = join(dir.path, 'evil.tar');
    store.export('evil:1', exported);
    const entries = readTar(readFileSync(exported)).map((e) => {
      if (e.path !== 'index.json') return e;
      return { ...e, data: enc.encode(new TextDecoder().decode(e.data).replaceAll('evil:1', pin)) };
    });
    const upload = await api.request({ method: 'POST', url: '/v1/images', headers: tarHeaders, body: writeTar(entries) });
    assert.equal(upload.status, 400, upload.body as string);
    assert.equal(JSON.parse(upload.body as string).error.code, 'NV_IMAGE_TAG_RESERVED');
    assert.equal(store.resolve(pin).digest, v1);
    assert.notEqual(evilDigest, v1);

    // An export of a pinned image carries no pin (so it can be imported anywhere).
    store.export(v1, exported);
    const index = readTar(readFileSync(exported)).find((e) => e.path === 'index.json')!;
    assert.doesNotMatch(new TextDecoder().decode(index.data), /nanovisor\.app\./);

    // Locally: tagging with the prefix, removing the pin, or the image by digest are refused.
    throwsCode(() => store.tag('evil:1', pinTag('other', 2)), 'NV_IMAGE_TAG_RESERVED', /nanovisor\.app\./);
    throwsCode(() => store.remove(pin), 'NV_IMAGE_PINNED', /app "other" version 1/);
    throwsCode(() => store.remove(v1, { force: true }), 'NV_IMAGE_PINNED', /app "other" version 1/);
    // Dropping the user's own tag is fine: the pin keeps the blobs, and the version still loads.
    const r = store.remove('hello:1');
    assert.deepEqual(r, { untagged: ['hello:1'], deleted: [] });
    assert.equal(store.load(pin).digest, v1);

    // Deleting the app drops its pin; then the blobs go.
    control.execute({ kind: 'DeleteApp', name: 'other' });
    throwsCode(() => store.resolve(pin), 'NV_IMAGE_NOT_FOUND', /no image/);
    assert.ok(store.gc().length === 0, 'the pin removal already collected the blobs');
    assert.deepEqual(store.list().map((i) => i.tags), [['evil:1']]);
  } finally {
    api.close();
    db.close();
  }
});
