import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../test/support/wat.ts';
import { NanoVm, prepareModule } from './index.ts';

const WASI = '"wasi_snapshot_preview1"';

/**
 * Writer/reader guest: with an argument (argc == 2) it scribbles over its data segment, a
 * byte in the heap, its mutable global, its table and a page it grows; without one it
 * exits with a code that is 0 only when it sees the pristine snapshot state.
 */
const SCRIBBLER = wat(`(module
  (import ${WASI} "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2 8)
  (global $counter (mut i32) (i32.const 5))
  (global $wide (mut i64) (i64.const 0x1122334455667788))
  (table 2 funcref)
  (elem (i32.const 0) $one $two)
  (type $t (func (result i32)))
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (data (i32.const 16) "pristine")
  (func (export "_start") (local $bad i32)
    (drop (call $args_sizes_get (i32.const 200) (i32.const 204)))
    (if (i32.eq (i32.load (i32.const 200)) (i32.const 2))
      (then
        (i64.store (i32.const 16) (i64.const 0x4141414141414141))
        (i32.store8 (i32.const 70000) (i32.const 0xab))
        (global.set $counter (i32.const 99))
        (global.set $wide (i64.const -1))
        (table.set (i32.const 0) (ref.func $two))
        (if (i32.eq (i32.load (i32.const 204)) (i32.const 100))
          (then
            (drop (memory.grow (i32.const 1)))
            (i32.store8 (i32.const 140000) (i32.const 0xcd))))
        (call $proc_exit (i32.const 0))))
    ;; reader: every check that fails sets a bit in the exit code
    (if (i64.ne (i64.load (i32.const 16)) (i64.const 0x656e697473697270)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 1)))))
    (if (i32.ne (i32.load8_u (i32.const 70000)) (i32.const 0)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 2)))))
    (if (i32.ne (global.get $counter) (i32.const 5)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 4)))))
    (if (i64.ne (global.get $wide) (i64.const 0x1122334455667788)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 8)))))
    (if (i32.ne (call_indirect (type $t) (i32.const 0)) (i32.const 1)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 16)))))
    (if (i32.ne (memory.size) (i32.const 2)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 32)))))
    (call $proc_exit (local.get $bad))))`);

function run(prepared: ReturnType<typeof prepareModule>, args: string[]): number {
  return NanoVm.create(prepared, { args }).run().exitCode;
}

test('the transformed module behaves like the original (reader sees pristine state)', () => {
  for (const snapshot of ['auto', 'off'] as const) {
    const p = prepareModule(SCRIBBLER, undefined, { snapshot });
    assert.equal(p.pool !== undefined, snapshot === 'auto');
    assert.equal(run(p, ['r']), 0, `fresh reader in mode ${snapshot}`);
  }
});

test('a pooled VM never observes bytes, globals or table entries another VM wrote', () => {
  const p = prepareModule(SCRIBBLER);
  assert.ok(p.snapshot?.reusable, 'module should be reusable');
  for (let i = 0; i < 5; i++) {
    assert.equal(run(p, ['w', 'x']), 0);
    assert.equal(run(p, ['r']), 0, 'reader after a writer sees only the snapshot');
  }
  assert.ok(p.pool!.stats.reused >= 8, `instances were reused (${JSON.stringify(p.pool!.stats)})`);
});

test('a VM whose memory grew is dropped, and the next VM starts from the snapshot', () => {
  const p = prepareModule(SCRIBBLER);
  // argv total size 100 bytes makes the writer grow its memory and write in the new page.
  assert.equal(run(p, ['w', 'g'.repeat(97)]), 0);
  const before = p.pool!.stats;
  assert.equal(run(p, ['r']), 0);
  assert.equal(p.pool!.stats.created, before.created + 1, 'a new instance replaced the grown one');
});

test('modules with a start function boot with a fresh instance on a reset pooled memory', () => {
  const bytes = wat(`(module
    (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
    (memory (export "memory") 1)
    (global $g (mut i32) (i32.const 0))
    (data (i32.const 0) "\\07")
    (func $init (global.set $g (i32.add (global.get $g) (i32.load8_u (i32.const 0)))) (i32.store8 (i32.const 0) (i32.const 100)))
    (start $init)
    (func (export "_start") (call $proc_exit (global.get $g))))`);
  const p = prepareModule(bytes);
  assert.equal(p.snapshot?.reusable, false);
  for (let i = 0; i < 3; i++) assert.equal(run(p, ['x']), 7);
});

test('passive data segments survive the transform', () => {
  const bytes = wat(`(module
    (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
    (memory (export "memory") 1)
    (data (i32.const 8) "\\05")
    (data $p "\\2a")
    (func (export "_start")
      (memory.init $p (i32.const 0) (i32.const 0) (i32.const 1))
      (call $proc_exit (i32.add (i32.load8_u (i32.const 0)) (i32.load8_u (i32.const 8))))))`);
  const p = prepareModule(bytes);
  assert.ok(p.pool !== undefined);
  assert.equal(p.snapshot?.reusable, false);
  assert.equal(run(p, ['x']), 47);
  assert.equal(run(p, ['x']), 47);
});

test('modules the transform cannot take still run through the fresh-instance path', () => {
  // A module that already imports its memory keeps its own data segments.
  const bytes = wat(`(module
    (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
    (import "env" "memory" (memory 1 4))
    (data (i32.const 4) "\\03")
    (func (export "_start") (call $proc_exit (i32.load8_u (i32.const 4)))))`);
  const imported = prepareModule(bytes);
  assert.equal(imported.pool, undefined);
  assert.equal(run(imported, ['x']), 3);
  assert.equal(run(imported, ['x']), 3);
  const noMemory = wat(`(module (func (export "_start")))`);
  assert.throws(() => NanoVm.create(prepareModule(noMemory), {}), (e: { code?: string }) => e.code === 'NV_MODULE_BAD_MEMORY');
});

test('the pool keeps as many idle instances as were in use at once (past maxIdle), bounded by bytes', () => {
  const p = prepareModule(SCRIBBLER);
  const pool = p.pool!;
  const held = Array.from({ length: 200 }, () => pool.acquire('sync'));
  for (const h of held) pool.release(h);
  // Released instances are reset on the next turn, or by the next acquire: count both.
  const again = Array.from({ length: 200 }, () => pool.acquire('sync'));
  assert.ok(pool.stats.reused >= 200, `reused ${pool.stats.reused}: every instance of the peak came back`);
  for (const h of again) pool.release(h);
  assert.equal(run(p, ['r']), 0, 'a reused instance still starts pristine');
});
