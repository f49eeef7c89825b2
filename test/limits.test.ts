// Limits hold in every phase of a run. Time limits stop it promptly, every time: a start
// section that never returns (wat/start_spin), many short limits in a row, runs with and
// without limits interleaved; on the synchronous path, the asynchronous (JSPI) path and the
// CLI. Memory limits refuse a module declaring more than its limit before anything touches
// that memory, and memory a module declares but never touches costs nothing to build or boot
// (wat/huge_initial_memory). Every limit has a maximum, refused beyond it by the CLI and the API.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_TIMEOUT, NanoVm, prepareModule, type PreparedModule, type RunResult } from '../src/host/index.ts';
import { createApi } from '../src/api/index.ts';
import { ControlPlane, StateDb } from '../src/control/index.ts';
import { ImageStore, buildImage, loadRunnable } from '../src/image/index.ts';
import { tempDir, writeTree } from '../src/image/testing.ts';
import { wat } from './support/wat.ts';
import { guestWasm, loadWasm } from './helpers.ts';

const cliPath = fileURLToPath(new URL('../bin/nanovisor.js', import.meta.url));

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

/**
 * Both ways a module is prepared: from its snapshot and instantiated afresh. Both carry
 * interrupt checks (a fresh one imports its own memory to get them): node:vm's watchdog
 * terminating a guest on a JSPI stack once took the whole test process down.
 */
function bothForms(bytes: Uint8Array): Array<[string, PreparedModule]> {
  const forms: Array<[string, PreparedModule]> = [['snapshot', prepareModule(bytes)], ['fresh', prepareModule(bytes, undefined, { snapshot: 'off' })]];
  for (const [form, p] of forms) assert.equal(p.interruptible, true, `${form} form carries interrupt checks`);
  return forms;
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
  const r = spawnSync(process.execPath, [cliPath, 'run', '--timeout', '300ms', guestWasm('wat', 'start_spin')], {
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

// A 52-byte module declaring 65,536 initial pages (4 GiB) that it never touches.
const HUGE = guestWasm('wat', 'huge_initial_memory');

function refusedForMemory(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err.code === 'NV_GUEST_MEMORY_LIMIT' && /needs 4 GiB .*256 MiB/.test(err.message ?? '');
}

test('huge_initial_memory: refused at once at prepare and at build when it exceeds the memory limit', () => {
  let started = performance.now();
  assert.throws(() => prepareModule(loadWasm(HUGE)), refusedForMemory);
  assert.throws(() => prepareModule(loadWasm(HUGE), undefined, { snapshot: 'off' }), refusedForMemory);
  // Generous bounds that prove "before any scan": walking 4 GiB took 46-80 s here.
  assert.ok(performance.now() - started < 5000, `prepare took ${(performance.now() - started).toFixed(0)} ms`);
  using tmp = tempDir();
  const store = ImageStore.open(join(tmp.path, 'store'));
  started = performance.now();
  assert.throws(() => buildImage({ dir: HUGE, store }), (e: { code?: string; message?: string }) =>
    e.code === 'NV_GUEST_MEMORY_LIMIT' && /needs 4 GiB .*limits\.memoryBytes is 256 MiB/.test(e.message ?? ''));
  assert.ok(performance.now() - started < 5000, `build took ${(performance.now() - started).toFixed(0)} ms`);
  // run's default for a .wasm file is wasm32's whole 4 GiB (as wasmtime): it fits there, not under --memory 256M.
  const cli = spawnSync(process.execPath, [cliPath, 'run', '--memory', '256M', HUGE], { encoding: 'utf8', input: '', timeout: 60_000 });
  assert.equal(cli.status, 1, cli.stderr);
  assert.match(cli.stderr, /NV_GUEST_MEMORY_LIMIT/);
  const fits = spawnSync(process.execPath, [cliPath, 'run', HUGE], { encoding: 'utf8', input: '', timeout: 60_000 });
  assert.equal(fits.status, 0, fits.stderr);
});

test('huge_initial_memory: within its limit it builds, prepares and runs without paying for its untouched memory', async () => {
  using tmp = tempDir();
  writeTree(tmp.path, { 'nanovisor.json': JSON.stringify({ name: 'huge', module: 'huge.wasm', limits: { memoryBytes: 4 * 2 ** 30 } }), 'huge.wasm': loadWasm(HUGE) });
  const store = ImageStore.open(join(tmp.path, 'store'));
  let started = performance.now();
  const { digest } = buildImage({ dir: tmp.path, store });
  assert.ok(performance.now() - started < 5000, `build took ${(performance.now() - started).toFixed(0)} ms`);
  started = performance.now();
  const p = loadRunnable(store, digest).prepared;
  assert.ok(performance.now() - started < 5000, `prepare took ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(p.snapshot?.segments.length, 0);
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < 3; i++) {
    assert.equal(NanoVm.create(p).run().outcome, 'exit');
    assert.equal((await NanoVm.createAsync(p).runAsync()).outcome, 'exit');
  }
  // Resetting or copying the 4 GiB snapshot image took RSS to 4.5 GB at the first request.
  const grewMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.ok(grewMiB < 512, `RSS grew by ${grewMiB.toFixed(0)} MiB`);
});

test('nanovisor run refuses limit flags beyond their maxima, naming the maximum', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--timeout', '16m'], /--timeout: 16m is more than the maximum, 15 min/],
    [['--memory', '5G'], /--memory: 5G is more than the maximum, 4 GiB/],
    [['--max-output', '2G'], /--max-output: 2G is more than the maximum, 1 GiB/],
    [['--writable-layer', '2G'], /--writable-layer: 2G is more than the maximum, 1 GiB/],
  ];
  for (const [flags, message] of cases) {
    const r = spawnSync(process.execPath, [cliPath, 'run', ...flags, guestWasm('wat', 'start_spin')], { encoding: 'utf8', input: '', timeout: 30_000 });
    assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /NV_USAGE/);
    assert.match(r.stderr, message);
  }
});

test('the API answers 400 NV_API_BAD_REQUEST for a limit beyond its maximum, naming the field and the maximum', async () => {
  using dir = tempDir('nv-limits-api-');
  const db = StateDb.open(join(dir.path, 'nanovisor.db'));
  const control = ControlPlane.open({ db, store: ImageStore.open(join(dir.path, 'images')), tokenFile: join(dir.path, 'token'), tmpDir: join(dir.path, 'tmp'), version: 'test' });
  const api = createApi({ control });
  try {
    const { token } = control.execute({ kind: 'RotateToken' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const create = (limits: unknown) => api.request({ method: 'POST', url: '/v1/apps', headers, body: JSON.stringify({ name: 'a', routes: [{ path: '/a' }], limits }) });
    const refused = await create({ timeoutMs: 999_999_999_999 });
    assert.equal(refused.status, 400);
    const error = JSON.parse(refused.body as string).error as { code: string; message: string };
    assert.equal(error.code, 'NV_API_BAD_REQUEST');
    assert.match(error.message, /limits\.timeoutMs: must be at most 900000 \(15 min\)/);
    assert.equal((await create({ timeoutMs: 900_000 })).status, 201);
    const patched = await api.request({ method: 'PATCH', url: '/v1/apps/a', headers, body: JSON.stringify({ limits: { maxBodyBytes: 2 ** 30 } }) });
    assert.equal(patched.status, 400);
    assert.match(JSON.parse(patched.body as string).error.message, /limits\.maxBodyBytes: must be at most 268435456 \(256 MiB\)/);
  } finally {
    api.close();
    db.close();
  }
});
