// `nanovisor serve` with many guests at once, over real sockets: guests that sleep overlap
// on the shards; the API and /healthz answer while every shard is busy with spinning
// guests; per-app concurrency and queue limits hold (503 + Retry-After); the live-VM gauge
// counts running VMs; a shard killed under load costs only its own requests (503 with a
// request id), comes back, and the API never notices.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { ShardedHost } from '../src/host/index.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { tempDir, writeTree } from '../src/image/testing.ts';
import { guestWasm } from './helpers.ts';

const data = tempDir('nv-serve-conc-');
const work = tempDir('nv-serve-conc-work-');
let d: Daemon;
let token: string;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${d.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

interface Answer { status: number; headers: Headers; text: string; at: number }

async function call(path: string): Promise<Answer> {
  const res = await fetch(`${d.gatewayUrl}${path}`);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, at: performance.now() };
}

/** The [start, end] (ns) a cgi_wait guest reports. */
function span(a: Answer): [number, number] {
  const [s, e] = a.text.trim().split(' ').map(Number);
  return [s!, e!];
}

async function deploy(name: string, limits: Record<string, number>, image = 'wait:latest'): Promise<void> {
  assert.equal((await api('POST', '/v1/apps', { name, routes: [{ path: `/${name}` }], limits })).status, 201);
  const r = await api('POST', `/v1/apps/${name}/versions`, { image });
  assert.equal(r.status, 201, JSON.stringify(r.json));
}

before(async () => {
  const dir = join(work.path, 'wait');
  writeTree(dir, { 'nanovisor.json': JSON.stringify({ name: 'wait', module: 'cgi_wait.wasm' }) });
  copyFileSync(guestWasm('c', 'cgi_wait'), join(dir, 'cgi_wait.wasm'));
  d = await startDaemon({ dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000, shards: 2 });
  buildImage({ dir, store: ImageStore.openHome(data.path) });
  const startSpin = join(work.path, 'start-spin');
  writeTree(startSpin, { 'nanovisor.json': JSON.stringify({ name: 'start-spin', module: 'start_spin.wasm' }) });
  copyFileSync(guestWasm('wat', 'start_spin'), join(startSpin, 'start_spin.wasm'));
  buildImage({ dir: startSpin, store: ImageStore.openHome(data.path) });
  token = readFileSync(d.tokenFile, 'utf8').trim();
  await deploy('sleepy', { timeoutMs: 10_000 });
  await deploy('spinner', { timeoutMs: 1500 });
  await deploy('single', { timeoutMs: 10_000, concurrency: 1, queue: 0 });
  await deploy('start-spin', { timeoutMs: 300 }, 'start-spin:latest');
});

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
  work[Symbol.dispose]();
});

test('16 requests to a guest sleeping 300 ms all wait at the same time', async () => {
  const answers = await Promise.all(Array.from({ length: 16 }, () => call('/sleepy?sleep=300')));
  for (const a of answers) assert.equal(a.status, 200, a.text);
  const spans = answers.map(span);
  assert.ok(Math.max(...spans.map((s) => s[0])) < Math.min(...spans.map((s) => s[1])), 'every guest started sleeping before any woke');
});

test('/healthz and the API answer while every shard runs spinning guests', async () => {
  const spinning = Array.from({ length: 4 }, () => call('/spinner?spin=1'));
  await new Promise((r) => setTimeout(r, 100));
  const health = await fetch(`${d.apiUrl}/healthz`).then(async (r) => ({ status: r.status, at: performance.now(), body: await r.json() }));
  const apps = await api('GET', '/v1/apps');
  const appsAt = performance.now();
  const spun = await Promise.all(spinning);
  assert.equal(health.status, 200);
  assert.equal(apps.status, 200);
  for (const s of spun) {
    assert.equal(s.status, 504, 'the spinner is stopped at its limit');
    assert.ok(s.headers.get('x-request-id'));
  }
  const firstSpinEnd = Math.min(...spun.map((s) => s.at));
  assert.ok(health.at < firstSpinEnd, '/healthz answered before any spinner was stopped');
  assert.ok(appsAt < firstSpinEnd, 'GET /v1/apps answered before any spinner was stopped');
});

