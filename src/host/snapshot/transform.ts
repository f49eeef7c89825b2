/**
 * The build-time snapshot transform. It rewrites a module at the section level — function
 * bodies stay byte-for-byte the same — so that:
 *   - its one memory is imported (`env.memory`) instead of defined, so a host can hand it
 *     a pooled memory;
 *   - its active data segments are emptied and their bytes become the snapshot;
 *   - its mutable globals and tables are exported, so a host can reset an instance and
 *     reuse it for the next VM.
 * Section-level surgery (rather than a full decode/re-encode through a toolchain library)
 * is what keeps the code identical to what the compiler emitted; every rewrite is tested
 * by running the same guests in both forms.
 */
import { NanovisorError } from '../../shared/errors.ts';
import {
  ByteReader, SectionId, WasmBinaryError, encodeU32, readSections, sectionReader, type Section,
} from '../../shared/wasm-binary.ts';
import { concatBytes } from '../../shared/bytes.ts';
import { GLOBAL_EXPORT_PREFIX, MEMORY_IMPORT, TABLE_EXPORT_PREFIX, type GlobalValueType, type Snapshot, type SnapshotGlobal, type SnapshotSegment } from './types.ts';

export const PAGE = 65536;

/** Why a module was left without a snapshot (it still runs, through the ordinary path). */
export class SnapshotUnsupported extends Error {}

interface ConstExpr {
  /** Raw bytes of the expression, `end` included. */
  readonly bytes: Uint8Array;
  /** The value when the expression is a single numeric constant. */
  readonly value?: { type: GlobalValueType; value: number | bigint };
}

