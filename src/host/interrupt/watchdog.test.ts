import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../../test/support/wat.ts';
import { NanoVm, prepareModule } from '../index.ts';
import { DOORBELL } from './layout.ts';
import { watchdog } from './watchdog.ts';

const QUICK = wat(`(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32)
    (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
    (call $proc_exit (i32.const 3))))`);

const rings = (): number => Atomics.load(new Int32Array(watchdog().memory.buffer, 0, 4), DOORBELL);

test('a busy host does not ring the watchdog per slice (limits seconds away)', async () => {
  const p = prepareModule(QUICK);
  assert.equal(p.interruptible, true);
  // Let the watchdog thread start and settle on its tick.
  NanoVm.create(p, { timeoutMs: 30_000 }).run();
  await new Promise((r) => setTimeout(r, 200));
  const before = rings();
  const runs = 2000;
  for (let i = 0; i < runs; i++) assert.equal(NanoVm.create(p, { timeoutMs: 30_000 }).run().exitCode, 3);
  for (let i = 0; i < runs; i++) assert.equal((await NanoVm.createAsync(p, { timeoutMs: 30_000 }).runAsync()).exitCode, 3);
  const rung = rings() - before;
  // At most about once per idle tick, never once per slice.
  assert.ok(rung < runs / 10, `the doorbell rang ${rung} times for ${2 * runs} runs`);
});
