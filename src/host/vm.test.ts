import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../test/support/wat.ts';
import { EXIT_OUTPUT_LIMIT, EXIT_TIMEOUT, EXIT_TRAP, prepareModule, runWasm } from './index.ts';

const WASI = '"wasi_snapshot_preview1"';
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A module whose _start runs `body` with fd_write and proc_exit imported and a 1-page memory. */
function guest(body: string, memory = '(memory (export "memory") 1)', extra = ''): Uint8Array {
  return wat(`(module
    (import ${WASI} "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
    (import ${WASI} "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
    ${memory}
    ${extra}
    (func (export "_start") ${body}))`);
}

test('proc_exit code becomes the exit code', async () => {
  const r = await runWasm(guest('(call $proc_exit (i32.const 7))'));
  assert.equal(r.outcome, 'exit');
  assert.equal(r.exitCode, 7);
});

test('returning from _start is exit code 0', async () => {
  const r = await runWasm(guest('nop'));
  assert.deepEqual([r.outcome, r.exitCode], ['exit', 0]);
});

test('fd_write writes to captured stdout', async () => {
  const r = await runWasm(guest(`
    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))`,
  '(memory (export "memory") 1) (data (i32.const 16) "hi\\n")'));
  assert.equal(text(r.stdout), 'hi\n');
});

test('wild pointers get EFAULT, never a host crash', async () => {
  // iovec array pointer past the end, then an iovec whose buffer is past the end,
  // then a result pointer past the end: each call returns errno 21 (EFAULT), stored at 100+.
  const r = await runWasm(guest(`
    (i32.store (i32.const 100) (call $fd_write (i32.const 1) (i32.const 0xfffffff0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 0) (i32.const 0xffff0000)) (i32.store (i32.const 4) (i32.const 0xffffffff))
    (i32.store (i32.const 104) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 1))
    (i32.store (i32.const 108) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0xfffffffc)))
    (i32.store (i32.const 112) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0x7fffffff) (i32.const 8)))
    (call $proc_exit (i32.add (i32.add (i32.load (i32.const 100)) (i32.load (i32.const 104)))
                              (i32.add (i32.load (i32.const 108)) (i32.load (i32.const 112)))))`));
  assert.equal(r.outcome, 'exit');
  assert.equal(r.exitCode, 21 * 4);
  assert.equal(r.stdout.byteLength, 0);
});

test('an endless loop is stopped at its timeout and the host carries on', async () => {
  const r = await runWasm(guest('(loop $l (br $l))'), { timeoutMs: 100 });
  assert.equal(r.outcome, 'timeout');
  assert.equal(r.exitCode, EXIT_TIMEOUT);
  assert.equal(r.error?.code, 'NV_GUEST_TIMEOUT');
  const after = await runWasm(guest('(call $proc_exit (i32.const 3))'));
  assert.equal(after.exitCode, 3);
});

test('a guest sleeping in poll_oneoff past its timeout is stopped', async () => {
  // One relative clock subscription of 10 s, with a 100 ms VM timeout.
  const r = await runWasm(guest(`
    (i64.store (i32.const 24) (i64.const 10000000000))
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))`,
  '(memory (export "memory") 1) (data (i32.const 8) "\\00") (data (i32.const 16) "\\01")'), { timeoutMs: 100 });
  assert.equal(r.outcome, 'timeout');
});

test('memory.grow past the limit returns -1 inside the guest', async () => {
  const bytes = guest(`(call $proc_exit (i32.add (i32.const 1) (memory.grow (i32.const 16))))`, '(memory (export "memory") 1)');
  const limited = await runWasm(bytes, { memoryLimitBytes: 8 * 65536 });
  assert.equal(limited.exitCode, 0, 'grow returned -1');
  const roomy = await runWasm(bytes, { memoryLimitBytes: 32 * 65536 });
  assert.equal(roomy.exitCode, 2, 'grow returned the old size, 1');
});

test('a module needing more memory than the limit is refused before it starts', () => {
  const bytes = guest('nop', '(memory (export "memory") 64)');
  assert.throws(() => prepareModule(bytes, 16 * 65536), (e: { code?: string }) => e.code === 'NV_GUEST_MEMORY_LIMIT');
});

test('a trap is reported as a trap with exit code 134', async () => {
  const r = await runWasm(guest('unreachable'));
  assert.equal(r.outcome, 'trap');
  assert.equal(r.exitCode, EXIT_TRAP);
  assert.equal(r.error?.code, 'NV_GUEST_TRAP');
});

test('unbounded recursion is a trap, not a host crash', async () => {
  const r = await runWasm(guest('(call $rec)', '(memory (export "memory") 1)', '(func $rec (call $rec))'));
  assert.equal(r.outcome, 'trap');
});

test('an output flood is stopped at the output limit', async () => {
  const r = await runWasm(guest(`
    (i32.store (i32.const 0) (i32.const 0)) (i32.store (i32.const 4) (i32.const 4096))
    (loop $l (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))) (br $l))`),
  { maxOutputBytes: 10_000 });
  assert.equal(r.outcome, 'output-limit');
  assert.equal(r.exitCode, EXIT_OUTPUT_LIMIT);
  assert.equal(r.stdout.byteLength, 10_000);
});

test('malformed and truncated modules are refused with NV_MODULE_MALFORMED', () => {
  const good = guest('nop');
  for (const bad of [new Uint8Array([1, 2, 3]), good.subarray(0, 7), good.subarray(0, good.byteLength - 3), good.subarray(0, 20)]) {
    assert.throws(() => prepareModule(bad), (e: { code?: string }) => e.code === 'NV_MODULE_MALFORMED');
  }
});

test('imports the kernel does not provide are refused by name', () => {
  const bytes = wat(`(module (import "env" "abort" (func (param i32 i32 i32 i32))) (import ${WASI} "nope" (func)) (memory (export "memory") 1) (func (export "_start")))`);
  assert.throws(() => prepareModule(bytes), (e: { code?: string; message?: string }) => e.code === 'NV_MODULE_UNKNOWN_IMPORTS' && /env\.abort, wasi_snapshot_preview1\.nope/.test(e.message ?? ''));
});

test('limits beyond their maxima, or not positive numbers, are refused with NV_LIMIT_INVALID', async () => {
  const p = prepareModule(guest('nop'));
  const bad = [{ timeoutMs: 999_999_999_999 }, { timeoutMs: -1 }, { timeoutMs: Number.NaN }, { maxOutputBytes: 2 ** 31 }, { writableLayerBytes: 0 }, { memoryLimitBytes: 2 ** 33 }];
  for (const options of bad) {
    await assert.rejects(runWasm(p, options), (e: { code?: string; message?: string }) =>
      e.code === 'NV_LIMIT_INVALID' && e.message!.startsWith(Object.keys(options)[0]!) && /at most/.test(e.message!), JSON.stringify(options));
  }
  assert.throws(() => prepareModule(guest('nop'), 2 ** 33), (e: { code?: string }) => e.code === 'NV_LIMIT_INVALID');
  assert.equal((await runWasm(p, { timeoutMs: 900_000, maxOutputBytes: 2 ** 30, writableLayerBytes: 2 ** 30 })).outcome, 'exit');
});
