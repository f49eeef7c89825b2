/**
 * Interrupt checks, the way wasmtime's epoch interruption works: at the start of every
 * function and every loop iteration the guest reads one word of a small shared memory
 * (`nv.interrupt`, memory index 1) and traps when the host's watchdog thread has flagged it.
 * A load and a branch per loop iteration stop a spinning guest at its deadline without a
 * watchdog thread per call. Only modules whose own memory is imported (the snapshot form)
 * are instrumented, so adding a memory import shifts no memory index.
 */
import { concatBytes } from '../../shared/bytes.ts';
import { ByteReader, SectionId, WasmBinaryError, encodeU32, readSections, sectionReader } from '../../shared/wasm-binary.ts';
import { skipLocals, walkExpression } from '../../shared/wasm-code.ts';

export const INTERRUPT_IMPORT = { module: 'nv', name: 'interrupt' } as const;

/**
 * `i32.const 0; i32.load (memory 1); i32.const 0; i32.lt_s; if; unreachable; end` — the
 * watchdog sets the word's top bit, which makes it negative.
 */
const CHECK = Uint8Array.of(0x41, 0x00, 0x28, 0x42, 0x01, 0x00, 0x41, 0x00, 0x48, 0x04, 0x40, 0x00, 0x0b);

export class NotInstrumentable extends Error {}

function name(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  return concatBytes([encodeU32(b.length), b]);
}

/** Rewrites one function body with a check at entry and at the head of every loop. */
function instrumentBody(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const r = new ByteReader(bytes, start, end);
  const codeStart = skipLocals(r);
  const parts: Uint8Array[] = [bytes.subarray(start, codeStart), CHECK];
  let copied = codeStart;
  walkExpression(r, (op, _at, after) => {
    if (op !== 0x03) return;
    parts.push(bytes.subarray(copied, after), CHECK);
    copied = after;
  });
  if (r.pos !== end) throw new WasmBinaryError('function body has trailing bytes', r.pos);
  parts.push(bytes.subarray(copied, end));
  const body = concatBytes(parts);
  return concatBytes([encodeU32(body.length), body]);
}

/**
 * Returns the module with interrupt checks. Throws NotInstrumentable for modules outside its
 * reach (a defined memory, several memories, instructions the walker does not know).
 */
export function instrumentInterrupts(bytes: Uint8Array): Uint8Array {
  const sections = readSections(bytes);
  if (sections.some((s) => s.id === SectionId.MEMORY)) throw new NotInstrumentable('module defines its memory');
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let memories = 0;
  try {
    for (const s of sections) {
      const r = sectionReader(bytes, s);
      if (s.id === SectionId.IMPORT) {
        const n = r.u32();
        const entriesStart = r.pos;
        for (let i = 0; i < n; i++) {
          r.name();
          r.name();
          const kind = r.u8();
          if (kind === 0 || kind === 4) { if (kind === 4) r.u8(); r.u32(); }
          else if (kind === 1) { r.u8(); const f = r.u8(); r.u32(); if (f & 1) r.u32(); }
          else if (kind === 2) { memories++; const f = r.u8(); r.u32(); if (f & 1) r.u32(); }
          else if (kind === 3) { r.u8(); r.u8(); }
          else throw new NotInstrumentable(`unknown import kind ${kind}`);
        }
        const added = concatBytes([name(INTERRUPT_IMPORT.module), name(INTERRUPT_IMPORT.name), Uint8Array.of(0x02, 0x03, 0x01, 0x01)]);
        const body = concatBytes([encodeU32(n + 1), bytes.subarray(entriesStart, s.end), added]);
        parts.push(concatBytes([Uint8Array.of(SectionId.IMPORT), encodeU32(body.length), body]));
      } else if (s.id === SectionId.CODE) {
        const n = r.u32();
        const bodies: Uint8Array[] = [encodeU32(n)];
        for (let i = 0; i < n; i++) {
          const size = r.u32();
          bodies.push(instrumentBody(bytes, r.pos, r.pos + size));
          r.pos += size;
        }
        const body = concatBytes(bodies);
        parts.push(concatBytes([Uint8Array.of(SectionId.CODE), encodeU32(body.length), body]));
      } else {
        parts.push(bytes.subarray(s.headerStart, s.end));
      }
    }
  } catch (e) {
    if (e instanceof WasmBinaryError) throw new NotInstrumentable(e.message);
    throw e;
  }
  if (memories !== 1) throw new NotInstrumentable(`module imports ${memories} memories`);
  return concatBytes(parts);
}
