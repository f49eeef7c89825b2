/**
 * Interrupt checks, the way wasmtime's epoch interruption works: at the start of every
 * function that calls anything and every loop iteration the guest reads one word of a small
 * shared memory (`nv.interrupt`, memory index 1). When the host's watchdog thread has flagged
 * it — the slice's deadline passed, or on the asynchronous path its quantum is used up — the
 * check calls the imported host function `nv.yield` (`[] -> [i32]`), which either suspends the
 * guest until its next slice (JSPI) and returns 0, or returns 1 to stop it: the guest then
 * executes `unreachable`, a trap it cannot catch. An unflagged check is one load and a branch.
 * Only modules whose own memory is imported (the snapshot form) are instrumented, so adding a
 * memory import shifts no memory index.
 *
 * At a loop head the call is inline. At a function's entry it goes through a stub of the same
 * type, appended after the defined functions: the check passes the parameters on to the stub
 * and returns what it returns; the stub asks the host, then calls the function afresh (nothing
 * of it has run yet). The stub call is in tail position, so nothing the function computes is
 * live across it, and the hot path costs what a check that only traps did — an inline call
 * whose caller carries on made a call-heavy guest (fib) ~30 % slower. Functions that call
 * nothing (leaves) get no entry check: outside their (checked) loops they run a bounded number
 * of instructions.
 *
 * Adding a function import shifts every defined function's index by one: calls, `ref.func`
 * (in code, globals, tables and element segments of every format), exports, and the name
 * section are renumbered. The start section is taken out and its function exported as
 * `nv:start` for the host to call: on the asynchronous path, guest code may only call a
 * suspending import (`nv.yield`, `poll_oneoff`) on a stack entered through
 * `WebAssembly.promising`, which a start section run by instantiation is not.
 */
import { concatBytes } from '../../shared/bytes.ts';
import {
  ByteReader, ExternKind, SectionId, WasmBinaryError, encodeU32, readExports, readFunctions, readImports, readSections, readTypes,
  sectionReader, type Section, type TypeEntry,
} from '../../shared/wasm-binary.ts';
import { skipLocals, walkExpression } from '../../shared/wasm-code.ts';

export const INTERRUPT_IMPORT = { module: 'nv', name: 'interrupt' } as const;
export const YIELD_IMPORT = { module: 'nv', name: 'yield' } as const;
/** The export under which an instrumented module's former start function is called by the host. */
export const START_EXPORT = 'nv:start';

/**
 * `i32.const 0; i32.load (memory 1); i32.const 0; i32.lt_s; if` — the watchdog sets the word's
 * top bit, which makes it negative.
 */
const FLAGGED = Uint8Array.of(0x41, 0x00, 0x28, 0x42, 0x01, 0x00, 0x41, 0x00, 0x48, 0x04, 0x40);

/** `call $yield; if; unreachable; end`: ask the host; trap if it says stop. */
function askHost(yieldIndex: number): Uint8Array {
  return concatBytes([Uint8Array.of(0x10), encodeU32(yieldIndex), Uint8Array.of(0x04, 0x40, 0x00, 0x0b)]);
}

/** `local.get 0 .. n-1` */
function getParams(n: number): Uint8Array {
  return concatBytes(Array.from({ length: n }, (_, i) => concatBytes([Uint8Array.of(0x20), encodeU32(i)])));
}

export class NotInstrumentable extends Error {}

function name(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  return concatBytes([encodeU32(b.length), b]);
}

function section(id: number, contents: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.of(id), encodeU32(contents.length), contents]);
}

/** Copies a byte range, with some sub-ranges replaced. */
class Splice {
  readonly #bytes: Uint8Array;
  readonly #parts: Uint8Array[] = [];
  #copied: number;

  constructor(bytes: Uint8Array, start: number) {
    this.#bytes = bytes;
    this.#copied = start;
  }

  replace(from: number, to: number, replacement: Uint8Array): void {
    this.#parts.push(this.#bytes.subarray(this.#copied, from), replacement);
    this.#copied = to;
  }

