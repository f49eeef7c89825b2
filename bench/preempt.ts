/**
 * Preemption benchmarks (src/host/interrupt): what interrupt checks and time slicing cost a
 * CPU-bound guest — without checks (NANOVISOR_INTERRUPTS=off: the node:vm timeout), with
 * checks on the synchronous path (no quantum), with checks on the asynchronous path (a yield
 * every QUANTUM_MS) — and how long a quick guest waits behind spinning guests on one thread.
 * Nothing here asserts a speed. Run alone: node --no-warnings bench/preempt.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wat } from '../test/support/wat.ts';
import { InProcessHost, NanoVm, prepareModule, type PreparedModule } from '../src/host/index.ts';
import { formatTable, summarize, type Row } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const WAIT = join(root, 'build', 'guests', 'c', 'cgi_wait.wasm');

/** Recursive fib: a function entry (and so a check) per call. */
const FIB = wat(`(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "_start") (call $proc_exit (i32.and (call $fib (i32.const 32)) (i32.const 255)))))`);

function prepared(bytes: Uint8Array, interrupts: boolean): PreparedModule {
  const saved = process.env['NANOVISOR_INTERRUPTS'];
  if (!interrupts) process.env['NANOVISOR_INTERRUPTS'] = 'off';
  try {
    return prepareModule(bytes);
  } finally {
    if (saved === undefined) delete process.env['NANOVISOR_INTERRUPTS'];
    else process.env['NANOVISOR_INTERRUPTS'] = saved;
  }
}

async function timeRuns(run: () => unknown, n: number): Promise<number[]> {
  const out: number[] = [];
  await run();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await run();
    out.push(performance.now() - t);
  }
  return out;
}

async function cpuRows(name: string, bytes: Uint8Array, args: string[], n: number): Promise<Row[]> {
  const plain = prepared(bytes, false);
  const checked = prepared(bytes, true);
  const opts = { args, timeoutMs: 60_000, stdout: () => {} };
  const base = summarize(await timeRuns(() => NanoVm.create(plain, opts).run(), n));
  const sync = summarize(await timeRuns(() => NanoVm.create(checked, opts).run(), n));
  const async = summarize(await timeRuns(() => NanoVm.createAsync(checked, opts).runAsync(), n));
  return [
    { group: 'preempt', name: `${name}: no checks (node:vm timeout), sync`, unit: 'ms', summary: base, ratio: 1, note: `interruptible=${plain.interruptible === true}` },
    { group: 'preempt', name: `${name}: interrupt checks, sync (no quantum)`, unit: 'ms', summary: sync, ratio: base.median / sync.median, note: `interruptible=${checked.interruptible === true}` },
    { group: 'preempt', name: `${name}: interrupt checks, async (yields every quantum)`, unit: 'ms', summary: async, ratio: base.median / async.median },
  ];
}

async function asyncBootRow(n: number): Promise<Row> {
  const p = prepareModule(readFileSync(join(root, 'build', 'guests', 'c', 'hello.wasm')));
  const opts = { args: ['hello'], timeoutMs: 30_000, stdout: () => {} };
  const samples = (await timeRuns(() => NanoVm.createAsync(p, opts).runAsync(), n)).map((ms) => ms * 1000);
  return { group: 'preempt', name: 'C hello: async boot + run, pooled, 30 s limit', unit: 'µs', summary: summarize(samples) };
}

/**
 * Latency of a quick guest (sleep=1) on an InProcessHost while `spinners` guests spin (limit
 * 1 s each): it is due 50 ms after the spinners start, and timed from then, so a thread the
 * spinners hold delays it.
 */
async function behindSpinners(spinners: number, n: number): Promise<Row> {
  const host = new InProcessHost();
  const h = await host.load({ module: readFileSync(WAIT) });
  await host.run(h, { args: ['w', 'sleep=1'] });
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const due = performance.now() + 50;
    const spin = Array.from({ length: spinners }, () => host.run(h, { args: ['w', 'spin=1'], timeoutMs: 1000 }));
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    await host.run(h, { args: ['w', 'sleep=1'], timeoutMs: 5000 });
    samples.push(performance.now() - due);
    await Promise.all(spin);
  }
  await host.close();
  return { group: 'preempt', name: `quick guest behind ${spinners} spinning guest(s), one thread`, unit: 'ms', summary: summarize(samples), note: 'spinners limited to 1 s' };
}

export async function preemptBench(): Promise<Row[]> {
  const wait = readFileSync(WAIT);
  return [
    ...await cpuRows('cgi_wait work=300 (3·10^8 loop iterations)', wait, ['w', 'work=300'], 9),
    ...await cpuRows('fib(32) (7 M calls)', FIB, ['fib'], 9),
    await asyncBootRow(2000),
    await behindSpinners(0, 5),
    await behindSpinners(1, 5),
    await behindSpinners(4, 3),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(formatTable(await preemptBench()));
