/**
 * Dirty-page tracking compiled into a module, so resetting a pooled instance costs what a
 * VM wrote, not what its snapshot holds. Before every store to memory 0 (the guest's own,
 * imported memory) the guest marks the store's page in a byte map, an imported memory of its
 * own (`nv.dirty`): `map[ea >> 12]` and the next byte are set with one `i32.store16`, so a
 * store that straddles two 4 KiB pages marks both. Bulk writes (`memory.fill`, `memory.copy`,
 * `memory.init` into memory 0) call an appended function that marks every page of their
 * range. The host resets only the marked pages from the snapshot and clears their marks.
 *
 * What a host writes into the memory (the canonical ABI lowering results into it) is not
 * seen by this code: the component pool marks those writes itself (src/host/component/pool.ts).
 *
 * The pass also tells whether the code can change a table (`table.set`, `table.grow`,
 * `table.fill`, `table.copy`, `table.init`): a pool then compares tables at reset; a module
 * that cannot skips that. Atomic (threads) instructions are refused: the pass does not know
 * which of them write.
 */
import { concatBytes } from '../../shared/bytes.ts';
import {
  ByteReader, ExternKind, SectionId, WasmBinaryError, encodeU32, readFunctions, readImports, readSections, readTypes,
  sectionReader, type TypeEntry,
} from '../../shared/wasm-binary.ts';
import { skipLocals, walkExpression } from '../../shared/wasm-code.ts';
import { NotInstrumentable } from '../interrupt/instrument.ts';

export const DIRTY_IMPORT = { module: 'nv', name: 'dirty' } as const;
/** Pages of the byte map are 4 KiB of guest memory each. */
export const DIRTY_PAGE_SHIFT = 12;
export const DIRTY_PAGE = 1 << DIRTY_PAGE_SHIFT;
/** The map covers a whole 32-bit memory plus the byte a straddling mark sets past its end: 17 wasm pages. */
export const DIRTY_MAP_PAGES = Math.ceil(((2 ** 32 / DIRTY_PAGE) + 2) / 65536);

export interface DirtyInstrumented {
  readonly module: Uint8Array;
  /** Whether any instruction may change a table (the pool must then compare tables at reset). */
  readonly mutatesTables: boolean;
}

const I32 = 0x7f;
const I64 = 0x7e;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;

/** Value type a store opcode (0x36..0x3e) takes. */
function storedType(op: number): number {
  if (op === 0x36 || op === 0x3a || op === 0x3b) return I32;
  if (op === 0x38) return F32;
  if (op === 0x39) return F64;
  return I64;
}

function encodeS32(value: number): Uint8Array {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return Uint8Array.from(out);
  }
}

const localGet = (i: number): Uint8Array => concatBytes([Uint8Array.of(0x20), encodeU32(i)]);
const localSet = (i: number): Uint8Array => concatBytes([Uint8Array.of(0x21), encodeU32(i)]);
const localTee = (i: number): Uint8Array => concatBytes([Uint8Array.of(0x22), encodeU32(i)]);

function section(id: number, contents: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.of(id), encodeU32(contents.length), contents]);
}

function name(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  return concatBytes([encodeU32(b.length), b]);
}

/** A memarg read after its opcode: the memory it addresses and its static offset. */
function readMemarg(r: ByteReader): { memory: number; offset: number } {
  const align = r.u32();
  const memory = (align & 0x40) !== 0 ? r.u32() : 0;
  const offset = r.u64();
  if (offset >= 1n << 32n) throw new NotInstrumentable('a 64-bit memory offset');
  return { memory, offset: Number(offset) };
}

interface Temps {
  /** The address (i32) and two more i32 temporaries, then one per other value type. */
  readonly a: number;
  readonly i32b: number;
  readonly i32c: number;
  readonly i64: number;
  readonly f32: number;
  readonly f64: number;
  readonly v128: number;
}

