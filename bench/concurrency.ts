/**
 * Concurrency benchmarks of the daemon (`nanovisor serve`, guests on host shards), each
 * with a peer or a baseline in the same run; nothing here asserts a speed.
 *
 * - sleeping guests: N requests in flight (default 1,000), each guest sleeping T ms (100) in
 *   poll_oneoff; requests/s against the ideal N/T, beside workerd and a bare Node server
 *   waiting on a timer. Servers pinned to CPU 0, wrk (N connections) to CPU 1.
 * - CPU-bound guest on 1 and 2 shards: runs/s of a guest doing a fixed loop, through the
 *   sharded host (no HTTP), and the ratio of 2 shards to 1.
 * - /healthz while every shard runs spinning guests: p50/p99 of sequential GET /healthz on
 *   the API, against the same daemon idle.
 *
 * Knobs: BENCH_CONC_INFLIGHT (1000), BENCH_CONC_SLEEP_MS (100), BENCH_CONC_SECONDS (4),
 * BENCH_HEALTH_SAMPLES (400). Run alone: node --no-warnings bench/concurrency.ts
 */
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShardedHost } from '../src/host/index.ts';
import { nodeBin, peersDir, pinned, root, spawnOnSocket, type Spawned } from './peers/common.ts';
import { workerdArgs, workerdBin, workerdConfig } from './peers/workerd.ts';
import { runWrk, wrkAvailable } from './peers/wrk.ts';
import { formatTable, summarize, type Row } from './stats.ts';

const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};

const WAIT_WASM = join(root, 'build', 'guests', 'c', 'cgi_wait.wasm');

