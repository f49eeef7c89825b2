// Time limits cover every phase of a run and stop it promptly, every time: a start section
// that never returns (wat/start_spin), many short limits in a row, runs with and without
// limits interleaved; on the synchronous path, the asynchronous (JSPI) path and the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EXIT_TIMEOUT, NanoVm, prepareModule, type PreparedModule, type RunResult } from '../src/host/index.ts';
import { wat } from './support/wat.ts';
import { guestWasm, loadWasm } from './helpers.ts';

const cli = fileURLToPath(new URL('../bin/nanovisor.js', import.meta.url));

/** Spins in `_start`; exits 7 from `ok`. Snapshot-able, so it runs with interrupt checks. */
const SPIN = wat(`(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l)))
  (func (export "ok") (call $proc_exit (i32.const 7))))`);

function assertTimeout(r: RunResult, what: string): void {
  assert.equal(r.outcome, 'timeout', `${what}: outcome ${r.outcome} (${r.error?.message ?? ''})`);
  assert.equal(r.exitCode, EXIT_TIMEOUT, what);
  assert.equal(r.error?.code, 'NV_GUEST_TIMEOUT', what);
}

/** Both ways a module is prepared: from its snapshot (interrupt checks) and instantiated afresh (node:vm watchdog). */
function bothForms(bytes: Uint8Array): Array<[string, PreparedModule]> {
  return [['snapshot', prepareModule(bytes)], ['fresh', prepareModule(bytes, undefined, { snapshot: 'off' })]];
}

test('start_spin: a start section that never returns is stopped at the time limit (sync path)', () => {
  for (const [form, p] of bothForms(loadWasm(guestWasm('wat', 'start_spin')))) {
    for (let i = 0; i < 3; i++) {
      const r = NanoVm.create(p, { timeoutMs: 50 }).run();
      assertTimeout(r, `${form} #${i}`);
      assert.ok(r.durationMs < 2000, `${form}: stopped after ${r.durationMs.toFixed(0)} ms`);
    }
    // The host keeps working: the next VM of another module runs to its end.
    const next = bothForms(SPIN).find(([f]) => f === form)![1];
    assert.deepEqual([NanoVm.create(next, { entry: 'ok' }).run().exitCode], [7]);
  }
});

test('start_spin: a start section that never returns is stopped at the time limit (async path)', async () => {
  for (const [form, p] of bothForms(loadWasm(guestWasm('wat', 'start_spin')))) {
    for (let i = 0; i < 3; i++) {
      const r = await NanoVm.createAsync(p, { timeoutMs: 50 }).runAsync();
      assertTimeout(r, `${form} #${i}`);
    }
    const next = bothForms(SPIN).find(([f]) => f === form)![1];
    assert.equal((await NanoVm.createAsync(next, { entry: 'ok' }).runAsync()).exitCode, 7);
  }
});

test('a start section that exits or traps is reported by run, not thrown by create', async () => {
  const exits = wat(`(module
    (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
    (memory (export "memory") 1)
    (func $s (call $proc_exit (i32.const 5))) (start $s)
    (func (export "_start")))`);
  const traps = wat(`(module (memory (export "memory") 1) (func $s unreachable) (start $s) (func (export "_start")))`);
  for (const [form, p] of bothForms(exits)) {
    assert.deepEqual([NanoVm.create(p).run().exitCode, (await NanoVm.createAsync(p).runAsync()).exitCode], [5, 5], form);
  }
  for (const [form, p] of bothForms(traps)) {
    assert.equal(NanoVm.create(p).run().error?.code, 'NV_GUEST_TRAP', form);
    assert.equal((await NanoVm.createAsync(p).runAsync()).error?.code, 'NV_GUEST_TRAP', form);
  }
});

test('start_spin: nanovisor run --timeout stops a start section and exits 124', () => {
  const r = spawnSync(process.execPath, [cli, 'run', '--timeout', '300ms', guestWasm('wat', 'start_spin')], {
    encoding: 'utf8', input: '', timeout: 30_000,
  });
  assert.equal(r.signal, null, 'nanovisor run hung and was killed');
  assert.equal(r.status, 124, r.stderr);
  assert.match(r.stderr, /NV_GUEST_TIMEOUT/);
});

// A generous bound that still proves "promptly": the bug was ~1 s per run after the first timeout.
const PROMPT_MS = 250;

test('many 2 ms limits in a row each stop within a few ms, interleaved with runs without limits (sync)', () => {
  for (const [form, p] of bothForms(SPIN)) {
    for (let i = 0; i < 30; i++) {
      const r = NanoVm.create(p, { timeoutMs: 2 }).run();
      assertTimeout(r, `${form} #${i}`);
      assert.ok(r.durationMs < PROMPT_MS, `${form} run #${i} with a 2 ms limit took ${r.durationMs.toFixed(1)} ms`);
      if (i % 3 === 0) assert.equal(NanoVm.create(p, { entry: 'ok' }).run().exitCode, 7);
      if (i % 5 === 0) assert.equal(NanoVm.create(p, { entry: 'ok', timeoutMs: 60_000 }).run().exitCode, 7);
    }
  }
});

test('many 2 ms limits in a row each stop within a few ms, interleaved with runs without limits (async)', async () => {
  for (const [form, p] of bothForms(SPIN)) {
    for (let i = 0; i < 30; i++) {
      const r = await NanoVm.createAsync(p, { timeoutMs: 2 }).runAsync();
      assertTimeout(r, `${form} #${i}`);
      assert.ok(r.durationMs < PROMPT_MS, `${form} run #${i} with a 2 ms limit took ${r.durationMs.toFixed(1)} ms`);
      if (i % 3 === 0) assert.equal((await NanoVm.createAsync(p, { entry: 'ok' }).runAsync()).exitCode, 7);
    }
  }
});

test('a long limit after a short one does not delay a later short one', () => {
  const [, p] = bothForms(SPIN)[0]!;
  assertTimeout(NanoVm.create(p, { timeoutMs: 2 }).run(), 'first');
  assertTimeout(NanoVm.create(p, { timeoutMs: 150 }).run(), 'long');
  const r = NanoVm.create(p, { timeoutMs: 2 }).run();
  assertTimeout(r, 'short after long');
  assert.ok(r.durationMs < PROMPT_MS, `took ${r.durationMs.toFixed(1)} ms`);
});
