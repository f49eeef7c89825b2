/**
 * A module of tens of MB (issue 11): `nanovisor run` as a whole process with the
 * prepared-module cache warm, and without it (every run prepares afresh: how it was before
 * the cache), beside Node's own `node:wasi` running the same file. Per case: wall time, CPU
 * time (user + system, all threads) and peak RSS, read inside each process at its exit by a
 * preloaded hook. Then, in this process, what preparing costs phase by phase (time and RSS
 * growth), to show where the time and the extra memory go.
 *
 * The module: C generated here (1,500 functions of 100 statements each over a 1 MiB table)
 * compiled by clang -O0 into build/bench/large-module.wasm (~38 MB; minutes of clang, once).
 *
 * `node bench/prepared-cache.ts [--rounds N]` (default 5).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { instrumentInterrupts } from '../src/host/interrupt/instrument.ts';
import { extractSnapshot } from '../src/host/snapshot/transform.ts';
import { summarize } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'build', 'bench');
const bin = join(root, 'bin', 'nanovisor');
const FUNCTIONS = 1500;
const PARTS = 2;
const TABLE = 262144;

/** A deterministic xorshift stream, so the generated program is the same on every machine. */
function* xorshift(seed: number): Generator<number> {
  let x = seed >>> 0;
  for (;;) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    yield x;
  }
}

export function largeModule(): string {
  const out = join(dir, 'large-module.wasm');
  if (existsSync(out)) return out;
  const src = join(dir, 'large-module');
  mkdirSync(src, { recursive: true });
  const r = xorshift(2463534242);
  const next = (n: number): number => r.next().value! % n;
  const perPart = FUNCTIONS / PARTS;
  for (let p = 0; p < PARTS; p++) {
    const lines = ['extern unsigned table[];'];
    for (let i = p * perPart; i < (p + 1) * perPart; i++) {
      const body: string[] = [];
      for (let j = 0; j < 100; j++) {
        body.push(`  x = (x * ${next(999) + 1}u) ^ (table[(x + ${next(TABLE)}u) & ${TABLE - 1}u] + ${next(999) + 1}u); if (x & ${(1 << (j % 31)) >>> 0}u) x += y; else y ^= x;`);
      }
      lines.push(`unsigned f${i}(unsigned x, unsigned y) {\n${body.join('\n')}\n  return x ^ y;\n}`);
    }
    writeFileSync(join(src, `part${p}.c`), lines.join('\n'));
  }
  const table = Array.from({ length: TABLE }, () => next(1 << 30) + 1);
  writeFileSync(join(src, 'main.c'), [
    '#include <stdio.h>',
    'volatile unsigned sink;',
    `unsigned table[${TABLE}] = {${table.join(',')}};`,
    ...Array.from({ length: FUNCTIONS }, (_, i) => `unsigned f${i}(unsigned, unsigned);`),
    'typedef unsigned (*fn)(unsigned, unsigned);',
    `static fn fns[] = {${Array.from({ length: FUNCTIONS }, (_, i) => `f${i}`).join(',')}};`,
    `int main(void) { unsigned s = 0; for (int i = 0; i < ${FUNCTIONS}; i += 97) s += fns[i](s, i); sink = s; printf("checksum %u\\n", s); return 0; }`,
  ].join('\n'));
  console.error(`bench: compiling the large module with clang (${PARTS} parts of ${perPart} functions; minutes)`);
  const objects = Array.from({ length: PARTS }, (_, p) => `part${p}.o`);
  execFileSync('sh', ['-c', objects.map((o) => `clang --target=wasm32-wasi -O0 -c ${o.replace('.o', '.c')} -o ${o} &`).join(' ') + ' wait'], { cwd: src, stdio: 'inherit' });
  execFileSync('clang', ['--target=wasm32-wasi', '-O0', 'main.c', ...objects, '-Wl,--strip-all', '-o', out], { cwd: src, stdio: 'inherit' });
  return out;
}

interface Sample { wallMs: number; cpuMs: number; rssMb: number }