function get(agent: Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitReady(port: number, path: string, s: Spawned): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  for (let i = 0; i < 400; i++) {
    try {
      if ((await get(agent, port, path)) === 200) return;
    } catch {
      // not listening yet
    }
    if (s.child.exitCode !== null) throw new Error(`server exited: ${s.stderr().slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server not ready: ${s.stderr().slice(0, 300)}`);
}

function daemon(env: Record<string, string>, cpu?: number): Promise<Spawned> {
  const args = ['--no-warnings', join(peersDir, 'serve-server.ts'), WAIT_WASM];
  const [cmd, argv] = cpu === undefined ? [nodeBin, args] : pinned(cpu, nodeBin, args);
  return spawnOnSocket(cmd, argv, { ipc: true, env: { ...process.env, ...env } });
}

function apiUrlOf(s: Spawned): Promise<string> {
  return new Promise((resolve) => s.child.once('message', (m: { api?: string }) => resolve(m.api!)));
}

async function sleepingGuests(log: (l: string) => void): Promise<Row[]> {
  const inflight = num('BENCH_CONC_INFLIGHT', 1000);
  const sleepMs = num('BENCH_CONC_SLEEP_MS', 100);
  const seconds = num('BENCH_CONC_SECONDS', 4);
  const ideal = inflight / (sleepMs / 1000);
  const G = `concurrency: ${inflight} in flight, each waiting ${sleepMs} ms`;
  const servers: Array<{ name: string; path: string; start: () => Promise<Spawned> }> = [
    { name: 'nanovisor serve (1 shard, 1 core), guest sleeping in poll_oneoff', path: `/echo?sleep=${sleepMs}`, start: () => daemon({ NV_BENCH_SHARDS: '1' }, 0) },
    { name: 'workerd, warm isolate awaiting a timer', path: `/sleep?sleep=${sleepMs}`, start: () => spawnOnSocket(...pinned(0, workerdBin, workerdArgs(workerdConfig()))) },
    { name: 'bare Node HTTP server waiting on a timer (no VM)', path: `/sleep?sleep=${sleepMs}`, start: () => spawnOnSocket(...pinned(0, nodeBin, [join(peersDir, 'sleep-server.ts')])) },
  ];
  const rows: Row[] = [];
  let ours: number | undefined;
  for (const s of servers) {
    log(`bench: ${G}: ${s.name}`);
    const server = await s.start();
    try {
      await waitReady(server.port, s.path, server);
      if (!wrkAvailable()) throw new Error('wrk is not installed (Debian package wrk; scripts/install.sh)');
      await runWrk(server.port, { seconds: 1, connections: Math.min(inflight, 100), cpu: 1, path: s.path });
      const rounds = [];
      for (let i = 0; i < 3; i++) rounds.push(await runWrk(server.port, { seconds, connections: inflight, cpu: 1, path: s.path }));
      const summary = summarize(rounds.map((r) => r.rps));
      ours ??= summary.median;
      const errors = rounds.reduce((a, r) => a + r.errors, 0);
      const p99 = summarize(rounds.map((r) => r.p99)).median;
      rows.push({
        group: G, name: `${s.name}: throughput`, unit: 'req/s', summary, ratio: ours / summary.median,
        note: `${(summary.median / ideal * 100).toFixed(0)}% of the ideal ${ideal.toFixed(0)}/s; p99 ${p99.toFixed(0)} ms; ${errors} errors (wrk, CPU 1)`,
      });
    } catch (e) {
      rows.push({ group: G, name: `${s.name}: throughput`, unit: 'req/s', summary: summarize([]), note: `unavailable: ${(e as Error).message.slice(0, 150)}` });
    } finally {
      await server.stop();
    }
  }
  return rows;
}

async function cpuBound(log: (l: string) => void): Promise<Row[]> {
  const G = 'CPU-bound guest (work=20: 20M loop iterations), sharded host, no HTTP';
  const rows: Row[] = [];
  let one: number | undefined;
  for (const shards of [1, 2]) {
    log(`bench: ${G}: ${shards} shard(s)`);
    const host = await ShardedHost.start({ shards, execArgv: ['--no-wasm-lazy-compilation'] });
    try {
      const h = await host.load({ module: new Uint8Array(readFileSync(WAIT_WASM)) });
      const runFor = async (seconds: number): Promise<number> => {
        const until = performance.now() + seconds * 1000;
        let runs = 0;
        const t0 = performance.now();
        await Promise.all(Array.from({ length: shards * 4 }, async () => {
          while (performance.now() < until) {
            const r = await host.run(h, { args: ['w', 'work=20'], timeoutMs: 10_000 });
            if (r.outcome !== 'exit') throw new Error(`guest ${r.outcome}`);
            runs++;
          }
        }));
        return runs / ((performance.now() - t0) / 1000);
      };
      await runFor(0.5);
      const samples = [await runFor(2), await runFor(2), await runFor(2)];
      const summary = summarize(samples);
      one ??= summary.median;
      rows.push({ group: G, name: `${shards} shard(s): runs/s`, unit: 'runs/s', summary, ratio: summary.median / one, note: shards === 1 ? 'baseline' : 'ratio: speed-up over 1 shard' });
    } finally {
      await host.close();
    }
  }
  return rows;
}

async function healthWhileSpinning(log: (l: string) => void): Promise<Row[]> {
  const G = 'GET /healthz p99 while every shard runs spinning guests';
  const samples = num('BENCH_HEALTH_SAMPLES', 400);
  const rows: Row[] = [];
  const server = await daemon({ NV_BENCH_SHARDS: '2', NV_BENCH_TIMEOUT_MS: '1000' });
  const api = await apiUrlOf(server);
  const apiPort = Number(new URL(api).port);
  try {
    await waitReady(server.port, '/echo?sleep=1', server);
    const measure = async (): Promise<number[]> => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const out: number[] = [];
      for (let i = 0; i < samples; i++) {
        const t0 = performance.now();
        await get(agent, apiPort, '/healthz');
        out.push(performance.now() - t0);
      }
      agent.destroy();
      return out;
    };
    log(`bench: ${G}: idle`);
    const idle = summarize(await measure());
    log(`bench: ${G}: 4 spinning guests in flight at all times`);
    let spinning = true;
    const spinAgent = new Agent({ keepAlive: true, maxSockets: 8 });
    const spinners = Array.from({ length: 4 }, async () => {
      while (spinning) await get(spinAgent, server.port, '/echo?spin=1').catch(() => 0);
    });
    await new Promise((r) => setTimeout(r, 200));
    const busy = summarize(await measure());
    spinning = false;
    await Promise.all(spinners);
    spinAgent.destroy();
    rows.push({ group: G, name: 'daemon idle: /healthz latency', unit: 'ms', summary: idle, note: `p99 ${idle.p99.toFixed(2)} ms` });
    rows.push({ group: G, name: 'every shard spinning: /healthz latency', unit: 'ms', summary: busy, ratio: busy.p99 / idle.p99, note: `p99 ${busy.p99.toFixed(2)} ms (ratio: p99 busy / idle)` });
  } finally {
    await server.stop();
  }
  return rows;
}

export async function concurrencyBench(log: (line: string) => void = (l) => console.error(l)): Promise<Row[]> {
  return [...await sleepingGuests(log), ...await cpuBound(log), ...await healthWhileSpinning(log)];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatTable(await concurrencyBench()));
}
