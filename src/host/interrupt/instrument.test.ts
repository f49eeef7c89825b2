import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../../test/support/wat.ts';
import { NanoVm, prepareModule } from '../index.ts';
import { NotInstrumentable, instrumentInterrupts } from './instrument.ts';

const WASI = '"wasi_snapshot_preview1"';

const FIB = wat(`(module
  (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "_start") (call $proc_exit (i32.and (call $fib (i32.const 20)) (i32.const 255))))
  (func (export "forever") (drop (call $fib (i32.const 60)))))`);

const LOOPS = wat(`(module
  (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32) (local $acc i32)
    (loop $outer
      (block $done
        (loop $inner
          (br_if $done (i32.ge_u (local.get $i) (i32.const 1000)))
          (local.set $acc (i32.add (local.get $acc) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $inner))))
    (call $proc_exit (i32.rem_u (local.get $acc) (i32.const 251))))
  (func (export "spin") (loop $l (br $l))))`);

test('instrumented modules compute the same results', () => {
  for (const bytes of [FIB, LOOPS]) {
    const plain = NanoVm.create(prepareModule(bytes, undefined, { snapshot: 'off' })).run();
    const p = prepareModule(bytes);
    assert.equal(p.interruptible, true);
    const instrumented = NanoVm.create(p).run();
    assert.deepEqual([instrumented.outcome, instrumented.exitCode], [plain.outcome, plain.exitCode]);
  }
  assert.equal(NanoVm.create(prepareModule(FIB)).run().exitCode, 6765 & 255);
});

test('a loop-free runaway (exponential recursion) is stopped at its deadline too', () => {
  const r = NanoVm.create(prepareModule(FIB), { entry: 'forever', timeoutMs: 100 }).run();
  assert.equal(r.outcome, 'timeout');
});

test('an interrupt never leaks into the next VM', () => {
  const p = prepareModule(LOOPS);
  for (let i = 0; i < 5; i++) {
    const spun = NanoVm.create(p, { entry: 'spin', timeoutMs: 20 }).run();
    assert.equal(spun.outcome, 'timeout');
    const next = NanoVm.create(p).run();
    assert.deepEqual([next.outcome, next.exitCode], ['exit', 499500 % 251]);
    const untimed = NanoVm.create(p, { timeoutMs: 60_000 }).run();
    assert.equal(untimed.outcome, 'exit');
  }
});

test('a guest that traps on its own is a trap, not a timeout', () => {
  const bytes = wat(`(module (memory (export "memory") 1) (func (export "_start") unreachable))`);
  const r = NanoVm.create(prepareModule(bytes), { timeoutMs: 10_000 }).run();
  assert.equal(r.outcome, 'trap');
});

test('modules that define their memory are not instrumented (the transform needs it imported)', () => {
  assert.throws(() => instrumentInterrupts(LOOPS), NotInstrumentable);
});
