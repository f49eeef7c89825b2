// Route methods through the daemon end to end over real sockets: an app created through the
// API with `routes[].methods` is stored with them, shown by the API, and the gateway answers
// another method with 405 and `Allow`; PATCH replaces them; a bad list is a 400 naming it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';

const GUEST = String.raw`
#include <stdio.h>
#include <stdlib.h>
int main(void) { printf("Content-Type: text/plain\n\nmethod=%s\n", getenv("REQUEST_METHOD")); return 0; }
`;

const data = tempDir('nv-routes-');
const work = tempDir('nv-routes-work-');
let d: Daemon;
let token: string;
let tar: Uint8Array;

async function api(method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<{ status: number; json: any; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (raw !== undefined) headers['content-type'] = 'application/x-tar';
  const res = await fetch(`${d.apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

before(async () => {
  const store = ImageStore.open(join(work.path, 'store'));
  writeTree(join(work.path, 'app'), { 'app.wasm': compileC(GUEST), 'nanovisor.json': JSON.stringify({ name: 'verbs', version: '1', module: 'app.wasm' }) });
  const { digest } = buildImage({ dir: join(work.path, 'app'), store });
  store.export(digest, join(work.path, 'app.tar'));
  tar = new Uint8Array(readFileSync(join(work.path, 'app.tar')));
  d = await startDaemon({ dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000 });
  token = readFileSync(d.tokenFile, 'utf8').trim();
});

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
  work[Symbol.dispose]();
});

test('routes[].methods: stored, shown, enforced by the gateway (405 + Allow), replaced by PATCH', async () => {
  const bad = await api('POST', '/v1/apps', { name: 'verbs', routes: [{ path: '/verbs', methods: [] }] });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /routes\[0\]\.methods: must list at least one method/);
  const bad2 = await api('POST', '/v1/apps', { name: 'verbs', routes: [{ path: '/verbs', methods: ['GET /x'] }] });
  assert.match(bad2.json.error.message, /routes\[0\]\.methods\[0\]: must be an HTTP method/);

  const created = await api('POST', '/v1/apps', { name: 'verbs', routes: [{ path: '/verbs', methods: ['get', 'POST', 'GET'] }] });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.json.routes, [{ path: '/verbs', methods: ['GET', 'POST'] }]);
  const up = await api('POST', '/v1/images', undefined, tar);
  assert.equal(up.status, 201, up.text);
  assert.equal((await api('POST', '/v1/apps/verbs/versions', { image: up.json.digest })).status, 201);

  const get = await fetch(`${d.gatewayUrl}/verbs/x`);
  assert.equal(get.status, 200);
  assert.equal(await get.text(), 'method=GET\n');
  const post = await fetch(`${d.gatewayUrl}/verbs`, { method: 'POST', body: 'x' });
  assert.equal(await post.text(), 'method=POST\n');
  const put = await fetch(`${d.gatewayUrl}/verbs`, { method: 'PUT', body: 'x' });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
  assert.ok(put.headers.get('x-request-id'));
  await put.text();

  const patched = await api('PATCH', '/v1/apps/verbs', { routes: [{ path: '/verbs', methods: ['PUT'] }] });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual((await api('GET', '/v1/apps/verbs')).json.routes, [{ path: '/verbs', methods: ['PUT'] }]);
  const put2 = await fetch(`${d.gatewayUrl}/verbs`, { method: 'PUT', body: 'x' });
  assert.equal(await put2.text(), 'method=PUT\n');
  const get2 = await fetch(`${d.gatewayUrl}/verbs`);
  assert.equal(get2.status, 405);
  assert.equal(get2.headers.get('allow'), 'PUT');
  await get2.text();

  // Without methods, every method again.
  await api('PATCH', '/v1/apps/verbs', { routes: [{ path: '/verbs' }] });
  const del = await fetch(`${d.gatewayUrl}/verbs`, { method: 'DELETE' });
  assert.equal(await del.text(), 'method=DELETE\n');
});
