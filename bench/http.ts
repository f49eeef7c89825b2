/**
 * HTTP benchmarks: fresh-VM-per-request throughput and cold start of the nanovisor gateway,
 * with peers on the same echo workload in the same run (node:wasi with a new instance per
 * request, a new OS process per request, workerd with a warm isolate and as a fresh
 * process, gVisor runsc sandbox start). Benchmarks print numbers; nothing here asserts a
 * speed.
 *
 * Servers run as their own processes pinned to CPU 0; wrk runs pinned to CPU 1 (the machine
 * has two). Every peer is first checked to give the same echo answer byte for byte.
 *
 * Knobs (environment): BENCH_HTTP_SECONDS per round (3), BENCH_HTTP_ROUNDS (3),
 * BENCH_HTTP_CONNECTIONS (16), BENCH_COLD_TRIALS (20, in-process and per-request trials),
 * BENCH_COLD_PROCESS_TRIALS (8, trials that start a process or sandbox). BENCH_HTTP=0 makes
 * `npm run bench` skip these groups.
 * Run alone: node --no-warnings bench/http.ts [--json FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, summarize, type Row, type Summary } from './stats.ts';
import {
  buildDir, buildEcho, checkEcho, ECHO_ANSWER, httpOnce, nodeBin, peersDir, pinned, spawnOnSocket, waitForEcho, type Spawned,
} from './peers/common.ts';
import { runscEchoOnce, runscUnavailable, runscVersion } from './peers/runsc.ts';
import { workerdArgs, workerdBin, workerdConfig } from './peers/workerd.ts';
import { runWrk, wrkAvailable, type WrkResult } from './peers/wrk.ts';

export interface HttpBenchConfig {
  seconds: number;
  rounds: number;
  connections: number;
  coldTrials: number;
  coldProcessTrials: number;
}

const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};

export function httpConfigFromEnv(): HttpBenchConfig {
  return {
    seconds: num('BENCH_HTTP_SECONDS', 3),
    rounds: num('BENCH_HTTP_ROUNDS', 3),
    connections: num('BENCH_HTTP_CONNECTIONS', 16),
    coldTrials: num('BENCH_COLD_TRIALS', 20),
    coldProcessTrials: num('BENCH_COLD_PROCESS_TRIALS', 8),
  };
}

const SERVER_CPU = 0;
const CLIENT_CPU = availableParallelism() > 1 ? 1 : 0;
const EMPTY: Summary = summarize([]);

interface Peer {
  name: string;
  /** Why it cannot run here, if it cannot. */
  unavailable?: string;
  /** A variant of nanovisor (shown with its ratio, but not a peer in the cold-start group). */
  variant?: boolean;
  /** The server reports the gateway's time outside the VM over IPC (nanovisor-server.ts). */
  gatewayStats?: boolean;
  start: () => Promise<Spawned>;
}

