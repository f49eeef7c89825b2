/**
 * Walks WebAssembly function bodies instruction by instruction, knowing every opcode's
 * immediates (MVP, sign extension, saturating truncation, bulk memory, reference types,
 * multi-memory, SIMD, threads, tail calls, exceptions, typed function references). The walker
 * is what lets a rewrite insert code at exact instruction boundaries; an opcode it does not
 * know (e.g. the GC proposal's) makes it throw, and the caller leaves the module alone.
 */
import { ByteReader, WasmBinaryError } from './wasm-binary.ts';

function blockType(r: ByteReader): void {
  const b = r.bytes[r.pos];
  if (b === 0x40 || (b !== undefined && b >= 0x6f && b <= 0x7f)) {
    r.u8();
    return;
  }
  if (b === 0x63 || b === 0x64) {
    r.u8();
    r.s33();
    return;
  }
  r.s33(); // type index
}

function memarg(r: ByteReader): void {
  const align = r.u32();
  if ((align & 0x40) !== 0) r.u32(); // memory index (multi-memory)
  r.u64(); // offset (u64 covers memory64)
}

function skipS64(r: ByteReader): void {
  while ((r.u8() & 0x80) !== 0);
}

/** Visits each instruction: `op` is its first byte, `at` its offset, `after` the offset past its immediates. */
export type InstructionVisitor = (op: number, at: number, after: number) => void;

/** Reads one instruction's immediates (the opcode byte already consumed). */
function immediates(op: number, r: ByteReader): void {
  switch (op) {
    case 0x02: case 0x03: case 0x04: case 0x06: blockType(r); return;
    case 0x07: case 0x08: case 0x09: case 0x18: r.u32(); return;
    case 0x1f: { // try_table
      blockType(r);
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const kind = r.u8();
        if (kind === 0x00 || kind === 0x01) r.u32();
        r.u32();
      }
      return;
    }
    case 0x0c: case 0x0d: case 0x10: case 0x12: case 0x14: case 0x15: case 0xd2: case 0xd5: case 0xd6:
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
      r.u32();
      return;
    case 0x0e: {
      const n = r.u32();
      for (let i = 0; i <= n; i++) r.u32();
      return;
    }
    case 0x11: case 0x13: r.u32(); r.u32(); return;
    case 0x1c: {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const t = r.u8();
        if (t === 0x63 || t === 0x64) r.s33();
      }
      return;
    }
    case 0x3f: case 0x40: r.u32(); return;
    case 0x41: r.s33(); return;
    case 0x42: skipS64(r); return;
    case 0x43: r.take(4); return;
    case 0x44: r.take(8); return;
    case 0xd0: r.s33(); return;
    case 0xfc: {
      const sub = r.u32();
      if (sub <= 7) return;
      if (sub === 8 || sub === 10 || sub === 12 || sub === 14) { r.u32(); r.u32(); return; }
      if (sub === 9 || sub === 11 || sub === 13 || sub === 15 || sub === 16 || sub === 17) { r.u32(); return; }
      throw new WasmBinaryError(`unknown 0xfc instruction ${sub}`, r.pos);
    }
    case 0xfd: {
      const sub = r.u32();
      if (sub <= 11 || sub === 92 || sub === 93) { memarg(r); return; }
      if (sub === 12 || sub === 13) { r.take(16); return; }
      if (sub >= 21 && sub <= 34) { r.u8(); return; }
      if (sub >= 84 && sub <= 91) { memarg(r); r.u8(); return; }
      if (sub <= 0x113) return; // the rest of SIMD (incl. relaxed SIMD) has no immediates
      throw new WasmBinaryError(`unknown 0xfd instruction ${sub}`, r.pos);
    }
    case 0xfe: {
      const sub = r.u32();
      if (sub === 0x03) { r.u8(); return; }
      if (sub <= 0x4e) { memarg(r); return; }
      throw new WasmBinaryError(`unknown 0xfe instruction ${sub}`, r.pos);
    }
    default:
      if (op >= 0x28 && op <= 0x3e) { memarg(r); return; }
      if (op <= 0x01 || op === 0x05 || op === 0x0a || op === 0x0b || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b) return;
      if (op >= 0x45 && op <= 0xc4) return;
      if (op === 0xd1 || op === 0xd3 || op === 0xd4) return;
      throw new WasmBinaryError(`unknown instruction 0x${op.toString(16)}`, r.pos - 1);
  }
}

/** Walks the instructions of one function body's expression (after its locals) to its final `end`. */
export function walkExpression(r: ByteReader, visit: InstructionVisitor): void {
  let depth = 1;
  while (depth > 0) {
    const at = r.pos;
    const op = r.u8();
    immediates(op, r);
    if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06 || op === 0x1f) depth++;
    else if (op === 0x0b || op === 0x18) depth--; // `delegate` closes a legacy `try` too
    visit(op, at, r.pos);
  }
}

/** Skips a function body's local declarations; returns the offset where its code starts. */
export function skipLocals(r: ByteReader): number {
  const groups = r.u32();
  for (let i = 0; i < groups; i++) {
    r.u32();
    const t = r.u8();
    if (t === 0x63 || t === 0x64) r.s33();
  }
  return r.pos;
}