test("a fast app's requests complete while every shard runs another app's spinning guests", async () => {
  const spinning = Array.from({ length: 6 }, () => call('/spinner?spin=1'));
  await new Promise((r) => setTimeout(r, 150));
  const fast = await Promise.all(Array.from({ length: 4 }, () => call('/sleepy?sleep=1')));
  const spun = await Promise.all(spinning);
  for (const f of fast) assert.equal(f.status, 200, f.text);
  for (const s of spun) assert.equal(s.status, 504);
  const lastFast = Math.max(...fast.map((f) => f.at));
  const firstSpinEnd = Math.min(...spun.map((s) => s.at));
  assert.ok(lastFast < firstSpinEnd, 'every fast request answered before any spinner reached its limit');
});

test('concurrency 1, queue 0: overflow is 503 with Retry-After; admitted runs never overlap', async () => {
  const answers = await Promise.all(Array.from({ length: 12 }, () => call('/single?sleep=100')));
  const ok = answers.filter((a) => a.status === 200);
  const refused = answers.filter((a) => a.status === 503);
  assert.ok(ok.length >= 1, 'at least one admitted');
  assert.ok(refused.length >= 1, 'some refused');
  assert.equal(ok.length + refused.length, answers.length);
  for (const r of refused) {
    assert.equal(r.headers.get('retry-after'), '1');
    assert.match(r.text, /concurrency limit of 1/);
    assert.ok(r.headers.get('x-request-id'));
  }
  const spans = ok.map(span).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], 'one VM of the app at a time');
});

test('the live-VM gauge counts the VMs running now', async () => {
  const running = Array.from({ length: 3 }, () => call('/sleepy?sleep=600'));
  await new Promise((r) => setTimeout(r, 200));
  const res = await fetch(`${d.apiUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  await Promise.all(running);
  const live = Number(/^nanovisor_vms_live (\d+)$/m.exec(text)?.[1]);
  assert.ok(live >= 3, `nanovisor_vms_live ${live}`);
});

test('a shard killed under load costs only its own requests, restarts, and the API never notices', async () => {
  const host = d.host as ShardedHost;
  const victim = host.supervisor.shards[0]!;
  const inFlight = Array.from({ length: 8 }, () => call('/sleepy?sleep=1500'));
  await new Promise((r) => setTimeout(r, 300));
  process.kill(victim.pid!, 'SIGKILL');
  const health = await fetch(`${d.apiUrl}/healthz`);
  assert.equal(health.status, 200);
  const answers = await Promise.all(inFlight);
  const failed = answers.filter((a) => a.status !== 200);
  assert.ok(failed.length >= 1 && failed.length < answers.length, `some requests were on the killed shard: ${answers.map((a) => a.status)}`);
  for (const f of failed) {
    assert.equal(f.status, 503);
    assert.match(f.text, /NV_HOST_SHARD_CRASHED/);
    assert.ok(f.headers.get('x-request-id'));
  }
  // It comes back with the apps loaded: soon every request succeeds again.
  for (let i = 0; i < 100 && host.supervisor.shards[0]!.state !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
  assert.notEqual(host.supervisor.shards[0]!.pid, victim.pid);
  const again = await Promise.all(Array.from({ length: 8 }, () => call('/sleepy?sleep=1')));
  assert.deepEqual(again.map((a) => a.status), Array(8).fill(200));
});

test('a module whose start section never returns is stopped at its limit, every time; other apps keep serving', async () => {
  const stuck = Array.from({ length: 4 }, () => call('/start-spin'));
  const fast = await call('/sleepy?sleep=1');
  assert.equal(fast.status, 200);
  for (const a of await Promise.all(stuck)) {
    assert.equal(a.status, 504, a.text);
    assert.match(a.text, /NV_GUEST_TIMEOUT/);
  }
});