function peers(echo: { wasm: string; native: string }): Peer[] {
  const node = (script: string, arg: string, flags: string[] = [], env: Record<string, string> = {}, ipc = false, pin = true) => () => {
    const argv = [...flags, join(peersDir, script), arg];
    const [cmd, args] = pin ? pinned(SERVER_CPU, nodeBin, argv) : [nodeBin, argv] as const;
    // Node's on-disk compile cache, as a deployed daemon would enable it (module.enableCompileCache).
    return spawnOnSocket(cmd, args, { ipc, env: { ...process.env, NODE_COMPILE_CACHE: join(buildDir, 'node-compile-cache'), ...env } });
  };
  const workerd = (): Promise<Spawned> => {
    const [cmd, args] = pinned(SERVER_CPU, workerdBin, workerdArgs(workerdConfig()));
    return spawnOnSocket(cmd, args);
  };
  return [
    { name: 'nanovisor gateway, fresh Nano-VM per request', start: node('nanovisor-server.ts', echo.wasm, [], {}, true), gatewayStats: true },
    {
      name: 'nanovisor gateway, same without a per-request time limit',
      start: node('nanovisor-server.ts', echo.wasm, [], { NV_BENCH_TIMEOUT: 'none' }),
      variant: true,
    },
    {
      name: 'nanovisor gateway alone, stub instead of a VM (HTTP + CGI ceiling)',
      start: node('nanovisor-server.ts', echo.wasm, [], { NV_BENCH_RUNNER: 'stub' }),
      variant: true,
    },
    {
      name: 'nanovisor serve (whole daemon: control plane, request log, metrics), guests on 1 shard, same core',
      start: node('serve-server.ts', echo.wasm, ['--no-warnings'], { NV_BENCH_SHARDS: '1' }),
      variant: true,
    },
    {
      name: 'nanovisor serve as users run it: one shard per core, not pinned (shares CPU 1 with wrk)',
      start: node('serve-server.ts', echo.wasm, ['--no-warnings'], {}, false, false),
      variant: true,
    },
    {
      name: 'nanovisor serve, guests in the daemon process (--shards 0): no shard hop',
      start: node('serve-server.ts', echo.wasm, ['--no-warnings'], { NV_BENCH_SHARDS: '0' }),
      variant: true,
    },
    { name: 'node:wasi, new WASI + Instance per request', start: node('node-wasi-server.ts', echo.wasm, ['--no-warnings']) },
    { name: 'new OS process per request (native echo, gcc)', start: node('process-server.ts', echo.native) },
    { name: 'workerd, warm isolate (JS echo)', start: workerd },
  ];
}

interface LoadResult { rounds: WrkResult[]; outsideVmUs?: number[] }

function askStats(s: Spawned): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no stats from the gateway')), 10_000);
    s.child.once('message', (m: { outsideVmUs?: number[] }) => {
      clearTimeout(timer);
      resolve(m.outsideVmUs ?? []);
    });
    s.child.send!({ stats: true });
  });
}

async function load(peer: Peer, cfg: HttpBenchConfig): Promise<LoadResult> {
  const s = await peer.start();
  try {
    await waitForEcho(peer.name, s.port, s);
    await runWrk(s.port, { seconds: 1, connections: cfg.connections, cpu: CLIENT_CPU });
    if (peer.gatewayStats) await askStats(s);
    const rounds: WrkResult[] = [];
    for (let i = 0; i < cfg.rounds; i++) rounds.push(await runWrk(s.port, { seconds: cfg.seconds, connections: cfg.connections, cpu: CLIENT_CPU }));
    const outsideVmUs = peer.gatewayStats ? await askStats(s) : undefined;
    await checkEcho(peer.name, s.port);
    return { rounds, ...(outsideVmUs === undefined ? {} : { outsideVmUs }) };
  } finally {
    await s.stop();
  }
}

/** Times spawn -> first full echo answer, the request waiting in the accept queue. */
async function freshProcess(start: () => Promise<Spawned & { spawnedAt?: number }>, trials: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < trials; i++) {
    const s = await start();
    try {
      const a = await httpOnce(s.port);
      const ms = performance.now() - s.spawnedAt!;
      if (a.status !== 200 || a.body !== ECHO_ANSWER) throw new Error(`bad echo: ${a.status} ${a.body.slice(0, 100)}; ${s.stderr().slice(0, 300)}`);
      out.push(ms);
    } finally {
      await s.stop();
    }
  }
  return out;
}

/**
 * nanovisor's cold start as the vision defines it: the first request to an app that has no
 * instance yet. A running gateway registers a new app (compiled at registration, bytes new
 * to the engine), then one request on a new connection is timed until its full answer.
 */
async function nanovisorNewApp(wasm: string, trials: number): Promise<{ firstRequest: number[]; withCompile: number[] }> {
  const [cmd, args] = pinned(SERVER_CPU, nodeBin, [join(peersDir, 'nanovisor-server.ts'), wasm]);
  const server = await spawnOnSocket(cmd, args, { ipc: true });
  const child = server.child;
  const replies: ((n: number) => void)[] = [];
  child.on('message', (m: { registered?: number }) => {
    if (typeof m.registered === 'number') replies.shift()?.(m.registered);
  });
  const register = (n: number) => new Promise<number>((resolve) => {
    replies.push(resolve);
    child.send({ register: n });
  });
  const firstRequest: number[] = [];
  const withCompile: number[] = [];
  try {
    await waitForEcho('nanovisor gateway', server.port, server);
    for (let i = 0; i < 3; i++) await checkEcho('nanovisor gateway', server.port);
    for (let i = 0; i < trials; i++) {
      const t0 = performance.now();
      await register(i);
      const t1 = performance.now();
      const a = await httpOnce(server.port, `/cold-${i}/hello?name=world`);
      const t2 = performance.now();
      if (a.status !== 200 || a.body !== ECHO_ANSWER) throw new Error(`cold app ${i}: ${a.status} ${a.body.slice(0, 100)}`);
      firstRequest.push(t2 - t1);
      withCompile.push(t2 - t0);
    }
  } finally {
    await server.stop();
  }
  return { firstRequest, withCompile };
}