  finish(end: number): Uint8Array {
    this.#parts.push(this.#bytes.subarray(this.#copied, end));
    return concatBytes(this.#parts);
  }
}

/** Position in the module of each known section (the tag and data-count sections are out of id order). */
const RANK: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

/** What the rewrite needs to know before it writes anything. */
interface Plan {
  /** Imported functions: the index `nv.yield` takes; defined functions from here on shift by one. */
  funcImports: number;
  memories: number;
  /** Flat count of the type section: the index of the added `[] -> [i32]` type. */
  types: number;
  typeEntries: TypeEntry[];
  /** Type index of each defined function. */
  functions: number[];
  /** Whether each defined function calls anything (and so gets an entry check and a stub). */
  calls: boolean[];
  /** New index of the entry stub of each defined function that has one. */
  stubs: Map<number, number>;
  start: number | undefined;
}

/** Whether a function body calls anything: call, call_indirect, return_call(_indirect), call_ref, return_call_ref. */
function callsAnything(bytes: Uint8Array, start: number, end: number): boolean {
  const r = new ByteReader(bytes, start, end);
  skipLocals(r);
  let calls = false;
  walkExpression(r, (op) => { if (op >= 0x10 && op <= 0x15) calls = true; });
  return calls;
}

function plan(bytes: Uint8Array, sections: Section[]): Plan {
  const p: Plan = { funcImports: 0, memories: 0, types: 0, typeEntries: [], functions: [], calls: [], stubs: new Map(), start: undefined };
  for (const s of sections) {
    const r = sectionReader(bytes, s);
    if (s.id === SectionId.TYPE) { p.typeEntries = readTypes(r); p.types = p.typeEntries.length; }
    else if (s.id === SectionId.FUNCTION) p.functions = readFunctions(r);
    else if (s.id === SectionId.CODE) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const size = r.u32();
        p.calls.push(callsAnything(bytes, r.pos, r.pos + size));
        r.pos += size;
      }
    } else if (s.id === SectionId.IMPORT) {
      for (const i of readImports(r)) {
        if (i.desc.kind === 'function') p.funcImports++;
        if (i.desc.kind === 'memory') p.memories++;
        if (i.module === YIELD_IMPORT.module) throw new NotInstrumentable('module already imports from "nv"');
      }
    } else if (s.id === SectionId.EXPORT) {
      if (readExports(r).some((e) => e.name === START_EXPORT)) throw new NotInstrumentable(`module exports "${START_EXPORT}"`);
    } else if (s.id === SectionId.START) p.start = r.u32();
  }
  if (p.calls.length !== p.functions.length) throw new WasmBinaryError('function and code sections disagree', 0);
  // Stubs go after every defined function (which the added import shifts by one).
  let next = p.funcImports + 1 + p.functions.length;
  p.calls.forEach((calls, j) => {
    if (!calls) return;
    if (p.typeEntries[p.functions[j]!] == null) throw new NotInstrumentable('a function whose type is not a function type');
    p.stubs.set(j, next++);
  });
  return p;
}

class Rewriter {
  readonly #bytes: Uint8Array;
  readonly #plan: Plan;
  /** The loop-head check: `FLAGGED; call $yield; if; unreachable; end; end`. */
  readonly #loopCheck: Uint8Array;

  constructor(bytes: Uint8Array, p: Plan) {
    this.#bytes = bytes;
    this.#plan = p;
    this.#loopCheck = concatBytes([FLAGGED, askHost(p.funcImports), Uint8Array.of(0x0b)]);
  }