function readS64(r: ByteReader): bigint {
  let result = 0n;
  let shift = 0n;
  let b: number;
  do {
    b = r.u8();
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while ((b & 0x80) !== 0);
  if ((b & 0x40) !== 0) result -= 1n << shift;
  return BigInt.asIntN(64, result);
}

/** Reads a constant expression up to and including its `end`. */
function readConstExpr(r: ByteReader): ConstExpr {
  const start = r.pos;
  let value: ConstExpr['value'];
  let count = 0;
  for (;;) {
    const at = r.pos;
    const op = r.u8();
    if (op === 0x0b) break;
    count++;
    switch (op) {
      case 0x41: value = { type: 'i32', value: r.s33() | 0 }; break;
      case 0x42: value = { type: 'i64', value: readS64(r) }; break;
      case 0x43: value = { type: 'f32', value: new DataView(r.take(4).slice().buffer).getFloat32(0, true) }; break;
      case 0x44: value = { type: 'f64', value: new DataView(r.take(8).slice().buffer).getFloat64(0, true) }; break;
      case 0x23: r.u32(); value = undefined; break; // global.get
      case 0xd0: r.s33(); value = undefined; break; // ref.null
      case 0xd2: r.u32(); value = undefined; break; // ref.func
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: value = undefined; break; // extended const
      default: throw new WasmBinaryError(`unsupported instruction 0x${op.toString(16)} in a constant expression`, at);
    }
  }
  return { bytes: r.bytes.subarray(start, r.pos), ...(count === 1 && value !== undefined ? { value } : {}) };
}

const VALTYPE_NAMES: Record<number, GlobalValueType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' };

interface GlobalEntry {
  readonly valtype: number;
  readonly mutable: boolean;
  readonly init: ConstExpr;
  /** Raw bytes of the whole entry. */
  readonly raw: Uint8Array;
}

export interface DataSegment {
  readonly mode: 'active' | 'passive';
  readonly offset?: number;
  readonly data: Uint8Array;
}

interface Parsed {
  readonly sections: Section[];
  readonly importCount: number;
  readonly importedGlobals: number;
  readonly importedTables: number;
  readonly hasImportedMemory: boolean;
  readonly memory: { min: number; max: number | undefined } | undefined;
  readonly globals: GlobalEntry[];
  readonly tables: number;
  readonly exportNames: Set<string>;
  readonly exportCount: number;
  readonly data: DataSegment[];
  readonly hasStart: boolean;
  readonly hasPassiveElements: boolean;
}

function skipLimits(r: ByteReader): { min: number; max: number | undefined; flags: number } {
  const flags = r.u8();
  if (flags > 1) throw new SnapshotUnsupported('shared or 64-bit memory/table');
  const min = r.u32();
  const max = flags === 1 ? r.u32() : undefined;
  return { min, max, flags };
}

function parse(bytes: Uint8Array): Parsed {
  const sections = readSections(bytes);
  let importCount = 0;
  let importedGlobals = 0;
  let importedTables = 0;
  let hasImportedMemory = false;
  let memory: Parsed['memory'];
  const globals: GlobalEntry[] = [];
  let tables = 0;
  const exportNames = new Set<string>();
  let exportCount = 0;
  const data: DataSegment[] = [];
  let hasStart = false;
  let hasPassiveElements = false;
  for (const s of sections) {
    const r = sectionReader(bytes, s);
    switch (s.id) {
      case SectionId.IMPORT: {
        importCount = r.u32();
        for (let i = 0; i < importCount; i++) {
          r.name();
          r.name();
          const kind = r.u8();
          if (kind === 0) r.u32();
          else if (kind === 1) { r.u8(); skipLimits(r); importedTables++; }
          else if (kind === 2) { skipLimits(r); hasImportedMemory = true; }
          else if (kind === 3) { r.u8(); r.u8(); importedGlobals++; }
          else if (kind === 4) { r.u8(); r.u32(); }
          else throw new WasmBinaryError(`unknown import kind ${kind}`, r.pos);
        }
        break;
      }
      case SectionId.TABLE: {
        tables = r.u32();
        for (let i = 0; i < tables; i++) {
          if (r.bytes[r.pos] === 0x40) throw new SnapshotUnsupported('table with an initializer expression');
          r.u8();
          skipLimits(r);
        }
        break;
      }
      case SectionId.MEMORY: {
        const n = r.u32();
        if (n !== 1) throw new SnapshotUnsupported(`module defines ${n} memories`);
        const l = skipLimits(r);
        memory = { min: l.min, max: l.max };
        break;
      }
      case SectionId.GLOBAL: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const start = r.pos;
          const valtype = r.u8();
          if (valtype === 0x64 || valtype === 0x63) r.s33();
          const mutable = r.u8() === 1;
          const init = readConstExpr(r);
          globals.push({ valtype, mutable, init, raw: bytes.subarray(start, r.pos) });
        }
        break;
      }
      case SectionId.EXPORT: {
        exportCount = r.u32();
        for (let i = 0; i < exportCount; i++) {
          exportNames.add(r.name());
          r.u8();
          r.u32();
        }
        break;
      }
      case SectionId.START:
        hasStart = true;
        break;
      case SectionId.ELEMENT: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const flags = r.u32();
          if ((flags & 3) === 1) hasPassiveElements = true;
          if ((flags & 1) === 0) {
            if ((flags & 2) !== 0) r.u32();
            readConstExpr(r);
          }
          const exprs = (flags & 4) !== 0;
          if ((flags & 3) !== 0) r.u8(); // elemkind or reftype (absent only in forms 0 and 4)
          const count = r.u32();
          for (let j = 0; j < count; j++) {
            if (exprs) readConstExpr(r);
            else r.u32();
          }
        }
        break;
      }
      case SectionId.DATA: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const flag = r.u32();
          if (flag === 1) {
            data.push({ mode: 'passive', data: r.take(r.u32()) });
            continue;
          }
          if (flag === 2 && r.u32() !== 0) throw new SnapshotUnsupported('data segment for a second memory');
          if (flag > 2) throw new WasmBinaryError(`unknown data segment flag ${flag}`, r.pos);
          const offset = readConstExpr(r);
          if (offset.value?.type !== 'i32') throw new SnapshotUnsupported('data segment offset is not a constant');
          data.push({ mode: 'active', offset: (offset.value.value as number) >>> 0, data: r.take(r.u32()) });
        }
        break;
      }
      default:
        break;
    }
  }
  return {
    sections, importCount, importedGlobals, importedTables, hasImportedMemory, memory, globals, tables,
    exportNames, exportCount, data, hasStart, hasPassiveElements,
  };
}

/** Splits a memory image into runs of non-zero bytes (zero gaps shorter than `gap` are kept inside a run). */
export function nonZeroRuns(image: Uint8Array, gap = 64): SnapshotSegment[] {
  const out: SnapshotSegment[] = [];
  let i = 0;
  const n = image.length;
  // Zeros are skipped four bytes at a time: a memory of gigabytes is mostly zero.
  const words = image.byteOffset % 4 === 0 ? new Int32Array(image.buffer, image.byteOffset, n >>> 2) : undefined;
  while (i < n) {
    if (words !== undefined) {
      let w = (i + 3) >>> 2;
      if (image[i] === 0 && (i & 3) === 0) {
        while (w < words.length && words[w] === 0) w++;
        i = w << 2;
      }
    }
    while (i < n && image[i] === 0) i++;
    if (i >= n) break;
    const start = i;
    let lastNonZero = i;
    while (i < n && i - lastNonZero <= gap) {
      if (image[i] !== 0) lastNonZero = i;
      i++;
    }
    out.push({ offset: start, bytes: image.slice(start, lastNonZero + 1) });
    i = lastNonZero + 1;
  }
  return out;
}

