/**
 * Start-up of whole processes (vision.md, "start-up"): a CLI command from spawn to exit, and
 * `nanovisor serve` from spawn to its first echo, in the same run as `node -e 0` on the same
 * Node 24 (the floor nothing written in JavaScript can beat) and a plain node:http echo server
 * to its first echo. The cases are interleaved round by round, so a load spike on this shared
 * machine hits them all alike; the ratios are the figures to compare across runs.
 *
 * Also measured, to show where the time went: the same commands on the .ts sources
 * (NANOVISOR_FROM_SOURCE=1: type stripping at every start), and through the system's older
 * Node relaunching Node 24 (how `nanovisor` started before bin/nanovisor).
 *
 * Before/after in one run: `--before DIR` names another checkout (e.g. `git worktree add DIR
 * <commit>`, with its node_modules and build/ linked and `npm run build` done there); its
 * `run hello-c`, `--version` and `serve` are interleaved with ours.
 *
 * Alone: `node bench/startup.ts [--rounds N] [--before DIR] [--json FILE]` (default
 * bench/results/startup.json); also part of `npm run bench` (BENCH_STARTUP=0 leaves it out).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatTable, summarize, type Row } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'nanovisor');
const G = 'start-up';

interface Case {
  name: string;
  /** Runs once; resolves to milliseconds. */
  once: () => Promise<number>;
  note?: string;
  baseline?: string;
}

/**
 * CPU time (user + system, all threads) of whole processes, read by a preloaded hook at each
 * one's exit, by case: on a loaded machine wall time mostly measures the queue for a core,
 * CPU time what the command itself costs.
 */
const cpuSamples = new Map<string, number[]>();
let cpuHook: string | undefined;

/** Spawn to exit, in ms; a non-zero exit is an error (the case is broken, not slow). With `cpuOf`, the process's CPU time goes to cpuSamples under that name. */
function wholeProcess(file: string, args: string[], env: NodeJS.ProcessEnv, cpuOf?: string): () => Promise<number> {
  return () => new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const report = cpuOf === undefined || cpuHook === undefined ? undefined : `${cpuHook}.${process.pid}.json`;
    if (report !== undefined) {
      rmSync(report, { force: true });
      env = { ...env, NODE_OPTIONS: `--import=${pathToFileURL(cpuHook!).href}`, NV_BENCH_REPORT: report };
    }
    const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (code === 0 && report !== undefined) {
        const list = cpuSamples.get(cpuOf!) ?? [];
        list.push((JSON.parse(readFileSync(report, 'utf8')) as { cpuMs: number }).cpuMs);
        cpuSamples.set(cpuOf!, list);
      }
      if (code === 0) resolve(ms);
      else reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${err.trim().split('\n')[0]}`));
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One POST of `body`; resolves to the response body, or undefined while nothing listens (or not yet 200). */
function post(port: number, path: string, body: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(res.statusCode === 200 ? text : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

/** Spawn of a server to the first full echo of `body` at `path`, in ms; then stops it and waits for its exit. */
function firstEcho(file: string, args: (port: number) => string[], env: NodeJS.ProcessEnv, path: string): () => Promise<number> {
  return async () => {
    const port = await freePort();
    const t = process.hrtime.bigint();
    const child = spawn(file, args(port), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let done = false;
    void exited.then(() => (done = true));
    try {
      for (;;) {
        if (done) throw new Error(`${file} exited before its first echo: ${err.trim().split('\n').slice(-2).join(' ')}`);
        const got = await post(port, path, 'hello');
        if (got !== undefined && got.includes('hello')) return Number(process.hrtime.bigint() - t) / 1e6;
        if (Number(process.hrtime.bigint() - t) / 1e6 > 30_000) throw new Error(`${file}: no echo within 30 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  };
}

/** A Node older than 24 on PATH outside node_modules (Debian's 20), if any. */
function olderNode(): string | undefined {
  for (const p of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(p)) continue;
    const v = spawnSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (Number(v.split('.')[0]) < 24) return p;
  }
  return undefined;
}