  #params(j: number): number {
    return this.#plan.typeEntries[this.#plan.functions[j]!]!.params.length;
  }

  /**
   * The entry check of defined function `j`: `FLAGGED; local.get 0..n-1; call $stub; return;
   * end`. The call is in tail position, so no value of the function is live across it and
   * the hot path stays as cheap as a check that only traps (a call whose results the function
   * goes on using makes V8 keep its values out of registers: fib(32) ran ~30 % slower).
   */
  #entryCheck(j: number): Uint8Array {
    return concatBytes([FLAGGED, getParams(this.#params(j)), Uint8Array.of(0x10), encodeU32(this.#plan.stubs.get(j)!), Uint8Array.of(0x0f, 0x0b)]);
  }

  /** The stub of defined function `j`: ask the host (trap on stop), then enter the function afresh. */
  #stub(j: number): Uint8Array {
    const body = concatBytes([
      Uint8Array.of(0x00), askHost(this.#plan.funcImports), getParams(this.#params(j)),
      Uint8Array.of(0x10), encodeU32(this.#plan.funcImports + 1 + j), Uint8Array.of(0x0b),
    ]);
    return concatBytes([encodeU32(body.length), body]);
  }

  /** The function section, with the stubs' types after the defined functions'. */
  functions(sec: Section): Uint8Array {
    const r = sectionReader(this.#bytes, sec);
    const n = r.u32();
    const stubTypes = [...this.#plan.stubs.keys()].map((j) => encodeU32(this.#plan.functions[j]!));
    return concatBytes([encodeU32(n + stubTypes.length), this.#bytes.subarray(r.pos, sec.end), ...stubTypes]);
  }

  func(index: number): number {
    return index >= this.#plan.funcImports ? index + 1 : index;
  }

  /** A function index at the reader, renumbered, into `s`. */
  funcIndex(r: ByteReader, s: Splice): void {
    const at = r.pos;
    const index = r.u32();
    s.replace(at, r.pos, encodeU32(this.func(index)));
  }

  /** Walks an expression (a constant expression or a body's code) to its `end`, renumbering function references. */
  expression(r: ByteReader, s: Splice, checks: boolean): void {
    walkExpression(r, (op, at, after) => {
      if (op === 0x10 || op === 0x12 || op === 0xd2) { // call, return_call, ref.func
        const index = new ByteReader(this.#bytes, at + 1, after).u32();
        s.replace(at + 1, after, encodeU32(this.func(index)));
      } else if (op === 0x03 && checks) { // loop: check at the head of every iteration
        s.replace(after, after, this.#loopCheck);
      }
    });
  }

  /**
   * Defined function `j`'s body (after its size): checks at every loop head and, if the
   * function calls anything, at entry; calls renumbered. A function that calls nothing (a
   * leaf) needs no entry check: without calls, and outside its loops (checked), it runs a
   * bounded number of instructions.
   */
  body(j: number, start: number, end: number): Uint8Array {
    const r = new ByteReader(this.#bytes, start, end);
    const codeStart = skipLocals(r);
    const s = new Splice(this.#bytes, codeStart);
    if (this.#plan.stubs.has(j)) s.replace(codeStart, codeStart, this.#entryCheck(j));
    this.expression(r, s, true);
    if (r.pos !== end) throw new WasmBinaryError('function body has trailing bytes', r.pos);
    const body = concatBytes([this.#bytes.subarray(start, codeStart), s.finish(end)]);
    return concatBytes([encodeU32(body.length), body]);
  }

  /** The code section, with the stubs' bodies after the defined functions'. */
  code(sec: Section): Uint8Array {
    const r = sectionReader(this.#bytes, sec);
    const n = r.u32();
    const parts: Uint8Array[] = [encodeU32(n + this.#plan.stubs.size)];
    for (let j = 0; j < n; j++) {
      const size = r.u32();
      parts.push(this.body(j, r.pos, r.pos + size));
      r.pos += size;
    }
    this.#end(r, sec);
    for (const j of this.#plan.stubs.keys()) parts.push(this.#stub(j));
    return concatBytes(parts);
  }

  imports(sec: Section): Uint8Array {
    const r = sectionReader(this.#bytes, sec);
    const n = r.u32();
    const added = concatBytes([
      name(YIELD_IMPORT.module), name(YIELD_IMPORT.name), Uint8Array.of(ExternKind.FUNC), encodeU32(this.#plan.types),
      name(INTERRUPT_IMPORT.module), name(INTERRUPT_IMPORT.name), Uint8Array.of(ExternKind.MEMORY, 0x03, 0x01, 0x01),
    ]);
    return concatBytes([encodeU32(n + 2), this.#bytes.subarray(r.pos, sec.end), added]);
  }

  /** `[] -> [i32]`, at the end so no type index shifts. */
  types(sec: Section | undefined): Uint8Array {
    const added = Uint8Array.of(0x60, 0x00, 0x01, 0x7f);
    if (sec === undefined) return concatBytes([encodeU32(1), added]);
    const r = sectionReader(this.#bytes, sec);
    const n = r.u32();
    return concatBytes([encodeU32(n + 1), this.#bytes.subarray(r.pos, sec.end), added]);
  }

  exports(sec: Section | undefined): Uint8Array {
    const start = this.#plan.start === undefined ? [] : [name(START_EXPORT), Uint8Array.of(ExternKind.FUNC), encodeU32(this.func(this.#plan.start))];
    if (sec === undefined) return concatBytes([encodeU32(1), ...start]);
    const r = sectionReader(this.#bytes, sec);
    const n = r.u32();
    const s = new Splice(this.#bytes, r.pos);
    for (let i = 0; i < n; i++) {
      r.name();
      const kind = r.u8();
      if (kind === ExternKind.FUNC) this.funcIndex(r, s);
      else r.u32();
    }
    this.#end(r, sec);
    return concatBytes([encodeU32(n + (start.length === 0 ? 0 : 1)), s.finish(sec.end), ...start]);
  }

  globals(sec: Section): Uint8Array {
    const r = sectionReader(this.#bytes, sec);
    const s = new Splice(this.#bytes, sec.start);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      valType(r);
      r.u8();
      this.expression(r, s, false);
    }
    this.#end(r, sec);
    return s.finish(sec.end);
  }

  tables(sec: Section): Uint8Array {
    const r = sectionReader(this.#bytes, sec);
    const s = new Splice(this.#bytes, sec.start);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const withInit = this.#bytes[r.pos] === 0x40;
      if (withInit) { r.u8(); if (r.u8() !== 0x00) throw new WasmBinaryError('bad table initialiser', r.pos - 1); }
      valType(r);
      limits(r);
      if (withInit) this.expression(r, s, false);
    }
    this.#end(r, sec);
    return s.finish(sec.end);
  }

  /** Element segments, all eight formats (flags: 1 passive/declarative, 2 table index or declarative, 4 expressions). */
  elements(sec: Section): Uint8Array {
    const r = sectionReader(this.#bytes, sec);
    const s = new Splice(this.#bytes, sec.start);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const flags = r.u32();
      if (flags > 7) throw new WasmBinaryError(`unknown element segment flags ${flags}`, r.pos);
      const active = (flags & 1) === 0;
      if (active && (flags & 2) !== 0) r.u32(); // table index
      if (active) this.expression(r, s, false); // offset
      if ((flags & 3) !== 0) { // element kind (0x00 = funcref) or reference type
        if ((flags & 4) === 0) r.u8();
        else valType(r);
      }
      const count = r.u32();
      for (let j = 0; j < count; j++) {
        if ((flags & 4) === 0) this.funcIndex(r, s);
        else this.expression(r, s, false);
      }
    }
    this.#end(r, sec);
    return s.finish(sec.end);
  }

  /** The `name` custom section with function indices renumbered; undefined (drop it) when it does not parse. */
  names(sec: Section, contentsAt: number): Uint8Array | undefined {
    const r = new ByteReader(this.#bytes, contentsAt, sec.end);
    const s = new Splice(this.#bytes, sec.start);
    try {
      while (!r.done) {
        const subStart = r.pos;
        const id = r.u8();
        const size = r.u32();
        const end = r.pos + size;
        if (end > sec.end) throw new WasmBinaryError('name subsection runs past its section', r.pos);
        const sub = new ByteReader(this.#bytes, r.pos, end);
        const subSplice = new Splice(this.#bytes, r.pos);
        if (id === 1 || id === 2 || id === 3) { // function names; local and label names (per function)
          const n = sub.u32();
          for (let i = 0; i < n; i++) {
            this.funcIndex(sub, subSplice);
            if (id === 1) { sub.name(); continue; }
            const m = sub.u32();
            for (let j = 0; j < m; j++) { sub.u32(); sub.name(); }
          }
          if (sub.pos !== end) throw new WasmBinaryError('name subsection has trailing bytes', sub.pos);
          const contents = subSplice.finish(end);
          s.replace(subStart, end, concatBytes([Uint8Array.of(id), encodeU32(contents.length), contents]));
        }
        r.pos = end;
      }
    } catch (e) {
      if (e instanceof WasmBinaryError) return undefined;
      throw e;
    }
    return s.finish(sec.end);
  }

  #end(r: ByteReader, sec: Section): void {
    if (r.pos !== sec.end) throw new WasmBinaryError(`section ${sec.id} has trailing bytes`, r.pos);
  }
}

function valType(r: ByteReader): void {
  const b = r.u8();
  if (b === 0x63 || b === 0x64) r.s33();
}

function limits(r: ByteReader): void {
  const flags = r.u8();
  const wide = (flags & 0x04) !== 0;
  const read = (): unknown => (wide ? r.u64() : r.u32());
  read();
  if ((flags & 0x01) !== 0) read();
}

/**
 * Returns the module with interrupt checks. Throws NotInstrumentable for modules outside its
 * reach (a defined memory, several memories, instructions the walker does not know).
 */
export function instrumentInterrupts(bytes: Uint8Array): Uint8Array {
  const sections = readSections(bytes);
  if (sections.some((s) => s.id === SectionId.MEMORY)) throw new NotInstrumentable('module defines its memory');
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  try {
    const p = plan(bytes, sections);
    if (p.memories !== 1) throw new NotInstrumentable(`module imports ${p.memories} memories`);
    const w = new Rewriter(bytes, p);
    const hasType = sections.some((s) => s.id === SectionId.TYPE);
    const hasExport = sections.some((s) => s.id === SectionId.EXPORT);
    // Sections the rewrite must add when the module has none, by rank.
    const pending: Array<[number, () => Uint8Array]> = [];
    if (!hasType) pending.push([RANK[SectionId.TYPE]!, () => section(SectionId.TYPE, w.types(undefined))]);
    if (!hasExport && p.start !== undefined) pending.push([RANK[SectionId.EXPORT]!, () => section(SectionId.EXPORT, w.exports(undefined))]);
    for (const s of sections) {
      const rank = RANK[s.id];
      while (rank !== undefined && pending.length > 0 && pending[0]![0] < rank) parts.push(pending.shift()![1]());
      switch (s.id) {
        case SectionId.TYPE: parts.push(section(s.id, w.types(s))); break;
        case SectionId.IMPORT: parts.push(section(s.id, w.imports(s))); break;
        case SectionId.FUNCTION: parts.push(section(s.id, w.functions(s))); break;
        case SectionId.TABLE: parts.push(section(s.id, w.tables(s))); break;
        case SectionId.GLOBAL: parts.push(section(s.id, w.globals(s))); break;
        case SectionId.EXPORT: parts.push(section(s.id, w.exports(s))); break;
        case SectionId.START: break; // exported as START_EXPORT instead
        case SectionId.ELEMENT: parts.push(section(s.id, w.elements(s))); break;
        case SectionId.CODE: parts.push(section(s.id, w.code(s))); break;
        case SectionId.CUSTOM: {
          const r = sectionReader(bytes, s);
          if (r.name() !== 'name') { parts.push(bytes.subarray(s.headerStart, s.end)); break; }
          const renamed = w.names(s, r.pos);
          if (renamed !== undefined) parts.push(section(SectionId.CUSTOM, renamed));
          break;
        }
        default: parts.push(bytes.subarray(s.headerStart, s.end));
      }
    }
    for (const [, emit] of pending) parts.push(emit());
  } catch (e) {
    if (e instanceof WasmBinaryError) throw new NotInstrumentable(e.message);
    throw e;
  }
  return concatBytes(parts);
}