/** Runs a whole process; its own CPU time and peak RSS come from the preloaded exit hook. */
function measure(file: string, args: string[], env: NodeJS.ProcessEnv, hook: string, report: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    rmSync(report, { force: true });
    const t = process.hrtime.bigint();
    const child = spawn(file, args, { env: { ...env, NODE_OPTIONS: `--import=${pathToFileURL(hook).href}`, NV_BENCH_REPORT: report }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t) / 1e6;
      if (code !== 0 || !out.includes('checksum')) return reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${out.slice(-300)}`));
      const r = JSON.parse(readFileSync(report, 'utf8')) as { cpuMs: number; rssMb: number };
      resolve({ wallMs, ...r });
    });
  });
}

/** Time and RSS growth of each step of preparing the module, in this process. */
function phases(wasm: string): { phase: string; ms: number; rssGrowthMb: number }[] {
  const rows: { phase: string; ms: number; rssGrowthMb: number }[] = [];
  const step = <T>(phase: string, f: () => T): T => {
    const rss = process.memoryUsage().rss;
    const c = process.cpuUsage();
    const v = f();
    const u = process.cpuUsage(c);
    rows.push({ phase, ms: (u.user + u.system) / 1000, rssGrowthMb: (process.memoryUsage().rss - rss) / 2 ** 20 });
    return v;
  };
  const bytes = step('read the file', () => readFileSync(wasm));
  step('SHA-256 of it (the cache key)', () => createHash('sha256').update(bytes).digest());
  step('V8 compile (validate)', () => new WebAssembly.Module(bytes));
  const ex = step('split out the snapshot', () => extractSnapshot(bytes));
  const inst = step('add interrupt checks', () => instrumentInterrupts(ex.module));
  step('V8 compile again (what a cache hit does)', () => new WebAssembly.Module(inst));
  return rows;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const rounds = Number(args.includes('--rounds') ? args[args.indexOf('--rounds') + 1] : 5);
  const wasm = largeModule();
  const size = readFileSync(wasm).byteLength;
  const home = mkdtempSync(join(tmpdir(), 'nv-bench-prepared-'));
  try {
    const hook = join(home, 'report.mjs');
    writeFileSync(hook, `import { writeFileSync } from 'node:fs';
process.on('exit', () => { const u = process.cpuUsage(); writeFileSync(process.env.NV_BENCH_REPORT, JSON.stringify({ cpuMs: (u.user + u.system) / 1000, rssMb: process.resourceUsage().maxRSS / 1024 })); });
`);
    const nodeWasi = join(home, 'node-wasi.mjs');
    writeFileSync(nodeWasi, `import { WASI } from 'node:wasi'; import { readFileSync } from 'node:fs';
const wasi = new WASI({ version: 'preview1', args: ['large'] });
const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(process.argv[2])), wasi.getImportObject());
process.exitCode = wasi.start(instance);
`);
    const env: NodeJS.ProcessEnv = { ...process.env, NANOVISOR_HOME: home, NANOVISOR_PREPARED_CACHE: '' };
    const report = join(home, 'report.json');
    const cases: [string, () => Promise<Sample>][] = [
      ['node:wasi (Node 24)', () => measure(process.execPath, ['--no-warnings', nodeWasi, wasm], env, hook, report)],
      ['nanovisor run, cache warm', () => measure(bin, ['run', wasm], env, hook, report)],
      ['nanovisor run --no-cache (as before the cache)', () => measure(bin, ['run', '--no-cache', wasm], env, hook, report)],
    ];
    // Warms the page cache and the prepared-module cache.
    for (const [, once] of cases) await once();
    console.error(`bench: prepared-module cache: ${(size / 2 ** 20).toFixed(1)} MiB module, ${rounds} rounds (load average ${loadavg()[0]!.toFixed(2)})`);
    const samples = new Map<string, Sample[]>(cases.map(([n]) => [n, []]));
    for (let i = 0; i < rounds; i++) for (const [n, once] of cases) samples.get(n)!.push(await once());
    console.log('| case | wall median | CPU median | peak RSS median |\n|---|---|---|---|');
    for (const [n] of cases) {
      const s = samples.get(n)!;
      const med = (f: (x: Sample) => number): number => summarize(s.map(f)).median;
      console.log(`| ${n} | ${med((x) => x.wallMs).toFixed(0)} ms | ${med((x) => x.cpuMs).toFixed(0)} ms | ${med((x) => x.rssMb).toFixed(0)} MB |`);
    }
    console.log('\n| step of preparing (this process) | CPU | RSS growth |\n|---|---|---|');
    for (const p of phases(wasm)) console.log(`| ${p.phase} | ${p.ms.toFixed(0)} ms | ${p.rssGrowthMb.toFixed(0)} MB |`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
