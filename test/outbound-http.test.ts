// Outbound HTTP through the daemon's switch (docs/components.md "Outbound HTTP",
// docs/security.md "Outbound HTTP"), end to end over real sockets: a componentize-js guest
// (test/guests/component/http_fetch.js) calls fetch(); the daemon runs it on a shard (which
// has no network: the call crosses to the daemon's switch) and reaches upstreams on 127.0.0.1
// only because the operator allowed 127.0.0.1/32. Refusals for a host not on the list, for
// loopback without the allowance, for a redirect to a refused address, for each cap; calls in
// the request log and metrics; a slow upstream does not stall another app on the same shard.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { ImageStore, buildImageAsync } from '../src/image/index.ts';
import { tempDir, writeTree } from '../src/image/testing.ts';
import { parseCidr } from '../src/switches/network/index.ts';
import { runCli } from '../src/cli/main.ts';
import { guestWasm } from './helpers.ts';

const FETCHER = guestWasm('component', 'http_fetch');
const ECHO = guestWasm('component', 'http_echo');

const data = tempDir('nv-outbound-');
const data2 = tempDir('nv-outbound2-');
const work = tempDir('nv-outbound-work-');
let d: Daemon;
let strict: Daemon;
let up: Server;
let other: Server;
let port: number;
let otherPort: number;
let otherHits = 0;
/** Resolves the /slow upstream response (the test releases it). */
let releaseSlow: () => void = () => {};
let slowArrived: () => void = () => {};
const slowSeen = new Promise<void>((r) => { slowArrived = r; });

async function api(daemon: Daemon, method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<{ status: number; text: string; json: any }> {
  const token = readFileSync(daemon.tokenFile, 'utf8').trim();
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (raw !== undefined) headers['content-type'] = 'application/x-tar';
  const res = await fetch(`${daemon.apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json };
}

async function app(dir: string, manifest: Record<string, unknown>, wasm: string): Promise<Uint8Array> {
  const store = ImageStore.open(join(work.path, 'home', 'images'));
  writeTree(join(work.path, dir), { 'nanovisor.json': JSON.stringify({ version: '1', module: 'app.wasm', ...manifest }) });
  copyFileSync(wasm, join(work.path, dir, 'app.wasm'));
  const img = await buildImageAsync({ dir: join(work.path, dir), store });
  store.export(img.digest, join(work.path, `${dir}.tar`));
  return new Uint8Array(readFileSync(join(work.path, `${dir}.tar`)));
}

async function deploy(daemon: Daemon, name: string, tar: Uint8Array): Promise<void> {
  assert.equal((await api(daemon, 'POST', '/v1/apps', { name, routes: [{ path: `/${name}` }] })).status, 201);
  const upload = await api(daemon, 'POST', '/v1/images', undefined, tar);
  assert.equal(upload.status, 201, upload.text);
  const v = await api(daemon, 'POST', `/v1/apps/${name}/versions`, { image: upload.json.digest });
  assert.equal(v.status, 201, v.text);
}

const get = (daemon: Daemon, app: string, path: string, target: string) =>
  fetch(`${daemon.gatewayUrl}/${app}${path}?url=${encodeURIComponent(target)}`).then(async (r) => ({ status: r.status, text: await r.text(), id: r.headers.get('x-request-id') }));

before(async () => {
  up = createServer((req, res) => {
    if (req.url === '/slow') {
      slowArrived();
      releaseSlow = () => res.end('slow done');
      return;
    }
    if (req.url === '/big') return void res.end('x'.repeat(10_000));
    if (req.url === '/redirect') return void res.writeHead(302, { location: `http://127.0.0.2:${otherPort}/inside` }).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`upstream saw ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`));
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  port = (up.address() as AddressInfo).port;
  // A second loopback address the operator did not allow: nothing may reach it.
  other = createServer((_req, res) => { otherHits++; res.end('inside'); });
  await new Promise<void>((r) => other.listen(0, '127.0.0.2', r));
  otherPort = (other.address() as AddressInfo).port;

  const allow = [`http://127.0.0.1:${port}`, 'http://*:*'];
  const fetcher = await app('fetcher', { name: 'fetcher', outbound: { allow, maxCalls: 3, maxBytes: 5000 } }, FETCHER);
  const closed = await app('closed', { name: 'closed' }, FETCHER);
  const echo = await app('js', { name: 'js' }, ECHO);
  // One shard, so the slow call and the other app share it.
  d = await startDaemon({ dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000, shards: 1, outbound: { allowNets: [parseCidr('127.0.0.1/32')] } });
  strict = await startDaemon({ dataDir: data2.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000, shards: 1 });
  await deploy(d, 'fetcher', fetcher);
  await deploy(d, 'closed', closed);
  await deploy(d, 'js', echo);
  await deploy(strict, 'fetcher', fetcher);
});

after(async () => {
  releaseSlow();
  await d?.close();
  await strict?.close();
  up.close();
  other.close();
  for (const t of [data, data2, work]) t[Symbol.dispose]();
});

test('an allowed call reaches the upstream on 127.0.0.1 (operator allowance), bodies both ways', async () => {
  const r = await get(d, 'fetcher', '/get', `http://127.0.0.1:${port}/hello?x=1`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, 'status 200: upstream saw GET /hello?x=1 ');
  const p = await fetch(`${d.gatewayUrl}/fetcher/post?url=${encodeURIComponent(`http://127.0.0.1:${port}/in`)}`, { method: 'POST', body: 'payload' });
  assert.equal(await p.text(), 'status 200: upstream saw POST /in payload');
});

test('refused: a host not on the list, an app with no outbound, loopback without the allowance', async () => {
  const notListed = await get(d, 'fetcher', '/get', `https://example.com/`);
  assert.equal(notListed.status, 502);
  assert.match(notListed.text, /refused: TypeError/);
  const closed = await get(d, 'closed', '/get', `http://127.0.0.1:${port}/`);
  assert.equal(closed.status, 502);
  const loop = await get(strict, 'fetcher', '/get', `http://127.0.0.1:${port}/never`);
  assert.equal(loop.status, 502);
  const logs = await api(strict, 'GET', '/v1/apps/fetcher/logs');
  const line = logs.text.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.requestId === loop.id);
  assert.equal(line.outbound[0].status, 'destination-IP-prohibited');
  assert.match(line.outbound[0].reason, /127\.0\.0\.1: loopback address/);
  const denied = (await api(d, 'GET', '/v1/apps/fetcher/logs')).text.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.requestId === notListed.id);
  assert.equal(denied.outbound[0].status, 'HTTP-request-denied');
  assert.equal(denied.outbound[0].destination, 'https://example.com:443');
  const closedLine = (await api(d, 'GET', '/v1/apps/closed/logs')).text.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.requestId === closed.id);
  assert.equal(closedLine.outbound[0].status, 'HTTP-request-denied');
});

