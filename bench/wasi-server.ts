/**
 * Long-running wasi server apps (docs/server-apps.md) against their peers in the same run,
 * on the C server test/guests/c/http_server.c:
 *   - wake from zero through the whole daemon (gateway + one shard, real sockets): a request
 *     to an instance asleep after its idle timeout, client-measured to its full response;
 *   - the same wake in process (ServerVm: restore + rewind + serve), and its parts;
 *   - cold start of the same program (a fresh VM booted until it waits in sock_accept, then
 *     the request), with no start-up cost and with 20 ms of its own start-up;
 *   - an awake instance: latency and requests/s through the daemon, against the same source
 *     compiled natively (bench/peers/native-wasi shims the few WASI calls onto POSIX).
 *
 * `node bench/wasi-server.ts [--rounds N] [--shards N] [--json FILE]` (default bench/results/wasi-server.json).
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon } from '../src/cli/commands/serve.ts';
import { prepareSnapshot } from '../src/host/prepare.ts';
import { asyncifyServer, loadServerTools } from '../src/host/server/asyncify.ts';
import { serverModule } from '../src/host/server/server-table.ts';
import { ServerVm } from '../src/host/server/server-vm.ts';
import { extractSnapshot } from '../src/host/snapshot/transform.ts';
import { ImageStore, buildImageAsync } from '../src/image/index.ts';
import { formatTable, summarize, type Row } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const rounds = Number(flag('--rounds') ?? 40);
/** Shards of the daemon part (0: the VMs in the daemon's own process). */
const shards = Number(flag('--shards') ?? 1);
const jsonOut = flag('--json') ?? join(root, 'bench', 'results', 'wasi-server.json');
const work = mkdtempSync(join(tmpdir(), 'nv-bench-wsrv-'));
const wasm = join(root, 'build', 'guests', 'c', 'http_server.wasm');
const enc = new TextEncoder();
const req = (path: string) => enc.encode(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Request-Id: b\r\n\r\n`);
const limits = { timeoutMs: 5000, maxResponseBytes: 1 << 20 };
const rows: Row[] = [];
const us = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1000;

/** One GET, its full body read; ms. */
function get(url: string, agent?: Agent): Promise<{ ms: number; status: number; body: string }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const r = request(url, agent === undefined ? {} : { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

/** Requests/s with `concurrency` clients in a loop for `seconds`. */
async function throughput(url: string, concurrency: number, seconds: number, keepAlive: boolean): Promise<number> {
  const agent = new Agent({ keepAlive, maxSockets: concurrency });
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const r = await get(url, agent);
      if (r.status !== 200) throw new Error(`status ${r.status}: ${r.body}`);
      done++;
    }
  }));
  agent.destroy();
  return done / seconds;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

try {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-guests.ts'), 'c/http_server'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await loadServerTools();

  // --- In process: the VM alone.
  const sealed = extractSnapshot(asyncifyServer(new Uint8Array(readFileSync(wasm))));
  const prepared = prepareSnapshot(sealed.module, sealed.snapshot, 64 * 1024 * 1024);
  const mod = serverModule(prepared);
  const vm = new ServerVm(mod, { args: ['srv'], readyTimeoutMs: 5000 });
  await vm.start();
  for (let i = 0; i < 200; i++) await vm.exchange(req('/count'), limits);
  const awakeUs: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = process.hrtime.bigint();
    await vm.exchange(req('/peek'), limits);
    awakeUs.push(us(t));
  }
  const wakeUs: number[] = [];
  const restoreUs: number[] = [];
  const sleepUs: number[] = [];
  // An answer is complete when the guest closes the connection; it parks a moment later.
  const parked = async (): Promise<void> => {
    while (vm.state !== 'parked') await new Promise((r) => setImmediate(r));
  };
  for (let i = 0; i < rounds * 5; i++) {
    await parked();
    let t = process.hrtime.bigint();
    if (!vm.sleep()) throw new Error(`sleep refused in state ${vm.state}`);
    sleepUs.push(us(t));
    t = process.hrtime.bigint();
    await vm.exchange(req('/peek'), limits);
    wakeUs.push(us(t));
    await parked();
    vm.sleep();
    t = process.hrtime.bigint();
    vm.restore();
    restoreUs.push(us(t));
  }
  const checkpointBytes = vm.counters.checkpointBytes;
  vm.stop();
  const cold = async (startupMs: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t = process.hrtime.bigint();
      const v = new ServerVm(mod, { args: startupMs === 0 ? ['srv'] : ['srv', String(startupMs)], readyTimeoutMs: 5000 });
      await v.start();
      await v.exchange(req('/peek'), limits);
      out.push(us(t));
      v.stop();
    }
    return out;
  };
  const cold0 = await cold(0);
  const cold20 = await cold(20);
  rows.push({ group: 'wasi server, in process', name: 'awake: one request (exchange: rewind, serve, park)', unit: 'µs', summary: summarize(awakeUs) });
  rows.push({ group: 'wasi server, in process', name: `wake from zero: restore the checkpoint (${checkpointBytes} bytes) + serve`, unit: 'µs', summary: summarize(wakeUs) });
  rows.push({ group: 'wasi server, in process', name: '  of which restore (memory + instantiate + globals)', unit: 'µs', summary: summarize(restoreUs) });
  rows.push({ group: 'wasi server, in process', name: 'sleep: checkpoint (non-zero runs + globals), drop the VM', unit: 'µs', summary: summarize(sleepUs) });
  rows.push({ group: 'wasi server, in process', name: 'cold start: fresh VM until it waits in sock_accept + serve', unit: 'µs', summary: summarize(cold0) });
  rows.push({ group: 'wasi server, in process', name: 'cold start, the program spending 20 ms on its own start-up', unit: 'µs', summary: summarize(cold20) });

  // --- Through the daemon: gateway, one shard, real sockets.
  const dir = join(work, 'app');
  mkdirSync(dir, { recursive: true });
  copyFileSync(wasm, join(dir, 'server.wasm'));
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ name: 'srv', module: 'server.wasm', server: { idleTimeoutMs: 30 } }));
  const store = ImageStore.open(join(work, 'store'));
  const { digest } = await buildImageAsync({ dir, store });
  store.export(digest, join(work, 'srv.tar'));
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ name: 'awake', module: 'server.wasm', server: {} }));
  const awakeImage = await buildImageAsync({ dir, store });
  store.export(awakeImage.digest, join(work, 'awake.tar'));
  const data = join(work, 'data');
  const d = await startDaemon({ dataDir: data, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 1000, shards, log: () => {} });
  const token = readFileSync(d.tokenFile, 'utf8').trim();
  const api = async (method: string, path: string, body?: unknown, tar?: string): Promise<any> => {
    const r = await fetch(`${d.apiUrl}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': tar === undefined ? 'application/json' : 'application/x-tar' },
      ...(tar !== undefined ? { body: readFileSync(tar) } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const echo = execFileSync('tar', ['-C', join(root, 'build', 'examples', 'cgi-echo-c'), '-cf', join(work, 'echo-src.tar'), '.']);
  void echo;
  {
    const r = await fetch(`${d.apiUrl}/v1/images/build`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar' }, body: readFileSync(join(work, 'echo-src.tar')) });
    const built = await r.json() as { digest: string };
    await api('POST', '/v1/apps', { name: 'echo', routes: [{ path: '/echo' }] });
    await api('POST', '/v1/apps/echo/versions', { image: built.digest });
  }
  for (const [name, tar] of [['srv', 'srv.tar'], ['awake', 'awake.tar']] as const) {
    await api('POST', '/v1/apps', { name, routes: [{ path: `/${name}` }] });
    const up = await api('POST', '/v1/images', undefined, join(work, tar));
    await api('POST', `/v1/apps/${name}/versions`, { image: up.digest });
  }
  const wakeMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await sleep(120);
    const before = (await api('GET', '/v1/apps/srv')).instance;
    if (before?.state !== 'asleep') throw new Error(`the instance is ${before?.state}, not asleep`);
    const r = await get(`${d.gatewayUrl}/srv/peek`);
    if (r.status !== 200) throw new Error(`wake: ${r.status} ${r.body}`);
    wakeMs.push(r.ms);
  }
  // The peer of a wake: the same pause, the same fresh connection, to an instance that stays awake.
  const pausedMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await sleep(120);
    pausedMs.push((await get(`${d.gatewayUrl}/awake/peek`)).ms);
  }
  const awakeMs: number[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 200; i++) await get(`${d.gatewayUrl}/awake/peek`, agent);
  for (let i = 0; i < 1000; i++) awakeMs.push((await get(`${d.gatewayUrl}/awake/peek`, agent)).ms);
  const cgiMs: number[] = [];
  for (let i = 0; i < 1000; i++) cgiMs.push((await get(`${d.gatewayUrl}/echo/x`, agent)).ms);
  agent.destroy();
  const daemonRps = await throughput(`${d.gatewayUrl}/awake/peek`, 16, 4, true);
  await d.close();
  rows.push({ group: `wasi server, daemon (${shards} shard${shards === 1 ? '' : 's'})`, name: 'wake from zero: request to an asleep instance -> full response', unit: 'ms', summary: summarize(wakeMs) });
  rows.push({ group: `wasi server, daemon (${shards} shard${shards === 1 ? '' : 's'})`, name: 'peer: awake instance, same 120 ms pause and new connection', unit: 'ms', summary: summarize(pausedMs) });
  rows.push({ group: `wasi server, daemon (${shards} shard${shards === 1 ? '' : 's'})`, name: 'awake instance: one request (keep-alive client)', unit: 'ms', summary: summarize(awakeMs) });
  rows.push({ group: `wasi server, daemon (${shards} shard${shards === 1 ? '' : 's'})`, name: 'peer: CGI echo, a fresh VM per request, same daemon', unit: 'ms', summary: summarize(cgiMs) });

  // --- The same program natively.
  const native = join(work, 'native-http');
  execFileSync('gcc', ['-O2', '-I', join(root, 'bench', 'peers', 'native-wasi'), '-o', native, join(root, 'test', 'guests', 'c', 'http_server.c')]);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(native, [], { env: { NV_PORT: String(port) }, stdio: 'ignore' });
  await sleep(200);
  const nativeMs: number[] = [];
  for (let i = 0; i < 200; i++) await get(`http://127.0.0.1:${port}/peek`);
  for (let i = 0; i < 1000; i++) nativeMs.push((await get(`http://127.0.0.1:${port}/peek`)).ms);
  const nativeRps = await throughput(`http://127.0.0.1:${port}/peek`, 16, 4, false);
  child.kill();
  rows.push({ group: 'native peer', name: 'the same C source natively: one request (a connection each)', unit: 'ms', summary: summarize(nativeMs) });

  const rps = (name: string, v: number): Row => ({ group: 'requests/s (16 clients, 4 s)', name, unit: 'req/s', summary: summarize([v]) });
  rows.push(rps('wasi server awake, through the daemon (gateway + shard)', daemonRps));
  rows.push(rps('the same program natively, direct (no gateway)', nativeRps));
  process.stdout.write(formatTable(rows));
  const ratio = (a: number[], b: number[]) => summarize(a).median / summarize(b).median;
  process.stdout.write(`\nwake from zero (daemon) / awake after the same pause (daemon): ${ratio(wakeMs, pausedMs).toFixed(2)}x\n`);
  process.stdout.write(`cold start in process / wake in process: ${ratio(cold0, wakeUs).toFixed(1)}x (with 20 ms start-up: ${ratio(cold20, wakeUs).toFixed(1)}x)\n`);
  process.stdout.write(`requests/s daemon / native: ${(daemonRps / nativeRps).toFixed(2)}x\n`);
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, loadavg: loadavg(), rows }, null, 2));
} finally {
  rmSync(work, { recursive: true, force: true });
}