/**
 * The non-zero runs of the memory that the active data segments initialise, computed over
 * the segments' ranges only: the rest of the initial memory is zero, however large it is, so
 * this costs what the data section holds, not what the memory declares. Segments closer than
 * `gap` are laid out together (later ones overwrite earlier ones, as instantiation does), so
 * the result is exactly what `nonZeroRuns` gives over the whole initial memory.
 */
export function dataRuns(data: readonly DataSegment[], gap = 64): SnapshotSegment[] {
  const active = data
    .map((d, order) => ({ offset: d.offset ?? 0, bytes: d.data, order, mode: d.mode }))
    .filter((d) => d.mode === 'active' && d.bytes.byteLength > 0)
    .sort((a, b) => a.offset - b.offset || a.order - b.order);
  const out: SnapshotSegment[] = [];
  let i = 0;
  while (i < active.length) {
    const start = active[i]!.offset;
    let end = start + active[i]!.bytes.byteLength;
    let j = i + 1;
    while (j < active.length && active[j]!.offset <= end + gap) {
      end = Math.max(end, active[j]!.offset + active[j]!.bytes.byteLength);
      j++;
    }
    const cluster = active.slice(i, j).sort((a, b) => a.order - b.order);
    const image = new Uint8Array(end - start);
    for (const d of cluster) image.set(d.bytes, d.offset - start);
    for (const run of nonZeroRuns(image, gap)) out.push({ offset: run.offset + start, bytes: run.bytes });
    i = j;
  }
  return out;
}

function section(id: number, body: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.of(id), encodeU32(body.byteLength), body]);
}

function nameBytes(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  return concatBytes([encodeU32(b.byteLength), b]);
}

function limitsBytes(min: number, max: number | undefined): Uint8Array {
  return max === undefined ? concatBytes([Uint8Array.of(0), encodeU32(min)]) : concatBytes([Uint8Array.of(1), encodeU32(min), encodeU32(max)]);
}

/**
 * `bytes` with its own memory turned into the import `env.memory` (same limits, same index 0,
 * so no instruction changes), plus `addedExports`; `emptyActiveData` empties active data
 * segments (their bytes live in a snapshot instead). Fresh instances of such a module can
 * carry interrupt checks (src/host/interrupt), which need the guest's memory imported.
 */
function rewriteMemoryAsImport(bytes: Uint8Array, p: Parsed, memory: { min: number; max: number | undefined }, addedExports: Uint8Array[], emptyActiveData: boolean): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let importWritten = false;
  const memoryImport = concatBytes([
    nameBytes(MEMORY_IMPORT.module), nameBytes(MEMORY_IMPORT.name), Uint8Array.of(2), limitsBytes(memory.min, memory.max),
  ]);
  const writeImports = (existing: Uint8Array | undefined) => {
    const body = existing === undefined
      ? concatBytes([encodeU32(1), memoryImport])
      : concatBytes([encodeU32(p.importCount + 1), existing, memoryImport]);
    parts.push(section(SectionId.IMPORT, body));
    importWritten = true;
  };
  for (const s of p.sections) {
    const raw = bytes.subarray(s.headerStart, s.end);
    // The import section sits right after the type section; create it there if absent.
    if (!importWritten && s.id !== SectionId.CUSTOM && s.id !== SectionId.TYPE && s.id !== SectionId.IMPORT) writeImports(undefined);
    switch (s.id) {
      case SectionId.IMPORT: {
        const r = sectionReader(bytes, s);
        r.u32();
        writeImports(bytes.subarray(r.pos, s.end));
        break;
      }
      case SectionId.MEMORY:
        break; // now imported
      case SectionId.EXPORT: {
        if (addedExports.length === 0) { parts.push(raw); break; }
        const r = sectionReader(bytes, s);
        r.u32();
        parts.push(section(SectionId.EXPORT, concatBytes([encodeU32(p.exportCount + addedExports.length), bytes.subarray(r.pos, s.end), ...addedExports])));
        break;
      }
      case SectionId.DATA: {
        if (!emptyActiveData) { parts.push(raw); break; }
        // Keep the segment count (a data-count section and memory.init indices rely on it);
        // active segments become empty, passive ones keep their bytes.
        const segs = p.data.map((d) => d.mode === 'passive'
          ? concatBytes([Uint8Array.of(1), encodeU32(d.data.byteLength), d.data])
          : Uint8Array.of(0, 0x41, 0, 0x0b, 0));
        parts.push(section(SectionId.DATA, concatBytes([encodeU32(segs.length), ...segs])));
        break;
      }
      default:
        parts.push(raw);
    }
  }
  if (!importWritten) writeImports(undefined);
  return concatBytes(parts);
}