/** Sequential requests, each on a new connection, to a running server. */
async function requestsToRunning(peer: Peer, trials: number): Promise<number[]> {
  const s = await peer.start();
  try {
    await waitForEcho(peer.name, s.port, s);
    const out: number[] = [];
    for (let i = 0; i < trials; i++) {
      const t0 = performance.now();
      const a = await httpOnce(s.port);
      out.push(performance.now() - t0);
      if (a.status !== 200) throw new Error(`${peer.name}: status ${a.status}`);
    }
    return out;
  } finally {
    await s.stop();
  }
}

/** Keeps wrk's own reports (build/bench/wrk/) for a look at odd rounds. */
function saveRaw(peer: string, rounds: readonly WrkResult[]): void {
  const dir = join(buildDir, 'wrk');
  mkdirSync(dir, { recursive: true });
  const slug = peer.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  writeFileSync(join(dir, `${slug}.txt`), rounds.map((r, i) => `# round ${i + 1}\n${r.raw}`).join('\n'));
}

function unavailableRow(group: string, name: string, unit: string, reason: string): Row {
  return { group, name, unit, summary: EMPTY, note: `unavailable: ${reason}` };
}

function errMessage(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0]!.slice(0, 200);
}

/**
 * Runs the HTTP groups and returns their rows. Ratios: nanovisor's row is 1; a peer's
 * ratio says how far nanovisor is ahead of it (>1: nanovisor better) — nanovisor ÷ peer for
 * req/s, peer ÷ nanovisor for latencies.
 */
