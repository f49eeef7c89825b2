/**
 * The JS hello as a fresh Nano-VM per request (issue 9): a componentize-js wasi:http component
 * (bench/peers/hello-component.js) served by `nanovisor serve` on one shard, against workerd's
 * warm isolate on the same handler (bench/peers/hello-worker.js), in the same run; servers
 * pinned to CPU 0, wrk to CPU 1. Also, in this process: the boot of a pooled VM (the glue
 * instantiated, the engine's core instance from the pool), a whole VM per request, and the
 * bytes each reset copies back; the image size and the first-request latency of a new JS app.
 * Nothing here asserts a speed.
 *
 * Knobs: BENCH_JS_SECONDS per round (3), BENCH_JS_ROUNDS (3), BENCH_JS_CONNECTIONS (16),
 * BENCH_JS_VMS in-process VMs (300). BENCH_JS=0 makes `npm run bench` skip it.
 * Run alone: node --no-warnings bench/js-http.ts [--json FILE]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadComponentTools } from '../src/host/component/index.ts';
import { NanoVm, prepareModule } from '../src/host/index.ts';
import { ImageStore, buildImageAsync } from '../src/image/index.ts';
import { buildDir, nodeBin, peersDir, pinned, root, spawnOnSocket, type Spawned } from './peers/common.ts';
import { workerdArgs, workerdBin, workerdConfig } from './peers/workerd.ts';
import { runWrk, wrkAvailable, type WrkResult } from './peers/wrk.ts';
import { formatTable, summarize, type Row } from './stats.ts';

const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};

const G = 'JS hello, fresh VM per request';
const SERVER_CPU = 0;
const CLIENT_CPU = availableParallelism() > 1 ? 1 : 0;
const ANSWER = 'hello from js\n';

/** Builds bench/peers/hello-component.js with componentize-js when stale (~15-80 s). */
function helloComponent(): string {
  mkdirSync(buildDir, { recursive: true });
  const src = join(peersDir, 'hello-component.js');
  const out = join(buildDir, 'hello-component.wasm');
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    execFileSync(nodeBin, ['--no-warnings', join(root, 'scripts', 'component-guest.ts'), src, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return out;
}

function get(port: number, path: string): Promise<{ status: number; body: string; ms: number }> {
  const t = performance.now();
  return fetch(`http://127.0.0.1:${port}${path}`).then(async (r) => ({ status: r.status, body: await r.text(), ms: performance.now() - t }));
}

async function waitAnswer(name: string, s: Spawned, path: string): Promise<number> {
  for (let i = 0; i < 1200; i++) {
    try {
      const a = await get(s.port, path);
      if (a.status !== 200 || a.body !== ANSWER) throw new Error(`${name} answers ${a.status} ${JSON.stringify(a.body.slice(0, 100))}`);
      return performance.now();
    } catch (e) {
      if ((e as Error).message.includes('answers')) throw e;
      if (s.child.exitCode !== null) throw new Error(`${name} exited: ${s.stderr().slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${name} did not answer: ${s.stderr().slice(0, 500)}`);
}

interface Served { rounds: WrkResult[]; firstRequestMs?: number; readyMs: number; builtToReadyMs?: number }

async function serveLoad(name: string, start: () => Promise<Spawned & { spawnedAt?: number }>, path: string, onReady?: (s: Spawned) => Promise<void>): Promise<Served> {
  const s = await start();
  let builtAt: number | undefined;
  s.child.on('message', (m: { built?: boolean }) => { if (m.built === true) builtAt = performance.now(); });
  try {
    if (onReady !== undefined) await onReady(s);
    const spawnedAt = (s as { spawnedAt?: number }).spawnedAt ?? performance.now();
    const answeredAt = await waitAnswer(name, s, path);
    const first = await get(s.port, path);
    const rounds: WrkResult[] = [];
    const seconds = num('BENCH_JS_SECONDS', 3);
    const connections = num('BENCH_JS_CONNECTIONS', 16);
    await runWrk(s.port, { seconds: 1, connections, cpu: CLIENT_CPU, path }); // warm-up
    for (let i = 0; i < num('BENCH_JS_ROUNDS', 3); i++) rounds.push(await runWrk(s.port, { seconds, connections, cpu: CLIENT_CPU, path }));
    return { rounds, readyMs: answeredAt - spawnedAt, firstRequestMs: first.ms, ...(builtAt === undefined ? {} : { builtToReadyMs: answeredAt - builtAt }) };
  } finally {
    await s.stop();
  }
}

/** In this process: boot of a pooled VM, a whole VM per request, reset bytes per request. */
async function inProcess(wasm: Uint8Array): Promise<Row[]> {
  await loadComponentTools();
  const t0 = performance.now();
  const prepared = prepareModule(wasm);
  const prepareMs = performance.now() - t0;
  const env = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '/echo', PATH_INFO: '', X_RAW_PATH_INFO: '', QUERY_STRING: '', X_FULL_URL: 'http://127.0.0.1:8080/echo', HTTP_HOST: '127.0.0.1', CONTENT_LENGTH: '0', SERVER_PROTOCOL: 'HTTP/1.1' };
  const n = num('BENCH_JS_VMS', 300);
  const boot: number[] = [];
  const whole: number[] = [];
  const reset: number[] = [];
  const pool = prepared.component?.pool;
  for (let i = 0; i < n + 50; i++) {
    const t = process.hrtime.bigint();
    const vm = NanoVm.create(prepared, { env, timeoutMs: 10_000 });
    const booted = process.hrtime.bigint();
    const r = vm.run();
    const end = process.hrtime.bigint();
    if (r.outcome !== 'exit' || !Buffer.from(r.stdout).toString().endsWith(ANSWER)) throw new Error(`JS hello failed in process: ${r.outcome} ${Buffer.from(r.stderr).toString().slice(0, 300)}`);
    if (i < 50) continue; // warm-up (tier-up of the engine's hot code)
    boot.push(Number(booted - t) / 1000);
    whole.push(Number(end - t) / 1000);
    if (pool !== undefined) reset.push(pool.stats.lastResetBytes / 1024);
    await new Promise((res) => setImmediate(res));
  }
  let memoryNote = '';
  if (pool !== undefined) {
    const core = pool.acquire(undefined);
    memoryNote = `of a ${(core.memory.buffer.byteLength / 1048576).toFixed(1)} MiB memory`;
    pool.release(core, true);
  }
  const mode = pool === undefined ? 'fresh instance per VM (no pool)' : 'pooled engine instance';
  return [
    { group: G, name: `in process: prepare the component (transpile, instrument, compile)`, unit: 'ms', summary: summarize([prepareMs]) },
    { group: G, name: `in process: boot (glue + ${mode})`, unit: 'µs', summary: summarize(boot) },
    { group: G, name: 'in process: whole VM (boot, handle, reset)', unit: 'µs', summary: summarize(whole), note: `${(1e6 / summarize(whole).median).toFixed(0)} VMs/s on one core` },
    ...(reset.length === 0 ? [] : [{ group: G, name: 'in process: bytes a reset copies back per request', unit: 'KiB', summary: summarize(reset), note: memoryNote }]),
  ];
}

export async function jsHttpBench(log: (l: string) => void = (l) => console.error(l)): Promise<Row[]> {
  const wasmPath = helloComponent();
  const wasm = new Uint8Array(readFileSync(wasmPath));
  const rows: Row[] = [];

  // Image size of a new JS app: `nanovisor build` of a directory with the component.
  const work = mkdtempSync(join(tmpdir(), 'nv-bench-js-'));
  try {
    const dir = join(work, 'app');
    mkdirSync(dir);
    copyFileSync(wasmPath, join(dir, 'app.wasm'));
    writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ name: 'hello-js', module: 'app.wasm' }));
    const t = performance.now();
    const built = await buildImageAsync({ dir, store: ImageStore.open(join(work, 'store')) });
    rows.push({ group: G, name: 'image of a new JS app (nanovisor build)', unit: 'MiB', summary: summarize([built.size / 1048576]), note: `component ${(wasm.byteLength / 1048576).toFixed(1)} MiB; build ${((performance.now() - t) / 1000).toFixed(1)} s` });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  log(`${G}: in process`);
  rows.push(...await inProcess(wasm));

  if (!wrkAvailable()) {
    log(`${G}: wrk not installed, skipping the served rows`);
    return rows;
  }
  log(`${G}: nanovisor serve (1 shard)`);
  const ours = await serveLoad('nanovisor serve', () => spawnOnSocket(...pinned(SERVER_CPU, nodeBin, ['--no-warnings', join(peersDir, 'serve-server.ts'), wasmPath]), { ipc: true, env: { ...process.env, NV_BENCH_SHARDS: '1' } }), '/echo');
  log(`${G}: workerd`);
  const peer = await serveLoad('workerd', () => spawnOnSocket(...pinned(SERVER_CPU, workerdBin, workerdArgs(workerdConfig('hello-worker.js')))), '/');
  const rps = (s: Served) => summarize(s.rounds.map((r) => r.rps));
  const oursRps = rps(ours).median;
  const peerRps = rps(peer).median;
  const errors = (s: Served) => s.rounds.reduce((n, r) => n + r.errors, 0);
  rows.push(
    { group: G, name: 'nanovisor serve, 1 shard (fresh VM per request)', unit: 'req/s', summary: rps(ours), ratio: oursRps / peerRps, note: `vs workerd; goal >= 5,000 req/s and >= 0.25x; errors ${errors(ours)}` },
    { group: G, name: 'workerd, warm isolate (peer)', unit: 'req/s', summary: rps(peer), note: `errors ${errors(peer)}` },
    { group: G, name: 'nanovisor serve p50 / p99', unit: 'ms', summary: summarize(ours.rounds.map((r) => r.p50)), note: `p99 ${summarize(ours.rounds.map((r) => r.p99)).median.toFixed(2)} ms` },
    { group: G, name: 'workerd p50 / p99', unit: 'ms', summary: summarize(peer.rounds.map((r) => r.p50)), note: `p99 ${summarize(peer.rounds.map((r) => r.p99)).median.toFixed(2)} ms` },
    { group: G, name: 'new JS app: daemon start + deploy to first answer', unit: 'ms', summary: summarize([ours.readyMs]), note: `workerd start to first answer ${peer.readyMs.toFixed(0)} ms` },
    { group: G, name: 'new JS app: built image, daemon start + deploy to first answer', unit: 'ms', summary: summarize([ours.builtToReadyMs ?? NaN]), note: `nanovisor build in the daemon's home before it: ${((ours.readyMs - (ours.builtToReadyMs ?? NaN)) / 1000).toFixed(1)} s` },
    { group: G, name: 'new JS app: second request (first after the first VM)', unit: 'ms', summary: summarize([ours.firstRequestMs ?? NaN]), note: `workerd ${(peer.firstRequestMs ?? NaN).toFixed(2)} ms` },
  );
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const rows = await jsHttpBench();
  console.log(formatTable(rows));
  const out = args.includes('--json') ? args[args.indexOf('--json') + 1]! : join(root, 'bench', 'results', 'js-http.json');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), loadAverage: loadavg(), rows }, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}