/**
 * The module with its memory imported as `env.memory` and nothing else changed: for fresh
 * instances (no snapshot) that still get interrupt checks. Returns undefined when the module
 * already imports its memory or defines none; throws SnapshotUnsupported where `parse` does.
 */
export function importOwnMemory(bytes: Uint8Array): Uint8Array | undefined {
  const p = parse(bytes);
  if (p.hasImportedMemory || p.memory === undefined) return undefined;
  return rewriteMemoryAsImport(bytes, p, p.memory, [], false);
}

export interface SnapshotModule {
  /** The rewritten module: imports `env.memory`, no data-segment bytes, state exported. */
  readonly module: Uint8Array;
  readonly snapshot: Snapshot;
}

/**
 * Moves memory initialisation out of `bytes`. Throws SnapshotUnsupported (with the reason)
 * for modules it cannot transform faithfully; callers then keep the original module.
 */
export function extractSnapshot(bytes: Uint8Array): SnapshotModule {
  const p = parse(bytes);
  if (p.hasImportedMemory) throw new SnapshotUnsupported('module already imports its memory');
  if (p.memory === undefined) throw new SnapshotUnsupported('module defines no memory');
  const initialBytes = p.memory.min * PAGE;
  p.data.forEach((seg, i) => {
    if (seg.mode === 'active' && seg.offset! + seg.data.byteLength > initialBytes) {
      // The module could never start (instantiation fails): refused, not run without a snapshot.
      throw new NanovisorError('NV_MODULE_INVALID', `module cannot be instantiated: data segment ${i} is out of bounds (offset ${seg.offset}, length ${seg.data.byteLength}, initial memory ${initialBytes} bytes)`, {
        details: { segment: i, offset: seg.offset, length: seg.data.byteLength, memoryBytes: initialBytes },
      });
    }
  });

  // Mutable numeric globals are exported so a reused instance can be reset.
  let reusable = !p.hasStart && !p.hasPassiveElements && !p.data.some((d) => d.mode === 'passive') && p.importedTables === 0;
  const globals: SnapshotGlobal[] = [];
  p.globals.forEach((g, i) => {
    if (!g.mutable) return;
    const type = VALTYPE_NAMES[g.valtype];
    if (type === undefined || g.init.value === undefined) {
      reusable = false;
      return;
    }
    const index = p.importedGlobals + i;
    let exportName = `${GLOBAL_EXPORT_PREFIX}${index}`;
    while (p.exportNames.has(exportName)) exportName += '_';
    const v = g.init.value.value;
    globals.push({ index, type, value: typeof v === 'bigint' ? v.toString() : v, exportName });
  });
  const tableExports: string[] = [];
  for (let t = 0; t < p.tables; t++) {
    let name = `${TABLE_EXPORT_PREFIX}${p.importedTables + t}`;
    while (p.exportNames.has(name)) name += '_';
    tableExports.push(name);
  }

  if (!p.sections.some((s) => s.id === SectionId.EXPORT)) {
    throw new SnapshotUnsupported('module has no export section');
  }
  const added = [
    ...globals.map((g) => concatBytes([nameBytes(g.exportName), Uint8Array.of(3), encodeU32(g.index)])),
    ...tableExports.map((name, t) => concatBytes([nameBytes(name), Uint8Array.of(1), encodeU32(p.importedTables + t)])),
  ];
  const module = rewriteMemoryAsImport(bytes, p, p.memory, added, true);
  return {
    module,
    snapshot: {
      initialPages: p.memory.min,
      maximumPages: p.memory.max,
      segments: dataRuns(p.data),
      globals,
      reusable,
      preinitialized: false,
    },
  };
}
