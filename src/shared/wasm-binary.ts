/**
 * A small reader of the WebAssembly binary format: LEB128 numbers, the section list, and the
 * type, import, function, memory and export sections. Enough to check a module's imports
 * against the kernel's ABI (WebAssembly.Module.imports gives no signatures) and to find a
 * section to rewrite. It never executes or compiles anything; every read is bounds-checked
 * and a malformed input throws WasmBinaryError with the byte offset.
 */

export class WasmBinaryError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} @+${offset}`);
    this.name = 'WasmBinaryError';
    this.offset = offset;
  }
}

/** Section ids of the core spec (plus 13 = tag, from exception handling). */
export const SectionId = {
  CUSTOM: 0, TYPE: 1, IMPORT: 2, FUNCTION: 3, TABLE: 4, MEMORY: 5, GLOBAL: 6, EXPORT: 7,
  START: 8, ELEMENT: 9, CODE: 10, DATA: 11, DATA_COUNT: 12, TAG: 13,
} as const;

/** External kinds used by imports and exports. */
export const ExternKind = { FUNC: 0, TABLE: 1, MEMORY: 2, GLOBAL: 3, TAG: 4 } as const;
export type ExternKindName = 'function' | 'table' | 'memory' | 'global' | 'tag';
const KIND_NAMES: readonly ExternKindName[] = ['function', 'table', 'memory', 'global', 'tag'];

export const WASM_MAGIC = Uint8Array.of(0x00, 0x61, 0x73, 0x6d);
export const WASM_VERSION = Uint8Array.of(0x01, 0x00, 0x00, 0x00);

/** A cursor over bytes; each read advances `pos` or throws WasmBinaryError. */
export class ByteReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new WasmBinaryError('unexpected end', this.pos);
    return this.bytes[this.pos++]!;
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32(): number {
    const at = this.pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      if (shift === 28 && (b & 0x70) !== 0) throw new WasmBinaryError('u32 LEB128 out of range', at);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 28) throw new WasmBinaryError('u32 LEB128 too long', at);
    }
  }

  /** Unsigned LEB128 of at most 64 bits. */
  u64(): bigint {
    const at = this.pos;
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new WasmBinaryError('u64 LEB128 too long', at);
    }
    if (result >= 1n << 64n) throw new WasmBinaryError('u64 LEB128 out of range', at);
    return result;
  }

  /** Signed LEB128 of at most 33 bits (heap types, block types). */
  s33(): number {
    const at = this.pos;
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 35) throw new WasmBinaryError('s33 LEB128 too long', at);
    } while ((b & 0x80) !== 0);
    if ((b & 0x40) !== 0) result -= 2 ** shift;
    return result;
  }

  take(n: number): Uint8Array {
    if (n > this.end - this.pos) throw new WasmBinaryError('unexpected end', this.pos);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length-prefixed UTF-8 name. */
  name(): string {
    const at = this.pos;
    const raw = this.take(this.u32());
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new WasmBinaryError('name is not valid UTF-8', at);
    }
  }
}

/** Encodes an unsigned LEB128 number (for rewriting sections). */
export function encodeU32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`not a u32: ${value}`);
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return Uint8Array.from(out);
}

export interface Section {
  id: number;
  /** Offset of the section's id byte (where a rewrite replaces from). */
  headerStart: number;
  /** Offset of the first byte of the section's contents (after id and size). */
  start: number;
  /** Offset just past the section's contents. */
  end: number;
}

/**
 * Every section of a module, in order, after checking the magic number and version.
 *
 * @example
 * for (const s of readSections(bytes)) if (s.id === SectionId.MEMORY) rewrite(bytes, s);
 */
export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8) throw new WasmBinaryError('too short for a module header', bytes.length);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== WASM_MAGIC[i]) throw new WasmBinaryError('bad magic number', 0);
    if (bytes[i + 4] !== WASM_VERSION[i]) throw new WasmBinaryError('unsupported version', 4);
  }
  const r = new ByteReader(bytes, 8);
  const sections: Section[] = [];
  while (!r.done) {
    const headerStart = r.pos;
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    if (size > r.end - start) throw new WasmBinaryError(`section ${id} runs past the end`, headerStart);
    r.pos = start + size;
    sections.push({ id, headerStart, start, end: start + size });
  }
  return sections;
}

/** A reader positioned on one section's contents. */
export function sectionReader(bytes: Uint8Array, s: Section): ByteReader {
  return new ByteReader(bytes, s.start, s.end);
}

/** Value types, by name; reference types with a heap type are written `ref` / `ref null`. */
export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref' | 'ref' | 'ref null' | string;

function valType(r: ByteReader): ValType {
  const at = r.pos;
  const b = r.u8();
  switch (b) {
    case 0x7f: return 'i32';
    case 0x7e: return 'i64';
    case 0x7d: return 'f32';
    case 0x7c: return 'f64';
    case 0x7b: return 'v128';
    case 0x70: return 'funcref';
    case 0x6f: return 'externref';
    case 0x64: r.s33(); return 'ref';
    case 0x63: r.s33(); return 'ref null';
    default:
      // Abstract heap-type shorthands of the GC proposal (anyref, eqref, ...): 0x65..0x74.
      if (b >= 0x65 && b <= 0x74) return `ref(0x${b.toString(16)})`;
      throw new WasmBinaryError(`unknown value type 0x${b.toString(16)}`, at);
  }
}

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

/** One entry of the type index space; non-function types (GC structs, arrays) are `null`. */
export type TypeEntry = FuncType | null;

function compositeType(r: ByteReader): TypeEntry {
  const at = r.pos;
  const form = r.u8();
  if (form === 0x60) {
    const params = vec(r, valType);
    const results = vec(r, valType);
    return { params, results };
  }
  const field = (): void => {
    const t = r.u8();
    if (t !== 0x78 && t !== 0x77) { r.pos--; valType(r); }
    r.u8(); // mutability
  };
  if (form === 0x5f) { vec(r, field); return null; }
  if (form === 0x5e) { field(); return null; }
  throw new WasmBinaryError(`unknown type form 0x${form.toString(16)}`, at);
}

function subType(r: ByteReader): TypeEntry {
  const b = r.bytes[r.pos];
  if (b === 0x50 || b === 0x4f) {
    r.u8();
    vec(r, (x) => x.u32());
  }
  return compositeType(r);
}

function vec<T>(r: ByteReader, item: (r: ByteReader) => T): T[] {
  const n = r.u32();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(item(r));
  return out;
}

/** The type section as a flat index space (recursive groups expanded). */
export function readTypes(r: ByteReader): TypeEntry[] {
  const out: TypeEntry[] = [];
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    if (r.bytes[r.pos] === 0x4e) {
      r.u8();
      out.push(...vec(r, subType));
    } else {
      out.push(subType(r));
    }
  }
  return out;
}

export interface Limits {
  min: bigint;
  max?: bigint;
  shared: boolean;
  /** memory64 */
  is64: boolean;
}

export function readLimits(r: ByteReader): Limits {
  const at = r.pos;
  const flags = r.u8();
  if (flags > 0x07) throw new WasmBinaryError(`unknown limits flags 0x${flags.toString(16)}`, at);
  const is64 = (flags & 0x04) !== 0;
  const min = is64 ? r.u64() : BigInt(r.u32());
  const limits: Limits = { min, shared: (flags & 0x02) !== 0, is64 };
  if ((flags & 0x01) !== 0) limits.max = is64 ? r.u64() : BigInt(r.u32());
  return limits;
}

export type ImportDesc =
  | { kind: 'function'; typeIndex: number }
  | { kind: 'table'; limits: Limits }
  | { kind: 'memory'; limits: Limits }
  | { kind: 'global'; type: ValType; mutable: boolean }
  | { kind: 'tag'; typeIndex: number };

export interface Import {
  module: string;
  name: string;
  desc: ImportDesc;
}

export function readImports(r: ByteReader): Import[] {
  return vec(r, (x) => {
    const module = x.name();
    const name = x.name();
    const at = x.pos;
    const kind = x.u8();
    let desc: ImportDesc;
    switch (kind) {
      case ExternKind.FUNC: desc = { kind: 'function', typeIndex: x.u32() }; break;
      case ExternKind.TABLE: valType(x); desc = { kind: 'table', limits: readLimits(x) }; break;
      case ExternKind.MEMORY: desc = { kind: 'memory', limits: readLimits(x) }; break;
      case ExternKind.GLOBAL: { const type = valType(x); desc = { kind: 'global', type, mutable: x.u8() === 1 }; break; }
      case ExternKind.TAG: x.u8(); desc = { kind: 'tag', typeIndex: x.u32() }; break;
      default: throw new WasmBinaryError(`unknown import kind ${kind}`, at);
    }
    return { module, name, desc };
  });
}

export interface Export {
  name: string;
  kind: ExternKindName;
  index: number;
}

export function readExports(r: ByteReader): Export[] {
  return vec(r, (x) => {
    const name = x.name();
    const at = x.pos;
    const k = x.u8();
    const kind = KIND_NAMES[k];
    if (kind === undefined) throw new WasmBinaryError(`unknown export kind ${k}`, at);
    return { name, kind, index: x.u32() };
  });
}

/** The function section: the type index of each defined function. */
export function readFunctions(r: ByteReader): number[] {
  return vec(r, (x) => x.u32());
}

/** The memory section: the limits of each defined memory. */
export function readMemories(r: ByteReader): Limits[] {
  return vec(r, readLimits);
}

/** What the import/export checks need from a module, read in one pass. */
export interface ModuleLayout {
  sections: Section[];
  types: TypeEntry[];
  imports: Import[];
  /** Type index of each defined (non-imported) function. */
  functions: number[];
  memories: Limits[];
  exports: Export[];
}

/**
 * Reads the sections a validator cares about; the code and data sections are skipped.
 *
 * @example
 * const { imports, types } = readModuleLayout(bytes);
 */
export function readModuleLayout(bytes: Uint8Array): ModuleLayout {
  const sections = readSections(bytes);
  const layout: ModuleLayout = { sections, types: [], imports: [], functions: [], memories: [], exports: [] };
  for (const s of sections) {
    const r = sectionReader(bytes, s);
    switch (s.id) {
      case SectionId.TYPE: layout.types = readTypes(r); break;
      case SectionId.IMPORT: layout.imports = readImports(r); break;
      case SectionId.FUNCTION: layout.functions = readFunctions(r); break;
      case SectionId.MEMORY: layout.memories = readMemories(r); break;
      case SectionId.EXPORT: layout.exports = readExports(r); break;
      default: continue;
    }
    if (r.pos !== s.end) throw new WasmBinaryError(`section ${s.id} has ${s.end - r.pos} trailing bytes`, r.pos);
  }
  return layout;
}

/** `(i32, i64) -> i32`, for messages. */
export function formatFuncType(t: FuncType): string {
  const results = t.results.length === 0 ? '()' : t.results.length === 1 ? t.results[0]! : `(${t.results.join(', ')})`;
  return `(${t.params.join(', ')}) -> ${results}`;
}
