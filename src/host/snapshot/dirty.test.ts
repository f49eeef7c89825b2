import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../../test/support/wat.ts';
import { NotInstrumentable } from '../interrupt/instrument.ts';
import { DIRTY_MAP_PAGES, DIRTY_PAGE, instrumentDirtyPages } from './dirty.ts';

// Every kind of write to memory 0, each at an address given by the caller; memory 1 (another
// imported memory) must not be marked.
const WRITES = wat(`(module
  (import "env" "memory" (memory 4))
  (import "env" "other" (memory 1))
  (func (export "i32") (param $a i32) (i32.store offset=8 (local.get $a) (i32.const 7)))
  (func (export "i64") (param $a i32) (i64.store (local.get $a) (i64.const -1)))
  (func (export "f32") (param $a i32) (f32.store (local.get $a) (f32.const 1.5)))
  (func (export "f64") (param $a i32) (f64.store (local.get $a) (f64.const 2.5)))
  (func (export "narrow") (param $a i32) (i32.store8 (local.get $a) (i32.const 1)) (i64.store32 (local.get $a) (i64.const 1)))
  (func (export "fill") (param $a i32) (param $n i32) (memory.fill (local.get $a) (i32.const 9) (local.get $n)))
  (func (export "copy") (param $a i32) (param $n i32) (memory.copy (local.get $a) (i32.const 0) (local.get $n)))
  (func (export "other") (param $a i32) (i32.store 1 (local.get $a) (i32.const 5)))
  (func (export "keep") (param $a i32) (result i32) (local $x i64)
    ;; locals of its own survive the added ones
    (local.set $x (i64.const 40))
    (i32.store (local.get $a) (i32.const 2))
    (i32.add (i32.wrap_i64 (local.get $x)) (local.get $a))))`);

function load(bytes: Uint8Array): { exports: Record<string, (...a: number[]) => number>; map: Uint8Array; memory: Uint8Array; other: Uint8Array } {
  const { module } = instrumentDirtyPages(bytes);
  const memory = new WebAssembly.Memory({ initial: 4 });
  const other = new WebAssembly.Memory({ initial: 1 });
  const dirty = new WebAssembly.Memory({ initial: DIRTY_MAP_PAGES, maximum: DIRTY_MAP_PAGES });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(module), { env: { memory, other }, nv: { dirty } });
  return { exports: instance.exports as never, map: new Uint8Array(dirty.buffer), memory: new Uint8Array(memory.buffer), other: new Uint8Array(other.buffer) };
}

const marked = (map: Uint8Array): number[] => [...map.subarray(0, 70).keys()].filter((i) => map[i] !== 0);

test('every store to the guest memory marks its page (and the next, for stores across a boundary)', () => {
  const { exports, map, memory } = load(WRITES);
  exports['i32']!(5 * DIRTY_PAGE - 8); // offset 8: the store lands on page 5
  assert.deepEqual(marked(map), [5, 6]);
  assert.equal(memory[5 * DIRTY_PAGE], 7);
  map.fill(0);
  exports['i64']!(3 * DIRTY_PAGE - 4); // straddles pages 2 and 3
  assert.deepEqual(marked(map), [2, 3]);
  map.fill(0);
  exports['f32']!(10 * DIRTY_PAGE);
  exports['f64']!(20 * DIRTY_PAGE + 100);
  exports['narrow']!(30 * DIRTY_PAGE);
  assert.deepEqual(marked(map), [10, 11, 20, 21, 30, 31]);
});

test('bulk writes mark every page of their range, none when empty', () => {
  const { exports, map, memory } = load(WRITES);
  exports['fill']!(DIRTY_PAGE + 10, 3 * DIRTY_PAGE);
  assert.deepEqual(marked(map), [1, 2, 3, 4]);
  assert.equal(memory[4 * DIRTY_PAGE + 9], 9);
  map.fill(0);
  exports['copy']!(40 * DIRTY_PAGE, 1);
  exports['fill']!(50 * DIRTY_PAGE, 0);
  assert.deepEqual(marked(map), [40]);
});

test('writes to another memory are not marked; a store out of bounds still traps', () => {
  const { exports, map, other } = load(WRITES);
  exports['other']!(100);
  assert.equal(other[100], 5);
  assert.deepEqual(marked(map), []);
  assert.throws(() => exports['i32']!(4 * 65536), WebAssembly.RuntimeError);
  assert.throws(() => exports['fill']!(4 * 65536 - 1, 2), WebAssembly.RuntimeError);
});

test('functions keep their own locals and results', () => {
  const { exports, map } = load(WRITES);
  assert.equal(exports['keep']!(8 * DIRTY_PAGE), 40 + 8 * DIRTY_PAGE);
  assert.deepEqual(marked(map), [8, 9]);
});

test('table changes are reported; atomics and defined memories are refused', () => {
  assert.equal(instrumentDirtyPages(WRITES).mutatesTables, false);
  const table = wat(`(module (import "env" "memory" (memory 1)) (table 2 funcref)
    (func $f) (elem declare func $f) (func (export "t") (table.set (i32.const 0) (ref.func $f))))`);
  assert.equal(instrumentDirtyPages(table).mutatesTables, true);
  assert.throws(() => instrumentDirtyPages(wat('(module (memory 1))')), NotInstrumentable);
});
