// Preemptive time slicing on the asynchronous path: a guest that spins yields its thread
// every quantum (nv.yield), so quick guests on the same host finish long before a spinner's
// limit, and the spinner still ends as a timeout at its limit. The synchronous path has no
// quantum; a guest's own trap stays a trap however many times it was preempted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../../test/support/wat.ts';
import { guestWasm, loadWasm } from '../../../test/helpers.ts';
import { InProcessHost } from '../in-process-host.ts';
import { EXIT_TIMEOUT, NanoVm, prepareModule, type RunResult } from '../index.ts';
import { QUANTUM_MS } from './layout.ts';

const WAIT = () => loadWasm(guestWasm('c', 'cgi_wait'));

function assertTimeout(r: RunResult, what: string): void {
  assert.equal(r.outcome, 'timeout', `${what}: ${r.outcome} ${r.error?.message ?? ''}`);
  assert.equal(r.exitCode, EXIT_TIMEOUT, what);
  assert.equal(r.error?.code, 'NV_GUEST_TIMEOUT', what);
}

/** Runs `p` and records when it settled relative to the others (order of completion). */
function tracked(p: Promise<RunResult>, order: string[], name: string): Promise<RunResult> {
  return p.then((r) => { order.push(name); return r; });
}

test('a quick guest completes while a spinning guest on the same host runs to its limit', async () => {
  const host = new InProcessHost();
  const h = await host.load({ module: WAIT() });
  assert.equal(host.prepared(h).interruptible, true, 'cgi_wait is a snapshot-form module with interrupt checks');
  const order: string[] = [];
  const spinner = tracked(host.run(h, { args: ['w', 'spin=1'], timeoutMs: 3000 }), order, 'spinner');
  const quick = await tracked(host.run(h, { args: ['w', 'sleep=1'], timeoutMs: 3000 }), order, 'quick');
  assert.equal(quick.outcome, 'exit', new TextDecoder().decode(quick.stderr));
  assert.deepEqual(order, ['quick'], 'the quick guest finished while the spinner was still running');
  assert.ok(quick.durationMs < 1500, `quick guest took ${quick.durationMs.toFixed(0)} ms`);
  const spun = await spinner;
  assertTimeout(spun, 'spinner');
  assert.ok(spun.durationMs >= 2900, `the spinner ran to its limit (${spun.durationMs.toFixed(0)} ms)`);
  await host.close();
});

test('several spinners and several quick guests interleaved: every quick one finishes first', async () => {
  const host = new InProcessHost();
  const h = await host.load({ module: WAIT() });
  const hello = await host.load({ module: loadWasm(guestWasm('c', 'hello')) });
  const order: string[] = [];
  const runs: Array<Promise<RunResult>> = [];
  for (let i = 0; i < 3; i++) {
    runs.push(tracked(host.run(h, { args: ['w', 'spin=1'], timeoutMs: 2500 }), order, `spin${i}`));
    runs.push(tracked(host.run(h, { args: ['w', `sleep=${10 * i + 1}`], timeoutMs: 2500 }), order, `quick${i}`));
    runs.push(tracked(host.run(hello, { args: ['hello'], timeoutMs: 2500 }), order, `hello${i}`));
  }
  // One more quick guest once the spinners have been running a while.
  await new Promise((r) => setTimeout(r, 200));
  runs.push(tracked(host.run(h, { args: ['w', 'sleep=1'], timeoutMs: 2500 }), order, 'late'));
  const results = await Promise.all(runs);
  const spinners = order.filter((n) => n.startsWith('spin'));
  assert.deepEqual(order.slice(-3).sort(), spinners.sort(), `completion order: ${order.join(' ')}`);
  results.forEach((r, i) => {
    const name = i === results.length - 1 ? 'late' : ['spin', 'quick', 'hello'][i % 3]!;
    if (name === 'spin') assertTimeout(r, `run ${i}`);
    else assert.equal(r.outcome, 'exit', `${name} #${i}: ${r.outcome} ${r.error?.message ?? ''}`);
  });
  await host.close();
});

/** A CPU-bound guest (~2^27 iterations in one function, no calls, no system calls) that exits with a checksum. */
const BUSY = wat(`(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 0x8000000))))
    (call $proc_exit (i32.and (local.get $acc) (i32.const 255))))
  (func (export "boom") (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 0x8000000))))
    unreachable))`);