test('a redirect to a refused address: the next hop is checked again and never reached', async () => {
  const r = await get(d, 'fetcher', '/follow', `http://127.0.0.1:${port}/redirect`);
  const line = (await api(d, 'GET', '/v1/apps/fetcher/logs')).text.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.requestId === r.id);
  assert.equal(line.outbound[0].status, 302);
  // The switch never follows a redirect; the guest does, and its second call is refused (127.0.0.2 is not allowed).
  assert.equal(r.status, 502, r.text);
  assert.equal(line.outbound[1].status, 'destination-IP-prohibited');
  assert.equal(line.outbound[1].host, '127.0.0.2');
  assert.equal(otherHits, 0);
});

test('caps: more calls than outbound.maxCalls, more bytes than outbound.maxBytes', async () => {
  const many = await get(d, 'fetcher', '/many', `http://127.0.0.1:${port}/n`);
  assert.equal(many.status, 200);
  const over = await fetch(`${d.gatewayUrl}/fetcher/many?n=4&url=${encodeURIComponent(`http://127.0.0.1:${port}/n`)}`);
  assert.equal(over.status, 502);
  assert.match(await over.text(), /^refused after 3:/);
  const big = await get(d, 'fetcher', '/get', `http://127.0.0.1:${port}/big`);
  assert.equal(big.status, 502);
  const line = (await api(d, 'GET', '/v1/apps/fetcher/logs')).text.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.requestId === big.id);
  assert.equal(line.outbound[0].status, 'HTTP-response-body-size');
  const overLine = (await api(d, 'GET', '/v1/apps/fetcher/logs')).text.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.requestId === over.headers.get('x-request-id'));
  assert.deepEqual(overLine.outbound.map((c: { status: unknown }) => c.status), [200, 200, 200, 'connection-limit-reached']);
});