export async function httpBench(cfg: HttpBenchConfig = httpConfigFromEnv(), log: (line: string) => void = (l) => console.error(l)): Promise<Row[]> {
  const echo = buildEcho();
  const rows: Row[] = [];
  const list = peers(echo);

  // Fresh-VM-per-request throughput.
  const G = 'http echo';
  const noWrk = wrkAvailable() ? undefined : 'wrk is not installed (Debian package wrk; scripts/install.sh)';
  let ours: { rps: number; p50: number; p99: number } | undefined;
  for (const peer of list) {
    const base = `${peer.name}`;
    const reason = noWrk ?? peer.unavailable;
    if (reason !== undefined) {
      rows.push(unavailableRow(G, `${base}: throughput`, 'req/s', reason));
      continue;
    }
    log(`bench: load ${peer.name} (${cfg.rounds} x ${cfg.seconds} s, ${cfg.connections} connections; load average ${loadavg()[0]!.toFixed(2)})`);
    let result: LoadResult;
    try {
      result = await load(peer, cfg);
    } catch (e) {
      rows.push(unavailableRow(G, `${base}: throughput`, 'req/s', errMessage(e)));
      continue;
    }
    const rps = summarize(result.rounds.map((r) => r.rps));
    const p50 = summarize(result.rounds.map((r) => r.p50));
    const p99 = summarize(result.rounds.map((r) => r.p99));
    const requests = result.rounds.reduce((a, r) => a + r.requests, 0);
    const errors = result.rounds.reduce((a, r) => a + r.errors, 0);
    const stalled = result.rounds.filter((r) => r.requests === 0).length;
    saveRaw(peer.name, result.rounds);
    const isOurs = ours === undefined;
    if (isOurs) ours = { rps: rps.median, p50: p50.median, p99: p99.median };
    const o = ours!;
    const note = `${requests} requests, ${errors} errors${stalled > 0 ? `, ${stalled} round(s) with no answer at all` : ''}`;
    rows.push({ group: G, name: `${base}: throughput`, unit: 'req/s', summary: rps, ratio: isOurs ? 1 : o.rps / rps.median, note });
    rows.push({ group: G, name: `${base}: p50 latency`, unit: 'ms', summary: p50, ratio: isOurs ? 1 : p50.median / o.p50 });
    rows.push({ group: G, name: `${base}: p99 latency`, unit: 'ms', summary: p99, ratio: isOurs ? 1 : p99.median / o.p99 });
    if (result.outsideVmUs !== undefined && result.outsideVmUs.length > 0) {
      rows.push({
        group: G, name: `${base}: gateway time outside the VM`, unit: 'µs', summary: summarize(result.outsideVmUs),
        note: 'per request, handler start to response queued, minus boot+run (under load)',
      });
    }
  }

  // Cold start.
  const C = 'cold start';
  const [nv, wasi, proc, workerd] = list.filter((p) => p.variant !== true) as [Peer, Peer, Peer, Peer];
  let oursCold: number | undefined;
  let oursProcess: number | undefined;
  const add = (name: string, samples: () => Promise<number[]>, baseline: () => number | undefined, setBaseline?: (m: number) => void) => async () => {
    log(`bench: cold start: ${name}`);
    try {
      const s = summarize(await samples());
      const b = baseline();
      if (setBaseline) setBaseline(s.median);
      rows.push({ group: C, name, unit: 'ms', summary: s, ...(setBaseline ? { ratio: 1 } : b === undefined ? {} : { ratio: s.median / b }) });
    } catch (e) {
      rows.push(unavailableRow(C, name, 'ms', errMessage(e)));
    }
  };
  let withCompile: number[] = [];
  await add('nanovisor: first request to a newly registered app (running gateway)', async () => {
    const r = await nanovisorNewApp(echo.wasm, cfg.coldTrials);
    withCompile = r.withCompile;
    return r.firstRequest;
  }, () => undefined, (m) => (oursCold = m))();
  if (withCompile.length > 0) {
    const s = summarize(withCompile);
    rows.push({ group: C, name: 'nanovisor: register (compile) + first request', unit: 'ms', summary: s, note: 'compile is done once per deploy' });
  }
  let oursRunning: number | undefined;
  await add('nanovisor: one request to a running app (fresh VM, new connection)', () => requestsToRunning(nv, cfg.coldTrials), () => undefined, (m) => (oursRunning = m))();
  await add('node:wasi: one request to a running server (new instance)', () => requestsToRunning(wasi, cfg.coldTrials), () => oursRunning)();
  await add('new OS process per request: one request to a running server', () => requestsToRunning(proc, cfg.coldTrials), () => oursRunning)();
  await add('nanovisor: fresh gateway process, spawn to first echo', () => freshProcess(nv.start, cfg.coldProcessTrials), () => undefined, (m) => (oursProcess = m))();
  await add('node:wasi: fresh server process, spawn to first echo', () => freshProcess(wasi.start, cfg.coldProcessTrials), () => oursProcess)();
  await add('workerd: fresh process, spawn to first echo', () => freshProcess(workerd.start, cfg.coldProcessTrials), () => oursProcess)();
  const runscReason = runscUnavailable();
  const runscName = `gVisor ${runscVersion() || 'runsc'} (ptrace): sandbox start to echo via stdio`;
  if (runscReason !== undefined) rows.push(unavailableRow(C, runscName, 'ms', runscReason));
  else {
    await add(runscName, async () => {
      const out: number[] = [];
      for (let i = 0; i < cfg.coldProcessTrials; i++) out.push(await runscEchoOnce());
      return out;
    }, () => oursCold)();
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await httpBench();
  console.log(formatTable(rows));
  const i = process.argv.indexOf('--json');
  if (i !== -1 && process.argv[i + 1] !== undefined) {
    const report = { date: new Date().toISOString(), loadAverage: loadavg(), http: httpConfigFromEnv(), rows };
    writeFileSync(process.argv[i + 1]!, `${JSON.stringify(report, null, 2)}\n`);
  }
}
