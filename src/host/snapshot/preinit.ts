/**
 * Pre-initialisation (what Wizer does for wasmtime users): run the app's initialisation
 * export once at build time, then make the snapshot be the memory and mutable globals it
 * left behind, so every boot starts after init. The initialisation runs on a kernel with no
 * arguments, no environment, no files and no network, and its output is discarded.
 */
import { Kernel, slotImports } from '../../kernel/kernel.ts';
import { BufferInput, OutputBudget, OutputStream } from '../../kernel/stdio.ts';
import { ProcExit } from '../../kernel/unwind.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { concatBytes } from '../../shared/bytes.ts';
import { ByteReader, SectionId, encodeU32, readSections, sectionReader } from '../../shared/wasm-binary.ts';
import { MAX_PAGES, WASM_PAGE } from '../memory-limit.ts';
import { PAGE, nonZeroRuns, type SnapshotModule } from './transform.ts';
import { MEMORY_IMPORT, TABLE_EXPORT_PREFIX, type SnapshotGlobal } from './types.ts';

/** Exports that name an initialisation function, in the order they are looked for. */
export const INIT_EXPORTS = ['wizer.initialize', '_initialize'] as const;
/** What `_initialize` is renamed to once it has run, so no boot runs it again. */
export const INITIALIZED_EXPORT = '__nv_initialized';

function encodeS64(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = BigInt.asIntN(64, value);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return Uint8Array.from(out);
  }
}

/** A constant expression producing `g`'s captured value. */
function constExpr(g: SnapshotGlobal): Uint8Array {
  switch (g.type) {
    case 'i32': return concatBytes([Uint8Array.of(0x41), encodeS64(BigInt(g.value as number)), Uint8Array.of(0x0b)]);
    case 'i64': return concatBytes([Uint8Array.of(0x42), encodeS64(BigInt(g.value as string)), Uint8Array.of(0x0b)]);
    case 'f32': {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setFloat32(0, g.value as number, true);
      return concatBytes([Uint8Array.of(0x43), b, Uint8Array.of(0x0b)]);
    }
    case 'f64': {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, g.value as number, true);
      return concatBytes([Uint8Array.of(0x44), b, Uint8Array.of(0x0b)]);
    }
  }
}

function skipConstExpr(r: ByteReader): void {
  for (;;) {
    const op = r.u8();
    if (op === 0x0b) return;
    if (op === 0x41 || op === 0x23 || op === 0xd2) r.s33();
    else if (op === 0x42) while ((r.u8() & 0x80) !== 0);
    else if (op === 0x43) r.take(4);
    else if (op === 0x44) r.take(8);
    else if (op === 0xd0) r.s33();
  }
}

/** Rewrites the sections that record boot state: memory size, global initialisers, the init export's name. */
function rewrite(bytes: Uint8Array, initialPages: number, globals: ReadonlyMap<number, SnapshotGlobal>, renameInit: string | undefined): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let importedGlobals = 0;
  for (const s of readSections(bytes)) {
    const r = sectionReader(bytes, s);
    const section = (body: Uint8Array) => parts.push(concatBytes([Uint8Array.of(s.id), encodeU32(body.byteLength), body]));
    if (s.id === SectionId.IMPORT) {
      const n = r.u32();
      const entries: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const start = r.pos;
        const module = r.name();
        const name = r.name();
        const kind = r.u8();
        if (kind === 2 && module === MEMORY_IMPORT.module && name === MEMORY_IMPORT.name) {
          const head = bytes.subarray(start, r.pos);
          const flags = r.u8();
          r.u32();
          const max = flags === 1 ? r.u32() : undefined;
          const limits = max === undefined ? concatBytes([Uint8Array.of(0), encodeU32(initialPages)]) : concatBytes([Uint8Array.of(1), encodeU32(initialPages), encodeU32(Math.max(max, initialPages))]);
          entries.push(concatBytes([head, limits]));
          continue;
        }
        if (kind === 0 || kind === 4) { if (kind === 4) r.u8(); r.u32(); }
        else if (kind === 1) { r.u8(); const f = r.u8(); r.u32(); if (f & 1) r.u32(); }
        else if (kind === 2) { const f = r.u8(); r.u32(); if (f & 1) r.u32(); }
        else if (kind === 3) { r.u8(); r.u8(); importedGlobals++; }
        entries.push(bytes.subarray(start, r.pos));
      }
      section(concatBytes([encodeU32(n), ...entries]));
    } else if (s.id === SectionId.GLOBAL) {
      const n = r.u32();
      const entries: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const start = r.pos;
        const valtype = r.u8();
        if (valtype === 0x64 || valtype === 0x63) r.s33();
        const mut = r.u8();
        const head = bytes.subarray(start, r.pos);
        skipConstExpr(r);
        const captured = globals.get(importedGlobals + i);
        entries.push(captured === undefined || mut !== 1 ? bytes.subarray(start, r.pos) : concatBytes([head, constExpr(captured)]));
      }
      section(concatBytes([encodeU32(n), ...entries]));
    } else if (s.id === SectionId.EXPORT && renameInit !== undefined) {
      const n = r.u32();
      const entries: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const start = r.pos;
        const name = r.name();
        const rest = r.pos;
        r.u8();
        r.u32();
        if (name === renameInit) {
          const renamed = new TextEncoder().encode(INITIALIZED_EXPORT);
          entries.push(concatBytes([encodeU32(renamed.length), renamed, bytes.subarray(rest, r.pos)]));
        } else entries.push(bytes.subarray(start, r.pos));
      }
      section(concatBytes([encodeU32(n), ...entries]));
    } else {
      parts.push(bytes.subarray(s.headerStart, s.end));
    }
  }
  return concatBytes(parts);
}

