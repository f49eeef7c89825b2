import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../../test/support/wat.ts';
import { NanoVm, prepareModule, prepareSnapshot } from '../index.ts';
import { decodeSnapshot, encodeSnapshot } from './format.ts';
import { preinitialize } from './preinit.ts';
import { extractSnapshot } from './transform.ts';

const WASI = '"wasi_snapshot_preview1"';

/** A reactor whose _initialize fills memory, sets globals and grows memory; `run` checks it all. */
const REACTOR = wat(`(module
  (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1 4)
  (global $inits (mut i32) (i32.const 0))
  (global $wide (mut i64) (i64.const 0))
  (global $f (mut f64) (f64.const 0))
  (data (i32.const 8) "\\01")
  (func (export "_initialize")
    (global.set $inits (i32.add (global.get $inits) (i32.const 1)))
    (global.set $wide (i64.const -81985529216486896))
    (global.set $f (f64.const 2.5))
    (i32.store8 (i32.const 100) (i32.const 42))
    (drop (memory.grow (i32.const 1)))
    (i32.store8 (i32.const 65600) (i32.const 9)))
  (func (export "run")
    (if (i64.ne (global.get $wide) (i64.const -81985529216486896)) (then (call $proc_exit (i32.const 200))))
    (if (f64.ne (global.get $f) (f64.const 2.5)) (then (call $proc_exit (i32.const 201))))
    (call $proc_exit (i32.add (i32.add (i32.load8_u (i32.const 8)) (i32.load8_u (i32.const 100)))
      (i32.add (i32.load8_u (i32.const 65600)) (i32.mul (global.get $inits) (i32.const 1000)))))))`);

const EXPECTED = 1 + 42 + 9 + 1000;

test('without pre-initialisation the reactor initialises at every boot', () => {
  const p = prepareModule(REACTOR);
  assert.equal(NanoVm.create(p, { entry: 'run' }).run().exitCode, EXPECTED);
});

test('pre-initialised at build time, every boot starts after init (init ran once)', () => {
  const pre = preinitialize(extractSnapshot(REACTOR), { memoryLimitBytes: 1 << 20 });
  assert.equal(pre.snapshot.preinitialized, true);
  assert.equal(pre.snapshot.initialPages, 2);
  // Through the layer encoding, as an image carries it.
  const snapshot = decodeSnapshot(encodeSnapshot(pre.snapshot));
  const p = prepareSnapshot(pre.module, snapshot);
  for (let i = 0; i < 3; i++) {
    const r = NanoVm.create(p, { entry: 'run' }).run();
    assert.equal(r.exitCode, EXPECTED, `boot ${i}`);
  }
  assert.ok(WebAssembly.Module.exports(p.module).every((e) => e.name !== '_initialize'));
});

test('pre-initialisation refuses modules without an init export, or whose init fails', () => {
  const noInit = wat(`(module (memory (export "memory") 1) (func (export "_start")))`);
  assert.throws(() => preinitialize(extractSnapshot(noInit), { memoryLimitBytes: 1 << 20 }), /exports neither/);
  const failing = wat(`(module (memory (export "memory") 1) (func (export "_initialize") unreachable) (func (export "_start")))`);
  assert.throws(() => preinitialize(extractSnapshot(failing), { memoryLimitBytes: 1 << 20 }), (e: { code?: string; message?: string }) => e.code === 'NV_MANIFEST_INVALID' && /failed at build time/.test(e.message ?? ''));
});