test('a CPU-bound guest yields every quantum on the async path and computes the same result', async () => {
  const p = prepareModule(BUSY);
  assert.equal(p.interruptible, true);
  const sync = NanoVm.create(p, { timeoutMs: 30_000 }).run();
  assert.equal(sync.outcome, 'exit');
  // Turns of the event loop during the async run: each one is a slice the guest gave up.
  let turns = 0;
  let on = true;
  const count = (): void => { turns++; if (on) setImmediate(count); };
  setImmediate(count);
  const async = await NanoVm.createAsync(p, { timeoutMs: 30_000 }).runAsync();
  on = false;
  assert.deepEqual([async.outcome, async.exitCode], ['exit', sync.exitCode]);
  if (async.durationMs > 5 * QUANTUM_MS) assert.ok(turns >= 2, `the event loop turned ${turns} times in ${async.durationMs.toFixed(0)} ms`);
});

test('a guest that traps on its own after being preempted is a trap, not a timeout', async () => {
  const p = prepareModule(BUSY);
  for (let i = 0; i < 3; i++) {
    const r = await NanoVm.createAsync(p, { entry: 'boom', timeoutMs: 30_000 }).runAsync();
    assert.equal(r.outcome, 'trap', `${r.outcome} ${r.error?.message ?? ''}`);
    assert.equal(r.error?.code, 'NV_GUEST_TRAP');
  }
});

test('the synchronous path has no quantum: the guest keeps the thread until it ends or its deadline', () => {
  const p = prepareModule(BUSY);
  let turned = false;
  setImmediate(() => { turned = true; });
  const r = NanoVm.create(p, { timeoutMs: 150, entry: 'boom' }).run();
  assert.ok(r.outcome === 'trap' || r.outcome === 'timeout', r.outcome);
  assert.equal(turned, false, 'nothing else ran on the thread during a synchronous run');
  const spin = NanoVm.create(prepareModule(WAIT()), { args: ['w', 'spin=1'], timeoutMs: 100 }).run();
  assertTimeout(spin, 'sync spinner');
});

test('a start section runs before the entry point on both paths, and one that spins is stopped', async () => {
  const bytes = wat(`(module
    (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
    (memory (export "memory") 1)
    (global $g (mut i32) (i32.const 1))
    (func $init (global.set $g (i32.const 42)))
    (start $init)
    (func (export "_start") (call $proc_exit (global.get $g)))
    (func (export "spin") (loop $l (br $l))))`);
  const p = prepareModule(bytes);
  assert.equal(p.interruptible, true);
  assert.equal(NanoVm.create(p).run().exitCode, 42);
  assert.equal((await NanoVm.createAsync(p).runAsync()).exitCode, 42);
  assertTimeout(await NanoVm.createAsync(p, { entry: 'spin', timeoutMs: 100 }).runAsync(), 'async spin after start');
  assertTimeout(await NanoVm.createAsync(prepareModule(loadWasm(guestWasm('wat', 'start_spin'))), { timeoutMs: 100 }).runAsync(), 'start_spin');
});

/** Recursion without loops: only entry checks (through their stubs) can preempt or stop it. */
const FIB = wat(`(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "_start") (call $proc_exit (i32.and (call $fib (i32.const 33)) (i32.const 255))))
  (func (export "forever") (drop (call $fib (i32.const 60)))))`);

test('loop-free recursion is preempted through entry checks, resumes with the right result, and is stopped at its limit', async () => {
  const p = prepareModule(FIB);
  assert.equal(p.interruptible, true);
  let turns = 0;
  let on = true;
  const count = (): void => { turns++; if (on) setImmediate(count); };
  setImmediate(count);
  const r = await NanoVm.createAsync(p, { timeoutMs: 30_000 }).runAsync();
  const forever = await NanoVm.createAsync(p, { entry: 'forever', timeoutMs: 300 }).runAsync();
  on = false;
  assert.deepEqual([r.outcome, r.exitCode], ['exit', 3524578 & 255]);
  assertTimeout(forever, 'fib(60)');
  assert.ok(turns >= 3, `the event loop turned ${turns} times while recursion ran for > 300 ms`);
});