function tableEntries(instance: WebAssembly.Instance): unknown[][] {
  const out: unknown[][] = [];
  for (const [name, value] of Object.entries(instance.exports)) {
    if (!name.startsWith(TABLE_EXPORT_PREFIX)) continue;
    const t = value as WebAssembly.Table;
    const entries: unknown[] = [];
    for (let i = 0; i < t.length; i++) entries.push(t.get(i));
    out.push(entries);
  }
  return out;
}

function refuse(why: string): never {
  throw new NanovisorError('NV_MANIFEST_INVALID', `snapshot.initialize: ${why}`);
}

/**
 * Runs the module's initialisation export and returns a module + snapshot that boot in the
 * initialised state. Throws NV_MANIFEST_INVALID when there is nothing to run or it fails.
 */
export function preinitialize(sealed: SnapshotModule, options: { memoryLimitBytes: number }): SnapshotModule {
  const { snapshot } = sealed;
  const limitPages = Math.min(MAX_PAGES, Math.floor(options.memoryLimitBytes / WASM_PAGE));
  const memory = new WebAssembly.Memory({ initial: snapshot.initialPages, maximum: Math.min(snapshot.maximumPages ?? MAX_PAGES, limitPages) });
  const view = new Uint8Array(memory.buffer);
  for (const s of snapshot.segments) view.set(s.bytes, s.offset);
  const budget = new OutputBudget(1 << 20);
  const discard = new OutputStream(() => {}, budget);
  const kernel = new Kernel({ args: ['init'], env: [], stdio: [new BufferInput(new Uint8Array()), discard, discard], preopens: [] });
  const imports = slotImports({ kernel }) as WebAssembly.Imports;
  imports[MEMORY_IMPORT.module] = { [MEMORY_IMPORT.name]: memory };
  kernel.bindMemory(memory);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(sealed.module), imports);
  const initName = INIT_EXPORTS.find((n) => typeof instance.exports[n] === 'function');
  if (initName === undefined) refuse(`the module exports neither ${INIT_EXPORTS.join(' nor ')}`);
  const tablesBefore = tableEntries(instance);
  try {
    (instance.exports[initName] as () => void)();
  } catch (e) {
    if (!(e instanceof ProcExit && e.exitCode === 0)) {
      refuse(`${initName} failed at build time: ${e instanceof ProcExit ? `exit code ${e.exitCode}` : (e as Error).message}`);
    }
  }
  const tablesAfter = tableEntries(instance);
  if (tablesBefore.some((t, i) => t.length !== tablesAfter[i]!.length || t.some((v, j) => v !== tablesAfter[i]![j]))) {
    refuse(`${initName} changed a function table, which a snapshot cannot carry`);
  }
  const captured = snapshot.globals.map((g): SnapshotGlobal => {
    const v = (instance.exports[g.exportName] as WebAssembly.Global).value;
    return { ...g, value: typeof v === 'bigint' ? v.toString() : (v as number) };
  });
  const initialPages = memory.buffer.byteLength / PAGE;
  const module = rewrite(sealed.module, initialPages, new Map(captured.map((g) => [g.index, g])), initName === '_initialize' ? initName : undefined);
  return {
    module,
    snapshot: {
      ...snapshot,
      initialPages,
      maximumPages: snapshot.maximumPages === undefined ? undefined : Math.max(snapshot.maximumPages, initialPages),
      segments: nonZeroRuns(new Uint8Array(memory.buffer)),
      globals: captured,
      preinitialized: true,
    },
  };
}
