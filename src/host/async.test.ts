import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../test/support/wat.ts';
import { NanoVm, prepareModule, runWasmAsync } from './index.ts';

const WASI = '"wasi_snapshot_preview1"';

/** Sleeps `ms` (from argv length) with a relative clock subscription, then exits with the event count. */
function sleeper(ms: number, after = ''): Uint8Array {
  return wat(`(module
    (import ${WASI} "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
    (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
    (memory (export "memory") 1)
    (func (export "_start")
      (i32.store8 (i32.const 8) (i32.const 0))           ;; tag: clock
      (i32.store (i32.const 16) (i32.const 1))           ;; monotonic
      (i64.store (i32.const 24) (i64.const ${ms * 1_000_000}))
      (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
      ${after}
      (call $proc_exit (i32.load (i32.const 128)))))`);
}

test('guests blocked in poll_oneoff suspend, and many wait on one thread at once', async () => {
  const prepared = prepareModule(sleeper(100));
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: 50 }, () => runWasmAsync(prepared)));
  const elapsed = performance.now() - started;
  for (const r of results) assert.deepEqual([r.outcome, r.exitCode], ['exit', 1]);
  // 50 sequential sleeps would take 5 s; suspended ones overlap.
  assert.ok(elapsed < 2500, `50 sleeping guests took ${elapsed.toFixed(0)} ms`);
});

test('the same module runs on both paths, and pooled async instances are reused', async () => {
  const prepared = prepareModule(sleeper(1));
  assert.equal(NanoVm.create(prepared).run().exitCode, 1);
  for (let i = 0; i < 3; i++) assert.equal((await runWasmAsync(prepared)).exitCode, 1);
  // Under NANOVISOR_SNAPSHOT=off (npm run test:fresh-instances) there is no pool to reuse from.
  if (prepared.pool !== undefined) assert.ok(prepared.pool.stats.reused >= 2);
});

test('a guest that spins after being resumed is still stopped at its timeout', async () => {
  const prepared = prepareModule(sleeper(20, '(loop $l (br $l))'));
  const r = await runWasmAsync(prepared, { timeoutMs: 300 });
  assert.equal(r.outcome, 'timeout');
  assert.equal(r.error?.code, 'NV_GUEST_TIMEOUT');
  // The thread is free again and the pool still serves.
  assert.equal((await runWasmAsync(prepareModule(sleeper(1)))).exitCode, 1);
});

test('a guest sleeping past its timeout is stopped while suspended', async () => {
  const r = await runWasmAsync(prepareModule(sleeper(10_000)), { timeoutMs: 100 });
  assert.equal(r.outcome, 'timeout');
});

test('traps and exits are classified on the async path too', async () => {
  const trap = await runWasmAsync(prepareModule(sleeper(1, 'unreachable')));
  assert.equal(trap.outcome, 'trap');
  assert.equal(trap.error?.code, 'NV_GUEST_TRAP');
});

test('a VM booted for one path refuses the other', () => {
  const vm = NanoVm.createAsync(prepareModule(sleeper(1)));
  assert.throws(() => vm.run(), /runAsync/);
});
