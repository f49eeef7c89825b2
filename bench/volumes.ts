/**
 * Volume benchmarks (docs/volumes.md, docs/performance.md); nothing here asserts a speed.
 *
 * - counter, exclusive: requests/s and latency of POST to the counter example (read, write
 *   in place, fsync per request) on an exclusive volume through `serve` on 2 shards, beside
 *   the same C source built natively with gcc and run as a process per request behind a Node
 *   HTTP server that admits one process at a time (the same guarantee).
 * - read-only, shared: GET of the counter on a shared volume mounted read-only (concurrent
 *   VMs), beside the native process per request without the one-at-a-time rule.
 * - admission: what the exclusive admission adds per request, measured where it runs (the
 *   primary): taking and giving back the volume (VolumeLocks) plus the quota share
 *   (VolumeQuotas.reserve/settle) of a one-file volume, in µs.
 *
 * Knobs: BENCH_VOL_REQUESTS (400 per target), BENCH_VOL_CLIENTS (16). Run alone:
 *   node --no-warnings bench/volumes.ts [--json FILE]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDaemon } from '../src/cli/commands/serve.ts';
import { VolumeLocks } from '../src/gateway/concurrency.ts';
import { VolumeQuotas } from '../src/gateway/volume-quotas.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { root } from './peers/common.ts';
import { formatTable, sampleMicros, summarize, type Row } from './stats.ts';

const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const REQUESTS = num('BENCH_VOL_REQUESTS', 400);
const CLIENTS = num('BENCH_VOL_CLIENTS', 16);

/** `REQUESTS` requests from `CLIENTS` clients at once; latency per request (ms) and requests/s. */
async function load(port: number, method: string, path: string): Promise<{ latencies: number[]; perSecond: number; failed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const one = (): Promise<void> => new Promise((resolve) => {
    const t = performance.now();
    const req = request({ host: '127.0.0.1', port, path, method, agent, headers: { 'content-length': '0' } }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) failed++;
        latencies.push(performance.now() - t);
        resolve();
      });
    });
    req.on('error', () => {
      failed++;
      resolve();
    });
    req.end();
  });
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next++ < REQUESTS) await one();
  }));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { latencies, perSecond: REQUESTS / seconds, failed };
}

