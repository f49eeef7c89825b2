// API error bodies never carry the server's file paths (data directory, store, scratch
// uploads): they show placeholders (<data>, <store>) or what the client sent ("the upload"),
// and the operator's log keeps the whole message.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ControlPlane, StateDb } from '../control/index.ts';
import { ImageStore } from '../image/index.ts';
import { writeTar } from '../image/tar.ts';
import { tempDir } from '../image/testing.ts';
import { publicMessage } from './http.ts';
import { createApi } from './server.ts';

const enc = new TextEncoder();

test('error bodies show placeholders for server paths; the log has the paths', async () => {
  using dir = tempDir('nv-api-paths-');
  const db = StateDb.open(join(dir.path, 'nanovisor.db'));
  const store = ImageStore.open(join(dir.path, 'images'));
  const control = ControlPlane.open({ db, store, tokenFile: join(dir.path, 'token'), tmpDir: join(dir.path, 'tmp'), version: '0' });
  const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
  const api = createApi({ control, log: (_level, msg, fields) => void lines.push({ msg, ...(fields === undefined ? {} : { fields }) }) });
  const auth = { authorization: `Bearer ${readFileSync(join(dir.path, 'token'), 'utf8').trim()}` };
  const call = async (method: string, url: string, body?: Uint8Array | string, type = 'application/json') => {
    const r = await api.request({ method, url, headers: { ...auth, 'content-type': type }, ...(body === undefined ? {} : { body }) });
    const text = r.body as string;
    assert.ok(!text.includes(dir.path), `${method} ${url}: the answer names a server path: ${text}`);
    return { status: r.status, error: JSON.parse(text).error as { code: string; message: string; requestId: string } };
  };
  try {
    await call('POST', '/v1/apps', JSON.stringify({ name: 'a', routes: [{ path: '/a' }] }));
    // A user error naming the store: the placeholder, and the log has the real path.
    const missing = await call('POST', '/v1/apps/a/versions', JSON.stringify({ image: 'nope:1' }));
    assert.equal(missing.status, 404);
    assert.match(missing.error.message, /no image "nope:1" in <store>$/);
    assert.ok(lines.some((l) => l.fields?.['requestId'] === missing.error.requestId && String(l.fields?.['error']).includes(join(dir.path, 'images'))), JSON.stringify(lines));

    // An upload that is not an image: named as "the upload", not by its scratch file.
    const notImage = await call('POST', '/v1/images', writeTar([{ path: 'x.txt', kind: 'file', mode: 0o644, data: enc.encode('x') }]), 'application/x-tar');
    assert.equal(notImage.status, 400);
    assert.match(notImage.error.message, /^the upload: /);

    // A build whose manifest is wrong: the file as the client named it.
    const badManifest = await call('POST', '/v1/images/build', writeTar([{ path: 'nanovisor.json', kind: 'file', mode: 0o644, data: enc.encode('{"name":"x","module":"m.wasm","bogus":1}') }]), 'application/x-tar');
    assert.equal(badManifest.status, 400);
    assert.equal(badManifest.error.code, 'NV_MANIFEST_INVALID');
    assert.match(badManifest.error.message, /^nanovisor\.json: /);

    // A system error (a damaged store index): no path at all, a pointer to the log, which has it.
    writeFileSync(join(dir.path, 'images', 'index.json'), '{');
    const damaged = await call('GET', '/v1/images');
    assert.equal(damaged.status, 500);
    assert.equal(damaged.error.code, 'NV_STORE_IO');
    assert.match(damaged.error.message, /<store>\/index\.json is damaged/);
    assert.match(damaged.error.message, new RegExp(`the daemon's log has the details, request id ${damaged.error.requestId}`));
    assert.ok(lines.some((l) => l.fields?.['requestId'] === damaged.error.requestId && String(l.fields?.['error']).includes(join(dir.path, 'images', 'index.json'))));
  } finally {
    api.close();
    db.close();
  }
});

test('publicMessage: server roots become placeholders; a system error loses every other absolute path', () => {
  const paths = [{ path: '/srv/nv', name: '<data>' }, { path: '/srv/nv/images', name: '<store>' }];
  assert.equal(publicMessage('no image "x" in /srv/nv/images', paths, false), 'no image "x" in <store>');
  assert.equal(publicMessage('route /api/v1 is already served', paths, false), 'route /api/v1 is already served');
  assert.equal(publicMessage('cannot read /etc/nanovisor/x.conf: EACCES', paths, true), 'cannot read <path>: EACCES');
  assert.equal(publicMessage('write "/srv/nv/nanovisor.db" failed', paths, true), 'write "<data>/nanovisor.db" failed');
});
