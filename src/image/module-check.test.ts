import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../test/support/wat.ts';
import { isNanovisorError, type ErrorCode } from '../shared/errors.ts';
import { checkModule } from './module-check.ts';
import { compileC, HELLO_C } from './testing.ts';

function fails(code: ErrorCode, bytes: Uint8Array, entry?: string): Error & { details: Record<string, unknown> } {
  try {
    checkModule(bytes, entry === undefined ? {} : { entry });
  } catch (e) {
    assert.ok(isNanovisorError(e, code), `expected ${code}, got ${String(e)}`);
    return e as Error & { details: Record<string, unknown> };
  }
  assert.fail(`expected ${code}`);
}

const FD_WRITE = '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))';

test('a C hello world compiled by clang passes and is described', () => {
  const info = checkModule(compileC(HELLO_C));
  assert.equal(info.kind, 'command');
  assert.ok(info.imports.some((i) => i.name === 'fd_write' && i.signature === '(i32, i32, i32, i32) -> i32'));
  // clang runs wasm-opt when one is on PATH (npm scripts put binaryen's there), which may drop
  // proc_exit from a program that always returns 0; when present, its signature must be right.
  const procExit = info.imports.find((i) => i.name === 'proc_exit');
  if (procExit !== undefined) assert.equal(procExit.signature, '(i32) -> ()');
  assert.equal(info.memory.imported, false);
  assert.ok(info.memory.minPages >= 1);
});

test('malformed bytes are NV_MODULE_MALFORMED with the engine reason on one line', () => {
  const e = fails('NV_MODULE_MALFORMED', new TextEncoder().encode('#!/bin/sh\necho hi\n'));
  assert.match(e.message, /magic/);
  assert.doesNotMatch(e.message, /\n/);
  fails('NV_MODULE_MALFORMED', new Uint8Array(0));
});

test('a module truncated at any of several lengths is NV_MODULE_MALFORMED', () => {
  const good = compileC(HELLO_C);
  for (const n of [1, 4, 7, 8 + 1, 20, 100, Math.floor(good.length / 2), good.length - 1]) {
    const e = fails('NV_MODULE_MALFORMED', good.subarray(0, n));
    assert.doesNotMatch(e.message, /\n/, `length ${n}`);
  }
});

test('unknown imports are all listed, in the message and in details.imports', () => {
  const e = fails('NV_MODULE_UNKNOWN_IMPORTS', wat(`(module
    ${FD_WRITE}
    (import "wasi_snapshot_preview1" "fd_frobnicate" (func (param i32) (result i32)))
    (import "env" "abort" (func (param i32 i32 i32 i32)))
    (import "env" "table" (table 1 funcref))
    (memory (export "memory") 1)
    (func (export "_start")))`));
  assert.deepEqual(e.details['imports'], ['wasi_snapshot_preview1.fd_frobnicate', 'env.abort', 'env.table']);
  assert.match(e.message, /wasi_snapshot_preview1\.fd_frobnicate/);
  assert.match(e.message, /env\.abort/);
  assert.match(e.message, /env\.table/);
  assert.doesNotMatch(e.message, /fd_write/);
});

test('a preview1 import with the wrong signature is refused and both signatures are shown', () => {
  const e = fails('NV_MODULE_UNKNOWN_IMPORTS', wat(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "proc_exit" (func (param i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "_start")))`));
  assert.deepEqual(e.details['imports'], ['wasi_snapshot_preview1.fd_write', 'wasi_snapshot_preview1.proc_exit']);
  assert.match(e.message, /fd_write \(has \(i32, i32, i32\) -> i32, the kernel's is \(i32, i32, i32, i32\) -> i32\)/);
  assert.match(e.message, /proc_exit \(has \(i32\) -> i32, the kernel's is \(i32\) -> \(\)\)/);
});

test('Object.prototype names are not mistaken for preview1 functions', () => {
  const e = fails('NV_MODULE_UNKNOWN_IMPORTS', wat(`(module
    (import "wasi_snapshot_preview1" "toString" (func (result i32)))
    (memory (export "memory") 1) (func (export "_start")))`));
  assert.deepEqual(e.details['imports'], ['wasi_snapshot_preview1.toString']);
});

test('memory: none, two, unexported, wrongly imported, shared or 64-bit are NV_MODULE_BAD_MEMORY', () => {
  fails('NV_MODULE_BAD_MEMORY', wat('(module (func (export "_start")))'));
  fails('NV_MODULE_BAD_MEMORY', wat('(module (import "env" "memory" (memory 1)) (memory (export "memory") 1) (func (export "_start")))'));
  fails('NV_MODULE_BAD_MEMORY', wat('(module (memory 1) (func (export "_start")))'));
  fails('NV_MODULE_BAD_MEMORY', wat('(module (import "js" "mem" (memory 1)) (func (export "_start")))'));
  fails('NV_MODULE_BAD_MEMORY', wat('(module (memory (export "memory") 1 1 shared) (func (export "_start")))'));
  // memory64 (Node 24 validates it): hand-assembled; limits flags 0x04, min 1.
  const mem64 = Uint8Array.of(
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    5, 3, 1, 0x04, 1, // memory section: one memory, i64 limits, min 1
  );
  assert.match(fails('NV_MODULE_BAD_MEMORY', mem64).message, /64-bit/);
});

test('an imported env.memory is accepted', () => {
  const info = checkModule(wat(`(module ${FD_WRITE} (import "env" "memory" (memory 2 10)) (func (export "_start")))`));
  assert.deepEqual(info.memory, { imported: true, minPages: 2, maxPages: 10 });
});

test('the entry must be an exported function; reactors need an explicit entry', () => {
  const e = fails('NV_MODULE_NO_ENTRY', wat('(module (memory (export "memory") 1) (func (export "main")))'));
  assert.match(e.message, /no exported function "_start"/);
  fails('NV_MODULE_NO_ENTRY', wat('(module (memory (export "memory") 1) (global (export "_start") i32 (i32.const 0)))'));
  const reactor = wat('(module (memory (export "memory") 1) (func (export "_initialize")) (func (export "handle")))');
  assert.match(fails('NV_MODULE_NO_ENTRY', reactor).message, /reactor/);
  assert.equal(checkModule(reactor, { entry: 'handle' }).kind, 'reactor');
  fails('NV_MODULE_NO_ENTRY', reactor, 'missing');
});

test('a hand-assembled minimal module passes', () => {
  // (module (memory (export "memory") 1) (func (export "_start")))
  const bytes = Uint8Array.of(
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
    0x03, 0x02, 0x01, 0x00, // function: 1 of type 0
    0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1
    0x07, 0x13, 0x02, 0x06, ...new TextEncoder().encode('memory'), 0x02, 0x00, 0x06, ...new TextEncoder().encode('_start'), 0x00, 0x00,
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code
  );
  const info = checkModule(bytes);
  assert.deepEqual(info.exports, [{ name: 'memory', kind: 'memory' }, { name: '_start', kind: 'function' }]);
  assert.equal(info.kind, 'command');
});