/** The native peer: a Node HTTP server running the gcc build once per request (CGI), one at a time when `exclusive`. */
async function nativeServer(binary: string, file: string, exclusive: boolean): Promise<{ port: number; close: () => Promise<void> }> {
  let queue: Promise<void> = Promise.resolve();
  const runOnce = (method: string): Promise<string> => new Promise((resolve) => {
    const child = spawn(binary, [], { env: { REQUEST_METHOD: method, COUNTER_FILE: file }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('close', () => resolve(out));
  });
  const server = createServer((req, res) => {
    req.resume();
    const run = (): Promise<void> => runOnce(req.method ?? 'GET').then((out) => {
      const body = out.slice(out.indexOf('\r\n\r\n') + 4);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    if (exclusive) queue = queue.then(run);
    else void run();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

function rows(group: string, name: string, r: { latencies: number[]; perSecond: number; failed: number }, note: string): Row[] {
  return [
    { group, name: `${name}: latency`, unit: 'ms', summary: summarize(r.latencies), note: `${REQUESTS} requests, ${CLIENTS} clients${r.failed > 0 ? `, ${r.failed} failed` : ''}` },
    { group, name: `${name}: throughput`, unit: 'req/s', summary: summarize([r.perSecond]), note },
  ];
}

export async function volumesBench(): Promise<Row[]> {
  const work = mkdtempSync(join(tmpdir(), 'nv-bench-vol-'));
  const out: Row[] = [];
  try {
    // The native peer, from the same source.
    const native = join(work, 'counter-native');
    execFileSync('gcc', ['-O2', '-o', native, join(root, 'examples', 'counter-c', 'main.c')]);
    const nativeFile = join(work, 'native', 'counter');
    mkdirSync(dirname(nativeFile));
    writeFileSync(nativeFile, '0\n');

    const data = join(work, 'data');
    const d = await startDaemon({ dataDir: data, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, shards: 2 });
    try {
      buildImage({ dir: join(root, 'build', 'examples', 'counter-c'), store: ImageStore.openHome(data) });
      const c = d.control;
      c.execute({ kind: 'CreateVolume', input: { name: 'excl', access: 'exclusive' } });
      c.execute({ kind: 'CreateVolume', input: { name: 'shared' } });
      writeFileSync(join(data, 'volumes', 'shared', 'counter'), '7\n');
      const limits = { concurrency: 64, queue: 10_000 };
      await c.perform({ kind: 'CreateApp', input: { name: 'excl', routes: [{ path: '/excl' }], limits, volumes: [{ volume: 'excl', guest: '/data' }] } });
      await c.perform({ kind: 'DeployVersion', app: 'excl', image: 'counter-c:latest' });
      await c.perform({ kind: 'CreateApp', input: { name: 'ro', routes: [{ path: '/ro' }], limits, volumes: [{ volume: 'shared', guest: '/data', readonly: true }] } });
      await c.perform({ kind: 'DeployVersion', app: 'ro', image: 'counter-c:latest' });
      const port = Number(new URL(d.gatewayUrl).port);
      await load(port, 'POST', '/excl'); // warm-up: compiled, pooled
      const vmExcl = await load(port, 'POST', '/excl');
      const peerExcl = await nativeServer(native, nativeFile, true);
      const natExcl = await load(peerExcl.port, 'POST', '/');
      await peerExcl.close();
      out.push(...rows('volume counter (write+fsync)', 'nanovisor serve, exclusive volume, 2 shards', vmExcl, `ratio to native: ${(vmExcl.perSecond / natExcl.perSecond).toFixed(2)}x`));
      out.push(...rows('volume counter (write+fsync)', 'native gcc, process per request, one at a time', natExcl, 'peer'));
      await load(port, 'GET', '/ro');
      const vmRo = await load(port, 'GET', '/ro');
      const peerRo = await nativeServer(native, nativeFile, false);
      const natRo = await load(peerRo.port, 'GET', '/');
      await peerRo.close();
      out.push(...rows('volume read (shared, read-only)', 'nanovisor serve, shared volume, 2 shards', vmRo, `ratio to native: ${(vmRo.perSecond / natRo.perSecond).toFixed(2)}x`));
      out.push(...rows('volume read (shared, read-only)', 'native gcc, process per request, concurrent', natRo, 'peer'));
    } finally {
      await d.close();
    }

    // The exclusive admission itself, where it runs: lock + quota share + give back.
    const vol = join(work, 'one-file');
    mkdirSync(vol);
    writeFileSync(join(vol, 'counter'), '1\n');
    const locks = new VolumeLocks();
    const quotas = new VolumeQuotas();
    const mounts = [{ hostPath: vol, guestPath: '/data', readonly: false, volume: { name: 'v', quotaBytes: 1 << 30, quotaFiles: 100_000 } }];
    const result = { outcome: 'exit' as const, exitCode: 0, stdout: new Uint8Array(), stderr: new Uint8Array(), durationMs: 0, mounts: [{ guestPath: '/data', bytes: 0, files: 0, reads: 1, writes: 1, syncs: 1 }] };
    const admit = sampleMicros(() => {
      locks.acquire(['v']);
      const { shares } = quotas.reserve(mounts, ['v']);
      quotas.settle(shares, result);
      locks.release(['v']);
    }, 20_000);
    out.push({ group: 'volume admission', name: 'exclusive: lock + quota share + settle (uncontended)', unit: 'µs', summary: summarize(admit), note: 'per request, in the primary; goal <= 50 µs' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await volumesBench();
  console.log(formatTable(r));
  const args = process.argv.slice(2);
  const file = args.includes('--json') ? args[args.indexOf('--json') + 1]! : join(root, 'bench', 'results', 'volumes.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), requests: REQUESTS, clients: CLIENTS, rows: r }, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}