export async function startupBench(rounds = Number(process.env['BENCH_STARTUP_ROUNDS'] ?? 15), log: (line: string) => void = (l) => console.error(l), before?: string): Promise<Row[]> {
  const home = mkdtempSync(join(tmpdir(), 'nv-bench-startup-'));
  const env: NodeJS.ProcessEnv = { ...process.env, NANOVISOR_HOME: home, NANOVISOR_FROM_SOURCE: '' };
  const fromSource: NodeJS.ProcessEnv = { ...env, NANOVISOR_FROM_SOURCE: '1' };
  cpuHook = join(home, 'cpu-report.mjs');
  writeFileSync(cpuHook, `import { writeFileSync } from 'node:fs';
process.on('exit', () => { const u = process.cpuUsage(); writeFileSync(process.env.NV_BENCH_REPORT, JSON.stringify({ cpuMs: (u.user + u.system) / 1000 })); });
`);
  try {
    const { distIsCurrent } = await import('../bin/dist-freshness.js');
    if (!distIsCurrent(root)) {
      log('bench: dist/ is not current; building it (npm run build)');
      execFileSync(process.execPath, [join(root, 'scripts', 'build-dist.ts')], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    // The image to run, and a data dir whose first start (examples built and deployed) is behind it.
    execFileSync(bin, ['build', join(root, 'build', 'examples', 'hello-c')], { env, stdio: 'ignore' });
    const data = join(home, 'serve');
    mkdirSync(data);
    const serveArgs = (port: number) => ['serve', '--data', data, '--api', '127.0.0.1:0', '--listen', `127.0.0.1:${port}`];
    log('bench: start-up: first start of serve (deploys the examples)');
    await firstEcho(bin, serveArgs, env, '/echo-c')();
    // The other checkout gets its own store and data dir (its store format may differ).
    const beforeBin = before === undefined ? undefined : join(before, 'bin', 'nanovisor');
    const beforeHome = join(home, 'before');
    const beforeEnv: NodeJS.ProcessEnv = { ...env, NANOVISOR_HOME: beforeHome };
    const beforeData = join(beforeHome, 'serve');
    const beforeServe = (port: number) => ['serve', '--data', beforeData, '--api', '127.0.0.1:0', '--listen', `127.0.0.1:${port}`];
    if (beforeBin !== undefined) {
      mkdirSync(beforeData, { recursive: true });
      execFileSync(beforeBin, ['build', join(before!, 'build', 'examples', 'hello-c')], { env: beforeEnv, stdio: 'ignore' });
      log(`bench: start-up: first start of serve from ${before}`);
      await firstEcho(beforeBin, beforeServe, beforeEnv, '/echo-c')();
    }
    const beforeCases: Case[] = beforeBin === undefined ? [] : [
      { name: 'before: nanovisor --version', once: wholeProcess(beforeBin, ['--version'], beforeEnv, 'before: nanovisor --version, CPU'), baseline: 'node -e 0 (Node 24)', note: before },
      { name: 'before: nanovisor run hello-c', once: wholeProcess(beforeBin, ['run', 'hello-c'], beforeEnv, 'before: nanovisor run hello-c, CPU'), baseline: 'node -e 0 (Node 24)', note: before },
      { name: 'before: nanovisor serve: spawn to first echo', once: firstEcho(beforeBin, beforeServe, beforeEnv, '/echo-c'), baseline: 'node:http echo server: spawn to first echo', note: before },
    ];
    const old = olderNode();
    const node = process.execPath;
    const cases: Case[] = [
      { name: 'node -e 0 (Node 24)', once: wholeProcess(node, ['-e', '0'], env, 'node -e 0 (Node 24), CPU') },
      { name: 'nanovisor --version', once: wholeProcess(bin, ['--version'], env, 'nanovisor --version, CPU'), baseline: 'node -e 0 (Node 24)', note: 'goal <= 40 ms' },
      { name: 'nanovisor run hello-c', once: wholeProcess(bin, ['run', 'hello-c'], env, 'nanovisor run hello-c, CPU'), baseline: 'node -e 0 (Node 24)', note: 'goal <= 60 ms' },
      { name: 'nanovisor image ls', once: wholeProcess(bin, ['image', 'ls'], env), baseline: 'node -e 0 (Node 24)' },
      { name: 'nanovisor run hello-c, .ts sources', once: wholeProcess(bin, ['run', 'hello-c'], fromSource), baseline: 'node -e 0 (Node 24)', note: 'NANOVISOR_FROM_SOURCE=1' },
      ...(old === undefined ? [] : [
        { name: 'nanovisor --version, relaunched by Node 20', once: wholeProcess(old, [join(root, 'bin', 'nanovisor.js'), '--version'], env), baseline: 'node -e 0 (Node 24)', note: `${old} bin/nanovisor.js` },
      ]),
      { name: 'node:http echo server: spawn to first echo', once: firstEcho(node, (port) => ['-e', `require('node:http').createServer((q, s) => q.pipe(s)).listen(${port}, '127.0.0.1')`], env, '/') },
      { name: 'nanovisor serve: spawn to first echo', once: firstEcho(bin, serveArgs, env, '/echo-c'), baseline: 'node:http echo server: spawn to first echo', note: 'goal <= 80 ms; 1 shard per core, /echo-c' },
      ...beforeCases,
    ];
    // One untimed round warms the page cache and V8's compile cache.
    for (const c of cases) await c.once();
    cpuSamples.clear();
    const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    log(`bench: start-up: ${rounds} rounds of ${cases.length} cases (load average ${loadavg()[0]!.toFixed(2)})`);
    for (let i = 0; i < rounds; i++) {
      for (const c of cases) samples.get(c.name)!.push(await c.once());
    }
    const medians = new Map(cases.map((c) => [c.name, summarize(samples.get(c.name)!).median]));
    const cpuFloor = cpuSamples.get('node -e 0 (Node 24), CPU');
    const cpuRows = [...cpuSamples].map(([name, list]): Row => ({
      group: G, name, unit: 'ms', summary: summarize(list),
      ...(cpuFloor === undefined || name.startsWith('node ') ? {} : { ratio: summarize(cpuFloor).median / summarize(list).median }),
      note: 'CPU time, user + system',
    }));
    return [...cases.map((c): Row => {
      const summary = summarize(samples.get(c.name)!);
      const base = c.baseline === undefined ? undefined : medians.get(c.baseline);
      return {
        group: G, name: c.name, unit: 'ms', summary,
        ...(base === undefined ? {} : { ratio: base / summary.median }),
        ...(c.note === undefined ? {} : { note: c.note }),
      };
    }), ...cpuRows];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const rows = await startupBench(Number(flag('--rounds') ?? 15), undefined, flag('--before'));
  console.log(formatTable(rows));
  const out = flag('--json') ?? join(root, 'bench', 'results', 'startup.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version, loadAverage: loadavg() }, rows }, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}
