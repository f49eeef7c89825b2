import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../../test/support/wat.ts';
import { NanoVm, prepareModule } from '../index.ts';
import { SectionId, readSections, sectionReader } from '../../shared/wasm-binary.ts';
import { extractSnapshot } from '../snapshot/transform.ts';
import { NotInstrumentable, instrumentInterrupts } from './instrument.ts';

const WASI = '"wasi_snapshot_preview1"';

const FIB = wat(`(module
  (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "_start") (call $proc_exit (i32.and (call $fib (i32.const 20)) (i32.const 255))))
  (func (export "forever") (drop (call $fib (i32.const 60)))))`);

const LOOPS = wat(`(module
  (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32) (local $acc i32)
    (loop $outer
      (block $done
        (loop $inner
          (br_if $done (i32.ge_u (local.get $i) (i32.const 1000)))
          (local.set $acc (i32.add (local.get $acc) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $inner))))
    (call $proc_exit (i32.rem_u (local.get $acc) (i32.const 251))))
  (func (export "spin") (loop $l (br $l))))`);

test('instrumented modules compute the same results', () => {
  for (const bytes of [FIB, LOOPS]) {
    const plain = NanoVm.create(prepareModule(bytes, undefined, { snapshot: 'off' })).run();
    const p = prepareModule(bytes);
    assert.equal(p.interruptible, true);
    const instrumented = NanoVm.create(p).run();
    assert.deepEqual([instrumented.outcome, instrumented.exitCode], [plain.outcome, plain.exitCode]);
  }
  assert.equal(NanoVm.create(prepareModule(FIB)).run().exitCode, 6765 & 255);
});

test('a loop-free runaway (exponential recursion) is stopped at its deadline too', () => {
  const r = NanoVm.create(prepareModule(FIB), { entry: 'forever', timeoutMs: 100 }).run();
  assert.equal(r.outcome, 'timeout');
});

test('an interrupt never leaks into the next VM', () => {
  const p = prepareModule(LOOPS);
  for (let i = 0; i < 5; i++) {
    const spun = NanoVm.create(p, { entry: 'spin', timeoutMs: 20 }).run();
    assert.equal(spun.outcome, 'timeout');
    const next = NanoVm.create(p).run();
    assert.deepEqual([next.outcome, next.exitCode], ['exit', 499500 % 251]);
    const untimed = NanoVm.create(p, { timeoutMs: 60_000 }).run();
    assert.equal(untimed.outcome, 'exit');
  }
});

test('a guest that traps on its own is a trap, not a timeout', () => {
  const bytes = wat(`(module (memory (export "memory") 1) (func (export "_start") unreachable))`);
  const r = NanoVm.create(prepareModule(bytes), { timeoutMs: 10_000 }).run();
  assert.equal(r.outcome, 'trap');
});

test('modules that define their memory are not instrumented (the transform needs it imported)', () => {
  assert.throws(() => instrumentInterrupts(LOOPS), NotInstrumentable);
});

/** wabt with the features the renumbering tests need (reference types, tail calls) and the name section. */
const wabt = await (await import('wabt')).default();
function watFull(text: string): Uint8Array {
  const mod = wabt.parseWat('renumber.wat', text, { reference_types: true, bulk_memory: true, tail_call: true });
  try {
    mod.resolveNames();
    return new Uint8Array(mod.toBinary({ write_debug_names: true }).buffer);
  } finally {
    mod.destroy();
  }
}

/**
 * Every kind of function reference the instrumentation must shift past the added import:
 * direct and tail calls, active element segments of both forms (indices, expressions),
 * a passive segment (table.init), a declarative one (ref.func in code), a global holding a
 * ref.func, exports, and a start function. Each function contributes its own bit to the exit
 * code: a reference left one off calls a neighbour and changes it.
 */
