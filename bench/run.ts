/**
 * `npm run bench`: nanovisor's benchmarks (never tests). Each figure is the median of
 * repeated runs with its spread; peers run in the same process or on the same machine in
 * the same run, and ratios are reported against them. Prints a table and writes JSON to
 * bench/results/latest.json (or --json FILE).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wat } from '../test/support/wat.ts';
import { bigApp } from './big-app.ts';
import { bootBench, firstBootBench } from './boot.ts';
import { concurrencyBench } from './concurrency.ts';
import { densityBench } from './density.ts';
import { httpBench, httpConfigFromEnv } from './http.ts';
import { jsHttpBench } from './js-http.ts';
import { preemptBench } from './preempt.ts';
import { startupBench } from './startup.ts';
import { formatTable, type Row } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1]! : join(root, 'bench', 'results', 'latest.json');
const iterations = Number(process.env['BENCH_ITER'] ?? 3000);

function ensureGuests(): void {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-guests.ts')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const TRIVIAL = wat(`(module (memory (export "memory") 1) (func (export "_start")))`);

ensureGuests();
const hello = join(root, 'build', 'examples', 'hello-c', 'hello-c.wasm');
if (!existsSync(hello)) throw new Error(`missing ${hello}: run npm run guests`);

const big = bigApp();
const rows: Row[] = [
  ...firstBootBench([{ name: 'C hello world', bytes: readFileSync(hello) }, { name: '~1 MB app', bytes: big }], 20),
  ...await bootBench([
    { name: '~1 MB app', bytes: big },
    { name: 'trivial', bytes: TRIVIAL },
    { name: 'C hello world', bytes: readFileSync(hello) },
  ], iterations),
  ...(process.env['BENCH_STARTUP'] === '0' ? [] : await startupBench()),
  ...(process.env['BENCH_PREEMPT'] === '0' ? [] : await preemptBench()),
  ...(process.env['BENCH_HTTP'] === '0' ? [] : await httpBench()),
  ...(process.env['BENCH_JS'] === '0' ? [] : await jsHttpBench()),
  ...(process.env['BENCH_CONCURRENCY'] === '0' ? [] : await concurrencyBench()),
  ...(process.env['BENCH_DENSITY'] === '0' ? [] : (await densityBench({ wasm: readFileSync(hello), target: Number(process.env['BENCH_DENSITY_TARGET'] ?? 50_000) })).rows),
];

console.log(formatTable(rows));
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version, loadAverage: loadavg() },
  http: httpConfigFromEnv(),
  iterations,
  rows,
};
mkdirSync(dirname(jsonOut), { recursive: true });
writeFileSync(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote ${jsonOut}`);
