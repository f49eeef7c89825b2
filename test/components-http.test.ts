// wasi:http/proxy components under `serve` (docs/components.md): a JavaScript app built with
// componentize-js (test/guests/component/http_echo.js, built once by `npm run guests`) is
// uploaded, deployed and served by the daemon end to end over real sockets, on the default
// shards, a fresh Nano-VM per request; a CGI app keeps working beside it.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { NanoVm, prepareModule } from '../src/host/index.ts';
import { loadComponentTools } from '../src/host/component/index.ts';
import { requestFromCgi } from '../src/kernel/p2/index.ts';
import { ImageStore, buildImage, buildImageAsync } from '../src/image/index.ts';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';
import { guestWasm, loadWasm } from './helpers.ts';

const HTTP_ECHO = guestWasm('component', 'http_echo');
const CGI = String.raw`
#include <stdio.h>
int main(void) { printf("Content-Type: text/plain\n\ncgi still here\n"); return 0; }
`;

const data = tempDir('nv-p2http-');
const work = tempDir('nv-p2http-work-');
let d: Daemon;
let token: string;

async function api(method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (raw !== undefined) headers['content-type'] = 'application/x-tar';
  const res = await fetch(`${d.apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, json };
}

async function deploy(name: string, route: string, tar: Uint8Array): Promise<void> {
  assert.equal((await api('POST', '/v1/apps', { name, routes: [{ path: route }] })).status, 201);
  const up = await api('POST', '/v1/images', undefined, tar);
  assert.equal(up.status, 201, JSON.stringify(up.json));
  const v = await api('POST', `/v1/apps/${name}/versions`, { image: up.json.digest });
  assert.equal(v.status, 201, JSON.stringify(v.json));
}

before(async () => {
  const store = ImageStore.open(join(work.path, 'store'));
  writeTree(join(work.path, 'js'), { 'nanovisor.json': JSON.stringify({ name: 'jsecho', version: '1', module: 'app.wasm' }) });
  copyFileSync(HTTP_ECHO, join(work.path, 'js', 'app.wasm'));
  const js = await buildImageAsync({ dir: join(work.path, 'js'), store });
  store.export(js.digest, join(work.path, 'js.tar'));
  writeTree(join(work.path, 'cgi'), { 'app.wasm': compileC(CGI), 'nanovisor.json': JSON.stringify({ name: 'cgi', version: '1', module: 'app.wasm' }) });
  const cgi = buildImage({ dir: join(work.path, 'cgi'), store });
  store.export(cgi.digest, join(work.path, 'cgi.tar'));
  d = await startDaemon({ dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000 });
  token = readFileSync(d.tokenFile, 'utf8').trim();
  await deploy('jsecho', '/js', new Uint8Array(readFileSync(join(work.path, 'js.tar'))));
  await deploy('cgi', '/cgi', new Uint8Array(readFileSync(join(work.path, 'cgi.tar'))));
});

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
  work[Symbol.dispose]();
});

test('the CGI view of a request becomes the incoming-request (method, path with query, authority, headers)', () => {
  const head = requestFromCgi(['REQUEST_METHOD=PUT', 'SCRIPT_NAME=/api', 'PATH_INFO=/a b', 'X_RAW_PATH_INFO=/a%20b', 'QUERY_STRING=x=1', 'HTTP_HOST=example.test:8080',
    'HTTP_X_TRACE=abc', 'CONTENT_TYPE=text/plain', 'CONTENT_LENGTH=3', 'X_FULL_URL=https://example.test:8080/api/a%20b?x=1']);
  assert.deepEqual(head, {
    method: 'PUT', pathWithQuery: '/api/a%20b?x=1', scheme: 'https', authority: 'example.test:8080',
    headers: [['host', 'example.test:8080'], ['x-trace', 'abc'], ['content-type', 'text/plain'], ['content-length', '3']],
  });
});

test('a JS component answers through the gateway: method, path and query reach it', async () => {
  const r = await fetch(`${d.gatewayUrl}/js/hello?name=x`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/plain');
  assert.ok(r.headers.get('x-request-id'));
  assert.equal(await r.text(), 'hello from js GET /js/hello?name=x\n');
});

test('request bodies in, response bodies out; JSON; status and headers', async () => {
  const body = 'a'.repeat(5000);
  const e = await fetch(`${d.gatewayUrl}/js/echo`, { method: 'POST', body, headers: { 'content-type': 'text/x-test' } });
  assert.equal(e.status, 200);
  assert.equal(e.headers.get('x-echo-type'), 'text/x-test');
  assert.equal(e.headers.get('x-echo-length'), '5000');
  assert.equal(await e.text(), body);
  const j = await fetch(`${d.gatewayUrl}/js/json`, { headers: { 'user-agent': 'nv-test' } });
  assert.deepEqual(await j.json(), { ok: true, items: [1, 2, 3], agent: 'nv-test' });
  const s = await fetch(`${d.gatewayUrl}/js/status`);
  assert.equal(s.status, 404);
  assert.equal(s.headers.get('x-custom'), 'yes');
  assert.equal(await s.text(), 'nope\n');
  const big = await fetch(`${d.gatewayUrl}/js/big`);
  assert.equal((await big.arrayBuffer()).byteLength, 200 * 1024);
});

test('every request gets a fresh VM: the engine never sees a second request on one instance', async () => {
  const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => fetch(`${d.gatewayUrl}/js/hello?i=${i}`).then(async (r) => [r.status, await r.text()])));
  rs.forEach(([status, text], i) => {
    assert.equal(status, 200);
    assert.equal(text, `hello from js GET /js/hello?i=${i}\n`);
  });
});

test('outbound fetch is denied by default (HTTP-request-denied in the guest)', async () => {
  const r = await fetch(`${d.gatewayUrl}/js/fetch`);
  assert.equal(r.status, 502);
  assert.match(await r.text(), /fetch refused/);
});

test('CGI apps keep working beside components', async () => {
  const r = await fetch(`${d.gatewayUrl}/cgi`);
  assert.equal(await r.text(), 'cgi still here\n');
});

test('a component that never sets its response: the gateway answers 502, nothing crashes', async () => {
  await loadComponentTools();
  const p = prepareModule(loadWasm(HTTP_ECHO));
  // The request body stream is read past its end; the handler still answers.
  const r = NanoVm.create(p, { env: { REQUEST_METHOD: 'POST', SCRIPT_NAME: '', PATH_INFO: '/echo', X_RAW_PATH_INFO: '/echo', CONTENT_LENGTH: '0', HTTP_HOST: 'h' }, stdin: '' }).run();
  assert.equal(r.exitCode, 0);
  assert.match(Buffer.from(r.stdout).toString(), /^Status: 200\r\n/);
});