class DirtyRewriter {
  readonly #bytes: Uint8Array;
  readonly #dirtyMemory: number;
  readonly #markRange: number;
  mutatesTables = false;

  constructor(bytes: Uint8Array, dirtyMemory: number, markRange: number) {
    this.#bytes = bytes;
    this.#dirtyMemory = dirtyMemory;
    this.#markRange = markRange;
    this.#markTop = concatBytes([
      Uint8Array.of(0x41, DIRTY_PAGE_SHIFT, 0x76, 0x41, 0x81, 0x02, 0x3b, 0x40), encodeU32(dirtyMemory), Uint8Array.of(0x00),
    ]);
  }

  /** `(ea >> 12)` is on the stack: mark it and the next page. */
  readonly #markTop: Uint8Array;
  /** `i32.const o; i32.add` by static offset (a module uses few distinct offsets). */
  readonly #addOffset = new Map<number, Uint8Array>();

  #offset(offset: number): Uint8Array {
    let code = this.#addOffset.get(offset);
    if (code === undefined) {
      code = offset === 0 ? new Uint8Array() : concatBytes([Uint8Array.of(0x41), encodeS32(offset), Uint8Array.of(0x6a)]);
      this.#addOffset.set(offset, code);
    }
    return code;
  }

  /**
   * Code marking the page of a store whose address and value are on the stack, leaving them
   * there: `local.set $v; local.tee $a; [i32.const o; i32.add]; mark; local.get $a; local.get $v`.
   * `before`/`after` are the body's own `local.set $v; local.tee $a` and `local.get $a; local.get $v`.
   */
  #beforeStore(before: Uint8Array, after: Uint8Array, offset: number): Uint8Array[] {
    return [before, this.#offset(offset), this.#markTop, after];
  }

  /** Code marking `[d, d + n)` of a bulk write whose `d, x, n` (all i32) are on the stack, leaving them there. */
  #beforeBulk(t: Temps): Uint8Array {
    return concatBytes([
      localSet(t.i32c), localSet(t.i32b), localTee(t.a), localGet(t.i32c),
      Uint8Array.of(0x10), encodeU32(this.#markRange),
      localGet(t.a), localGet(t.i32b), localGet(t.i32c),
    ]);
  }

  /** One body (after its size), with marks before every write to memory 0. */
  body(start: number, end: number, params: number): Uint8Array {
    const bytes = this.#bytes;
    const r = new ByteReader(bytes, start, end);
    const groups = r.u32();
    let declared = 0;
    for (let i = 0; i < groups; i++) {
      declared += r.u32();
      const ty = r.u8();
      if (ty === 0x63 || ty === 0x64) r.s33();
    }
    const codeStart = r.pos;
    const base = params + declared;
    const t: Temps = { a: base, i32b: base + 1, i32c: base + 2, i64: base + 3, f32: base + 4, f64: base + 5, v128: base + 6 };
    const parts: Uint8Array[] = [];
    let copied = codeStart;
    let changed = false;
    let usesV128 = false;
    const insert = (at: number, code: Uint8Array | Uint8Array[]): void => {
      parts.push(bytes.subarray(copied, at));
      if (Array.isArray(code)) parts.push(...code);
      else parts.push(code);
      copied = at;
      changed = true;
    };
    // Per value type: `local.set $v; local.tee $a` before the mark, `local.get $a; local.get $v` after.
    const around = new Map<number, [Uint8Array, Uint8Array]>();
    const aroundFor = (v: number): [Uint8Array, Uint8Array] => {
      let pair = around.get(v);
      if (pair === undefined) {
        pair = [concatBytes([localSet(v), localTee(t.a)]), concatBytes([localGet(t.a), localGet(v)])];
        around.set(v, pair);
      }
      return pair;
    };
    walkExpression(r, (op, at, after) => {
      if (op >= 0x36 && op <= 0x3e) {
        const m = readMemarg(new ByteReader(bytes, at + 1, after));
        if (m.memory !== 0) return;
        const ty = storedType(op);
        const [pre, post] = aroundFor(ty === I32 ? t.i32b : ty === I64 ? t.i64 : ty === F32 ? t.f32 : t.f64);
        insert(at, this.#beforeStore(pre, post, m.offset));
      } else if (op === 0x26) {
        this.mutatesTables = true; // table.set
      } else if (op === 0xfc) {
        const sub = new ByteReader(bytes, at + 1, after);
        const code = sub.u32();
        if (code === 12 || code === 14 || code === 15 || code === 17) this.mutatesTables = true;
        let target: number | undefined;
        if (code === 8) { sub.u32(); target = sub.u32(); } // memory.init data memory
        else if (code === 10) target = sub.u32(); // memory.copy dst src
        else if (code === 11) target = sub.u32(); // memory.fill memory
        if (target === 0) insert(at, this.#beforeBulk(t));
      } else if (op === 0xfd) {
        const sub = new ByteReader(bytes, at + 1, after);
        const code = sub.u32();
        if (code === 11 || (code >= 88 && code <= 91)) { // v128.store, v128.storeN_lane
          const m = readMemarg(sub);
          if (m.memory !== 0) return;
          usesV128 = true;
          const [pre, post] = aroundFor(t.v128);
          insert(at, this.#beforeStore(pre, post, m.offset));
        }
      } else if (op === 0xfe) {
        throw new NotInstrumentable('atomic instructions');
      }
    });
    if (r.pos !== end) throw new WasmBinaryError('function body has trailing bytes', r.pos);
    if (!changed) return concatBytes([encodeU32(end - start), bytes.subarray(start, end)]);
    parts.push(bytes.subarray(copied, end));
    const added = [[3, I32], [1, I64], [1, F32], [1, F64], ...(usesV128 ? [[1, V128]] : [])] as const;
    const locals = concatBytes([
      encodeU32(groups + added.length), bytes.subarray(start + encodeU32(groups).length, codeStart),
      ...added.map(([n, ty]) => concatBytes([encodeU32(n), Uint8Array.of(ty)])),
    ]);
    if (bytes.subarray(start, start + encodeU32(groups).length).some((b, i) => b !== encodeU32(groups)[i])) {
      throw new NotInstrumentable('a non-canonical local count');
    }
    const body = concatBytes([locals, ...parts]);
    return concatBytes([encodeU32(body.length), body]);
  }

  /** `mark_range(d, n)`: marks every page of `[d, d + n)`; nothing when `n` is 0 or the range wraps (the write traps). */
  markRangeBody(): Uint8Array {
    const mem = encodeU32(this.#dirtyMemory);
    const body = concatBytes([
      Uint8Array.of(0x01, 0x02, I32), // locals: p, last
      Uint8Array.of(0x20, 0x01, 0x45, 0x04, 0x40, 0x0f, 0x0b), // if n == 0 return
      Uint8Array.of(0x20, 0x00, 0x41, DIRTY_PAGE_SHIFT, 0x76, 0x21, 0x02), // p = d >> 12
      Uint8Array.of(0x20, 0x00, 0x20, 0x01, 0x6a, 0x41, 0x01, 0x6b, 0x41, DIRTY_PAGE_SHIFT, 0x76, 0x21, 0x03), // last = (d + n - 1) >> 12
      Uint8Array.of(0x02, 0x40, 0x03, 0x40), // block loop
      Uint8Array.of(0x20, 0x02, 0x20, 0x03, 0x4b, 0x0d, 0x01), // br_if 1 (p > last)
      Uint8Array.of(0x20, 0x02, 0x41, 0x01, 0x3a, 0x40), mem, Uint8Array.of(0x00), // map[p] = 1
      Uint8Array.of(0x20, 0x02, 0x41, 0x01, 0x6a, 0x21, 0x02, 0x0c, 0x00), // p++; br 0
      Uint8Array.of(0x0b, 0x0b, 0x0b), // end loop, end block, end
    ]);
    return concatBytes([encodeU32(body.length), body]);
  }
}

/**
 * Returns the module with dirty-page marks. Its memories must all be imported (the guest's
 * own is memory 0); the map is imported after them as `nv.dirty`. Throws NotInstrumentable
 * for what the pass cannot take.
 */
export function instrumentDirtyPages(bytes: Uint8Array): DirtyInstrumented {
  const sections = readSections(bytes);
  if (sections.some((s) => s.id === SectionId.MEMORY)) throw new NotInstrumentable('module defines its memory');
  let types: TypeEntry[] = [];
  let functions: number[] = [];
  let funcImports = 0;
  let memories = 0;
  try {
    for (const s of sections) {
      const r = sectionReader(bytes, s);
      if (s.id === SectionId.TYPE) types = readTypes(r);
      else if (s.id === SectionId.FUNCTION) functions = readFunctions(r);
      else if (s.id === SectionId.IMPORT) {
        for (const i of readImports(r)) {
          if (i.desc.kind === 'function') funcImports++;
          if (i.desc.kind === 'memory') memories++;
          if (i.module === DIRTY_IMPORT.module && i.name === DIRTY_IMPORT.name) throw new NotInstrumentable('module already imports nv.dirty');
        }
      }
    }
    if (memories === 0) throw new NotInstrumentable('module imports no memory');
    if (!sections.some((s) => s.id === SectionId.TYPE) || !sections.some((s) => s.id === SectionId.IMPORT)
      || !sections.some((s) => s.id === SectionId.FUNCTION) || !sections.some((s) => s.id === SectionId.CODE)) {
      throw new NotInstrumentable('module lacks a type, import, function or code section');
    }
    const markType = types.length;
    const markRange = funcImports + functions.length;
    const w = new DirtyRewriter(bytes, memories, markRange);
    const parts: Uint8Array[] = [bytes.subarray(0, 8)];
    for (const s of sections) {
      const r = sectionReader(bytes, s);
      switch (s.id) {
        case SectionId.TYPE: {
          const n = r.u32();
          parts.push(section(s.id, concatBytes([encodeU32(n + 1), bytes.subarray(r.pos, s.end), Uint8Array.of(0x60, 0x02, I32, I32, 0x00)])));
          break;
        }
        case SectionId.IMPORT: {
          const n = r.u32();
          const map = concatBytes([name(DIRTY_IMPORT.module), name(DIRTY_IMPORT.name), Uint8Array.of(ExternKind.MEMORY, 0x01), encodeU32(DIRTY_MAP_PAGES), encodeU32(DIRTY_MAP_PAGES)]);
          parts.push(section(s.id, concatBytes([encodeU32(n + 1), bytes.subarray(r.pos, s.end), map])));
          break;
        }
        case SectionId.FUNCTION: {
          const n = r.u32();
          parts.push(section(s.id, concatBytes([encodeU32(n + 1), bytes.subarray(r.pos, s.end), encodeU32(markType)])));
          break;
        }
        case SectionId.CODE: {
          const n = r.u32();
          const bodies: Uint8Array[] = [encodeU32(n + 1)];
          for (let j = 0; j < n; j++) {
            const size = r.u32();
            const type = types[functions[j]!];
            if (type == null) throw new NotInstrumentable('a function whose type is not a function type');
            bodies.push(w.body(r.pos, r.pos + size, type.params.length));
            r.pos += size;
          }
          bodies.push(w.markRangeBody());
          parts.push(section(s.id, concatBytes(bodies)));
          break;
        }
        default:
          parts.push(bytes.subarray(s.headerStart, s.end));
      }
    }
    return { module: concatBytes(parts), mutatesTables: w.mutatesTables };
  } catch (e) {
    if (e instanceof WasmBinaryError) throw new NotInstrumentable(e.message);
    throw e;
  }
}
