import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../test/support/wat.ts';
import {
  ByteReader, SectionId, WasmBinaryError, encodeU32, formatFuncType, readModuleLayout, readSections,
} from './wasm-binary.ts';

test('LEB128: u32 round trip, limits and malformed encodings', () => {
  for (const v of [0, 1, 63, 64, 127, 128, 255, 300, 16384, 0x7fff_ffff, 0xffff_ffff]) {
    const enc = encodeU32(v);
    const r = new ByteReader(enc);
    assert.equal(r.u32(), v);
    assert.ok(r.done);
  }
  assert.deepEqual([...encodeU32(624485)], [0xe5, 0x8e, 0x26]);
  // Non-minimal but valid padding.
  assert.equal(new ByteReader(Uint8Array.of(0x80, 0x80, 0x00)).u32(), 0);
  // Too long / out of range / truncated.
  assert.throws(() => new ByteReader(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x00)).u32(), WasmBinaryError);
  assert.throws(() => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x1f)).u32(), /out of range/);
  assert.throws(() => new ByteReader(Uint8Array.of(0x80)).u32(), /unexpected end/);
  assert.throws(() => encodeU32(-1), RangeError);
});

test('LEB128: s33 and u64', () => {
  assert.equal(new ByteReader(Uint8Array.of(0x7f)).s33(), -1);
  assert.equal(new ByteReader(Uint8Array.of(0x70)).s33(), -16);
  assert.equal(new ByteReader(Uint8Array.of(0x3f)).s33(), 63);
  assert.equal(new ByteReader(Uint8Array.of(0xc0, 0xbb, 0x78)).s33(), -123456);
  assert.equal(new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)).u64(), 2n ** 64n - 1n);
});

test('readSections finds every section with header and content offsets', () => {
  const bytes = wat(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1 2)
    (func (export "_start")))`);
  const sections = readSections(bytes);
  assert.deepEqual(sections.map((s) => s.id), [SectionId.TYPE, SectionId.IMPORT, SectionId.FUNCTION, SectionId.MEMORY, SectionId.EXPORT, SectionId.CODE]);
  assert.equal(sections[0]!.headerStart, 8);
  for (const s of sections) {
    assert.equal(bytes[s.headerStart], s.id);
    assert.ok(s.start > s.headerStart && s.end >= s.start);
  }
  assert.equal(sections.at(-1)!.end, bytes.length);
});

test('readModuleLayout reads types, imports, functions, memories, exports', () => {
  const bytes = wat(`(module
    (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
    (import "env" "memory" (memory 1))
    (import "env" "g" (global i32))
    (func (export "f") (param f64) (result i32 i64) i32.const 0 i64.const 0)
    (func (export "_start")))`);
  const l = readModuleLayout(bytes);
  assert.deepEqual(l.imports.map((i) => `${i.module}.${i.name}:${i.desc.kind}`), [
    'wasi_snapshot_preview1.clock_time_get:function', 'env.memory:memory', 'env.g:global',
  ]);
  const fn = l.imports[0]!.desc;
  assert.equal(fn.kind, 'function');
  if (fn.kind === 'function') assert.equal(formatFuncType(l.types[fn.typeIndex]!), '(i32, i64, i32) -> i32');
  const mem = l.imports[1]!.desc;
  assert.ok(mem.kind === 'memory' && mem.limits.min === 1n && mem.limits.max === undefined);
  assert.equal(l.functions.length, 2);
  assert.equal(formatFuncType(l.types[l.functions[0]!]!), '(f64) -> (i32, i64)');
  assert.deepEqual(l.exports.map((e) => `${e.name}:${e.kind}`), ['f:function', '_start:function']);
  assert.deepEqual(l.memories, []);
});

test('malformed inputs throw WasmBinaryError with an offset', () => {
  assert.throws(() => readSections(Uint8Array.of(0, 0x61, 0x73)), /too short/);
  assert.throws(() => readSections(Uint8Array.of(1, 2, 3, 4, 1, 0, 0, 0)), /bad magic/);
  assert.throws(() => readSections(Uint8Array.of(0, 0x61, 0x73, 0x6d, 2, 0, 0, 0)), /version/);
  const good = wat('(module (memory 1) (func (export "_start")))');
  const boundaries = new Set(readSections(good).map((s) => s.headerStart));
  for (let n = 9; n < good.length; n++) {
    // A cut exactly between sections leaves a shorter, well-formed section list.
    if (boundaries.has(n)) assert.doesNotThrow(() => readModuleLayout(good.subarray(0, n)));
    else assert.throws(() => readModuleLayout(good.subarray(0, n)), WasmBinaryError, `length ${n}`);
  }
});
