// Long-running wasi server apps end to end (docs/server-apps.md): the C program
// test/guests/c/http_server.c accepts on its preopened socket with sock_accept, built as an
// image with `server` in its manifest, uploaded (or built by the daemon) and deployed through the API of a real
// daemon on two shards, and served through the gateway over real sockets. It keeps state in
// its memory while awake, sleeps after its idle timeout (checkpointed on its shard), wakes
// on the next request, which waits buffered and is answered with the state it had; it is
// restarted after a crash; a spinning server is stopped at its time limit while the other
// apps keep serving.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { ImageStore, buildImageAsync } from '../src/image/index.ts';
import { tempDir } from '../src/image/testing.ts';

const root = new URL('..', import.meta.url).pathname;
const data = tempDir('nv-wsrv-');
const work = tempDir('nv-wsrv-work-');
let d: Daemon;
let token: string;
const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];

async function api(method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<{ status: number; json: any; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (raw !== undefined) headers['content-type'] = 'application/x-tar';
  const res = await fetch(`${d.apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

/** An image export of http_server with this manifest `server` and limits. */
async function serverImage(name: string, manifest: Record<string, unknown>): Promise<Uint8Array> {
  const dir = join(work.path, name);
  const store = ImageStore.open(join(work.path, 'store'));
  await import('node:fs').then((fs) => fs.mkdirSync(dir, { recursive: true }));
  copyFileSync(join(root, 'build/guests/c/http_server.wasm'), join(dir, 'server.wasm'));
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ name, module: 'server.wasm', ...manifest }));
  const { digest } = await buildImageAsync({ dir, store });
  store.export(digest, join(work.path, `${name}.tar`));
  return new Uint8Array(readFileSync(join(work.path, `${name}.tar`)));
}

async function deploy(name: string, route: string, tar: Uint8Array, limits?: Record<string, number>): Promise<void> {
  assert.equal((await api('POST', '/v1/apps', { name, routes: [{ path: route }], ...(limits === undefined ? {} : { limits }) })).status, 201);
  const up = await api('POST', '/v1/images', undefined, tar);
  assert.equal(up.status, 201, up.text);
  const v = await api('POST', `/v1/apps/${name}/versions`, { image: up.json.digest });
  assert.equal(v.status, 201, v.text);
}

async function get(path: string, init?: RequestInit): Promise<{ status: number; text: string; headers: Headers }> {
  const r = await fetch(`${d.gatewayUrl}${path}`, init);
  return { status: r.status, text: await r.text(), headers: r.headers };
}

async function metric(line: RegExp): Promise<number> {
  const m = line.exec((await api('GET', '/metrics')).text);
  return m === null ? 0 : Number(m[1]);
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

before(async () => {
  const counter = await serverImage('counter', { server: { idleTimeoutMs: 300 } });
  await serverImage('spinner', { server: {} });
  d = await startDaemon({ dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000, shards: 2, log: (level, msg, fields) => logs.push({ level, msg, ...(fields === undefined ? {} : { fields }) }) });
  token = readFileSync(d.tokenFile, 'utf8').trim();
  await deploy('counter', '/count', counter);
  // Built by the daemon from the app directory: its first server build loads Binaryen there.
  const built = await api('POST', '/v1/images/build', undefined, await tarOf(join(work.path, 'spinner')));
  assert.equal(built.status, 201, built.text);
  assert.equal((await api('POST', '/v1/apps', { name: 'spinner', routes: [{ path: '/spinner' }], limits: { timeoutMs: 1000 } })).status, 201);
  assert.equal((await api('POST', '/v1/apps/spinner/versions', { image: built.json.digest })).status, 201, 'spinner deploy');
  const echo = await api('POST', '/v1/images/build', undefined, await tarOf(join(root, 'build/examples/cgi-echo-c')));
  assert.equal(echo.status, 201, echo.text);
  assert.equal((await api('POST', '/v1/apps', { name: 'echo', routes: [{ path: '/echo' }] })).status, 201);
  assert.equal((await api('POST', '/v1/apps/echo/versions', { image: echo.json.digest })).status, 201);
});

async function tarOf(dir: string): Promise<Uint8Array> {
  const { execFileSync } = await import('node:child_process');
  return new Uint8Array(execFileSync('tar', ['-C', dir, '-cf', '-', '.']));
}

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
  work[Symbol.dispose]();
});

test('a wasi sock_accept server is served: state in its memory lasts across requests; the request id and body reach it', async () => {
  const a = await get('/count/peek');
  assert.equal(a.status, 200, a.text);
  const n = Number(/count=(\d+)/.exec(a.text)![1]);
  const b = await get('/count');
  assert.equal(b.text, `count=${n + 1} served=2 last=/count\n`);
  assert.equal(b.headers.get('x-seen-request-id'), b.headers.get('x-request-id'));
  const e = await get('/count/echo', { method: 'POST', body: 'hello server' });
  assert.equal(e.status, 200);
  assert.equal(e.text, 'hello server');
  const nap = await get('/count/nap?ms=30');
  assert.equal(nap.text, 'napped\n');
  const logs = await api('GET', '/v1/apps/counter/logs');
  assert.match(logs.text, new RegExp(b.headers.get('x-request-id')!));
});

test('after its idle timeout the instance sleeps; the next request wakes it and is served with the state it had', async () => {
  const before = await get('/count');
  const n = Number(/count=(\d+) served=(\d+)/.exec(before.text)![1]);
  const served = Number(/served=(\d+)/.exec(before.text)![1]);
  await until('the counter to sleep', async () => (await metric(/^nanovisor_server_instance_state\{app="counter",state="asleep"\} (\d+)$/m)) === 1);
  assert.ok(logs.some((l) => l.msg === 'server instance asleep' && l.fields?.['app'] === 'counter'));
  const asleep = await api('GET', '/v1/apps/counter');
  assert.equal(asleep.json.instance.state, 'asleep');
  const wakes = await metric(/^nanovisor_server_wakes_total\{app="counter"\} (\d+)$/m);
  // The waking request: buffered while the checkpoint is restored, then served by the same memory.
  const woken = await get('/count');
  assert.equal(woken.status, 200, woken.text);
  assert.equal(woken.text, `count=${n + 1} served=${served + 1} last=/count\n`);
  assert.equal(woken.headers.get('x-seen-request-id'), woken.headers.get('x-request-id'));
  assert.equal(await metric(/^nanovisor_server_wakes_total\{app="counter"\} (\d+)$/m), wakes + 1);
  assert.equal(await metric(/^nanovisor_server_instance_state\{app="counter",state="awake"\} (\d+)$/m), 1);
  const awake = await api('GET', '/v1/apps/counter');
  assert.equal(awake.json.instance.state, 'awake');
  assert.ok(awake.json.instance.wakes >= 1 && typeof awake.json.instance.lastWakeMs === 'number');
  // Asleep and woken again, several requests at once: all are served, none lost or doubled.
  await until('the counter to sleep again', async () => (await metric(/^nanovisor_server_instance_state\{app="counter",state="asleep"\} (\d+)$/m)) === 1);
  const burst = await Promise.all([1, 2, 3, 4].map(() => get('/count')));
  const counts = burst.map((r) => Number(/count=(\d+)/.exec(r.text)![1])).sort((x, y) => x - y);
  assert.deepEqual(counts, [n + 2, n + 3, n + 4, n + 5]);
});

test('a crashed server is logged and restarted with backoff (503 + Retry-After meanwhile); its memory starts over', async () => {
  assert.match((await get('/count')).text, /count=\d+/);
  const crash = await get('/count/crash');
  assert.ok(crash.status === 503 || crash.status === 502, `${crash.status} ${crash.text}`);
  let body = '';
  const seen = new Set<number>();
  await until('the counter to be back', async () => {
    const r = await get('/count');
    seen.add(r.status);
    if (r.status === 503) assert.equal(r.headers.get('retry-after'), '1');
    body = r.text;
    return r.status === 200;
  });
  assert.equal(body, 'count=1 served=1 last=/count\n', `statuses seen: ${[...seen].join(', ')}`);
  const crashed = logs.filter((l) => l.msg === 'server instance crashed: restarting it' && l.fields?.['app'] === 'counter');
  assert.equal(crashed.length, 1);
  assert.equal(crashed[0]!.fields?.['exitCode'], 3);
});

test('a server waiting in poll_oneoff (napping) holds no thread: the other apps serve meanwhile', async () => {
  let napped = false;
  const nap = get('/count/nap?ms=5000').then((r) => {
    napped = true;
    return r;
  });
  const others = await Promise.all([get('/spinner/peek'), get('/echo/x'), get('/spinner/peek'), get('/echo/y')]);
  assert.deepEqual(others.map((r) => r.status), [200, 200, 200, 200]);
  assert.equal(napped, false, 'the others waited for the napping server');
  assert.equal((await nap).text, 'napped\n');
});

test('a spinning server is stopped at its time limit (504) while the other apps keep serving; it comes back', async () => {
  const spin = get('/spinner/spin');
  const others = await Promise.all([get('/count/peek'), get('/echo/x?y=1')]);
  assert.deepEqual(others.map((r) => r.status), [200, 200]);
  const s = await spin;
  assert.equal(s.status, 504, s.text);
  await until('the spinner to be back', async () => (await get('/spinner/peek')).status === 200);
  assert.equal((await get('/spinner/count')).text, 'count=1 served=2 last=/spinner/count\n');
  assert.ok(logs.some((l) => l.msg === 'server instance crashed: restarting it' && l.fields?.['app'] === 'spinner' && l.fields?.['reason'] === 'timeout'));
});