test('calls are in the metrics by app, destination host and status', async () => {
  const m = await api(d, 'GET', '/metrics');
  assert.match(m.text, /nanovisor_outbound_requests_total\{app="fetcher",host="127\.0\.0\.1",status="200"\} [1-9]/);
  assert.match(m.text, /nanovisor_outbound_requests_total\{app="fetcher",host="example\.com",status="HTTP-request-denied"\} 1/);
});

test('a guest waiting on a slow upstream does not hold its shard: another app answers meanwhile', async () => {
  const slow = get(d, 'fetcher', '/get', `http://127.0.0.1:${port}/slow`);
  await slowSeen;
  // The fetcher's VM is suspended on the only shard; the echo app must still be served.
  const echo = await fetch(`${d.gatewayUrl}/js/hello`);
  assert.equal(echo.status, 200);
  assert.match(await echo.text(), /hello from js GET/);
  releaseSlow();
  const r = await slow;
  assert.equal(r.text, 'status 200: slow done');
});

test("the app config overrides the manifest's outbound (PATCH), null goes back to it, and each change is a version", async () => {
  const target = `http://127.0.0.1:${port}/via-config`;
  assert.equal((await get(d, 'closed', '/get', target)).status, 502);
  const patched = await api(d, 'PATCH', '/v1/apps/closed', { outbound: { allow: [`http://127.0.0.1:${port}`] } });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.json.outbound, { allow: [`http://127.0.0.1:${port}`], maxCalls: 16, maxBytes: 16 << 20 });
  const allowed = await get(d, 'closed', '/get', target);
  assert.equal(allowed.status, 200, allowed.text);
  assert.equal(allowed.text, 'status 200: upstream saw GET /via-config ');
  const versions = await api(d, 'GET', '/v1/apps/closed/versions');
  assert.ok(JSON.stringify(versions.json).includes('outbound: manifest -> '), versions.text);
  const bad = await api(d, 'PATCH', '/v1/apps/closed', { outbound: { allow: ['127.0.0.1'] } });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /outbound\.allow\[0\]/);
  assert.equal((await api(d, 'PATCH', '/v1/apps/closed', { outbound: null })).json.outbound, null);
  assert.equal((await get(d, 'closed', '/get', target)).status, 502);
});

test("nanovisor deploy --outbound sets the app's allowlist; a destination that is not one is a usage error", async () => {
  let err = '';
  const token = readFileSync(d.tokenFile, 'utf8').trim();
  const io = { stdout: () => {}, stderr: (t: string) => (err += t), cwd: work.path, env: { NANOVISOR_TOKEN: token }, stderrIsTTY: false };
  const deploy = (dest: string) => runCli(['deploy', 'closed:1', '--store', join(work.path, 'home'), '--server', d.apiUrl, '--outbound', dest], io);
  assert.equal(await deploy('api.example.com'), 2);
  assert.match(err, /NV_USAGE: --outbound "api\.example\.com": must be SCHEME:\/\/HOST/);
  err = '';
  assert.equal(await deploy(`http://127.0.0.1:${port}`), 0, err);
  assert.deepEqual((await api(d, 'GET', '/v1/apps/closed')).json.outbound.allow, [`http://127.0.0.1:${port}`]);
  const r = await get(d, 'closed', '/get', `http://127.0.0.1:${port}/cli`);
  assert.equal(r.text, 'status 200: upstream saw GET /cli ');
});

test('serve --outbound-allow-net takes address ranges; anything else is a usage error naming the flag', async () => {
  let err = '';
  const io = { stdout: () => {}, stderr: (t: string) => (err += t), cwd: work.path, env: {}, stderrIsTTY: false };
  for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '1.2.3.4/8/1']) {
    err = '';
    assert.equal(await runCli(['serve', '--data', join(work.path, 'unused'), '--outbound-allow-net', bad], io), 2);
    assert.match(err, /NV_USAGE: --outbound-allow-net/);
  }
  assert.deepEqual(parseCidr('127.0.0.1'), { text: '127.0.0.1', address: '127.0.0.1', prefix: 32, family: 'ipv4' });
});