const RENUMBER = watFull(`(module
  (import ${WASI} "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
  (type $t (func (result i32)))
  (memory (export "memory") 1)
  (table $tab 8 funcref)
  (elem (i32.const 0) $one $two)
  (elem (table $tab) (i32.const 2) funcref (ref.func $three))
  (elem $passive funcref (ref.func $four))
  (elem declare func $five)
  (global $g funcref (ref.func $six))
  (global $acc (mut i32) (i32.const 0))
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $three (result i32) (i32.const 4))
  (func $four (result i32) (i32.const 8))
  (func $five (result i32) (i32.const 16))
  (func $six (result i32) (i32.const 32))
  (func $init (global.set $acc (i32.const 64)))
  (start $init)
  (func $tail (result i32) (return_call $one))
  (func $deep (export "deep") (unreachable))
  (func $sum (export "sum") (result i32)
    (table.init $tab $passive (i32.const 3) (i32.const 0) (i32.const 1))
    (table.set $tab (i32.const 4) (ref.func $five))
    (table.set $tab (i32.const 5) (global.get $g))
    (i32.add (global.get $acc)
      (i32.add (call_indirect (type $t) (i32.const 1))
        (i32.add (call_indirect (type $t) (i32.const 2))
          (i32.add (call_indirect (type $t) (i32.const 3))
            (i32.add (call_indirect (type $t) (i32.const 4))
              (i32.add (call_indirect (type $t) (i32.const 5)) (call $tail))))))))
  (func (export "_start") (call $proc_exit (call $sum))))`);

test('renumbering: calls, element segments of every form, globals, exports and the start function still reach their functions', async () => {
  const instrumented = instrumentInterrupts(extractSnapshot(RENUMBER).module);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(instrumented));
  assert.deepEqual(imports.filter((i) => i.module === 'nv'), [
    { module: 'nv', name: 'yield', kind: 'function' },
    { module: 'nv', name: 'interrupt', kind: 'memory' },
  ]);
  const plain = NanoVm.create(prepareModule(RENUMBER, undefined, { snapshot: 'off' })).run();
  assert.deepEqual([plain.outcome, plain.exitCode], ['exit', 127]);
  const p = prepareModule(RENUMBER);
  assert.equal(p.interruptible, true, 'the module is instrumented');
  for (let i = 0; i < 3; i++) {
    assert.deepEqual([NanoVm.create(p).run().exitCode, (await NanoVm.createAsync(p).runAsync()).exitCode], [127, 127], `run ${i}`);
  }
});

test('renumbering: the name section still names each function (stack traces)', () => {
  const r = NanoVm.create(prepareModule(RENUMBER), { entry: 'deep' }).run();
  assert.equal(r.outcome, 'trap');
  const stack = String((r.error?.cause as Error | undefined)?.stack);
  // Left unshifted, the name section would call this frame by its neighbour's name (sum).
  assert.match(stack.split('\n')[1] ?? '', /at deep \(/, stack);
});

test('the start section becomes the nv:start export (the host runs it on a promising stack)', () => {
  const once = instrumentInterrupts(extractSnapshot(RENUMBER).module);
  const m = new WebAssembly.Module(once);
  assert.ok(WebAssembly.Module.exports(m).some((e) => e.name === 'nv:start' && e.kind === 'function'));
  assert.throws(() => instrumentInterrupts(once), NotInstrumentable, 'never instrumented twice');
});

test('functions that call nothing get no entry check (they run a bounded number of instructions outside their loops)', () => {
  const bytes = wat(`(module
    (import ${WASI} "proc_exit" (func $proc_exit (param i32)))
    (import "env" "memory" (memory 1))
    (func $leaf (export "leaf") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
    (func $caller (export "caller") (result i32) (call $leaf (i32.const 3))))`);
  const bodies = (b: Uint8Array): number[] => {
    const code = readSections(b).find((s) => s.id === SectionId.CODE)!;
    const r = sectionReader(b, code);
    return Array.from({ length: r.u32() }, () => { const n = r.u32(); r.pos += n; return n; });
  };
  const [leaf, caller] = bodies(instrumentInterrupts(bytes));
  const [leaf0, caller0] = bodies(bytes);
  assert.equal(leaf, leaf0, 'the leaf is unchanged');
  assert.ok(caller! > caller0!, 'the caller has its entry check');
});
