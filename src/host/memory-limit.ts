/**
 * Enforces a VM's memory limit inside the engine: the module's memory declaration gets a
 * maximum no larger than the limit, so `memory.grow` past it returns -1 in the guest
 * instead of the host allocating. Works on the binary's memory section (or the memory
 * import), rewriting only the limits.
 */
import { NanovisorError } from '../shared/errors.ts';

export const WASM_PAGE = 65536;
/** wasm32 cannot address more than 4 GiB = 65536 pages. */
export const MAX_PAGES = 65536;

interface Leb {
  value: number;
  next: number;
}

function readU32(b: Uint8Array, at: number): Leb {
  let result = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    if (i >= b.length) throw new NanovisorError('NV_MODULE_MALFORMED', 'module is truncated (inside a LEB128 number)');
    const byte = b[i++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 35) throw new NanovisorError('NV_MODULE_MALFORMED', 'module has an overlong LEB128 number');
  }
  return { value: result, next: i };
}

function encodeU32(v: number): number[] {
  const out: number[] = [];
  let x = v;
  do {
    let byte = x & 0x7f;
    x = Math.floor(x / 128);
    if (x !== 0) byte |= 0x80;
    out.push(byte);
  } while (x !== 0);
  return out;
}

function skipName(b: Uint8Array, at: number): number {
  const len = readU32(b, at);
  return len.next + len.value;
}

interface Limits {
  min: number;
  max: number | undefined;
  /** Byte range of the limits inside the module. */
  start: number;
  end: number;
}

function readLimits(b: Uint8Array, at: number): Limits {
  const flag = b[at];
  if (flag === undefined) throw new NanovisorError('NV_MODULE_MALFORMED', 'module is truncated (memory limits)');
  if (flag !== 0 && flag !== 1) {
    throw new NanovisorError('NV_MODULE_BAD_MEMORY', 'shared or 64-bit memories are not supported');
  }
  const min = readU32(b, at + 1);
  if (flag === 0) return { min: min.value, max: undefined, start: at, end: min.next };
  const max = readU32(b, min.next);
  return { min: min.value, max: max.value, start: at, end: max.next };
}

/** Finds the one memory's limits, defined (section 5) or imported (section 2). */
function findMemoryLimits(b: Uint8Array): Limits | undefined {
  let at = 8;
  while (at < b.length) {
    const id = b[at]!;
    const size = readU32(b, at + 1);
    const body = size.next;
    const end = body + size.value;
    if (id === 2) {
      const count = readU32(b, body);
      let p = count.next;
      for (let i = 0; i < count.value; i++) {
        p = skipName(b, p);
        p = skipName(b, p);
        const kind = b[p++];
        if (kind === 0) p = readU32(b, p).next; // function: type index
        else if (kind === 1) {
          p += 1; // table: reftype then limits
          p = readLimits(b, p).end;
        } else if (kind === 2) return readLimits(b, p);
        else if (kind === 3) p += 2; // global: valtype, mut
        else throw new NanovisorError('NV_MODULE_MALFORMED', `unknown import kind ${kind}`);
      }
    } else if (id === 5) {
      const count = readU32(b, body);
      if (count.value === 0) return undefined;
      return readLimits(b, count.next);
    }
    at = end;
  }
  return undefined;
}

/**
 * Returns the module bytes with the memory maximum lowered to `limitBytes`; the input is
 * not changed. Throws NV_GUEST_MEMORY_LIMIT when the module needs more than the limit to start.
 */
export function applyMemoryLimit(bytes: Uint8Array, limitBytes: number): Uint8Array {
  const limitPages = Math.min(MAX_PAGES, Math.floor(limitBytes / WASM_PAGE));
  const limits = findMemoryLimits(bytes);
  if (limits === undefined) return bytes;
  if (limits.min > limitPages) {
    throw new NanovisorError(
      'NV_GUEST_MEMORY_LIMIT',
      `module needs ${limits.min * 64} KiB of memory at start; the limit is ${limitPages * 64} KiB`,
    );
  }
  const newMax = limits.max === undefined ? limitPages : Math.min(limits.max, limitPages);
  if (limits.max === newMax) return bytes;
  const encoded = [1, ...encodeU32(limits.min), ...encodeU32(newMax)];
  const delta = encoded.length - (limits.end - limits.start);
  // The enclosing section's size changes by `delta`; re-encode its size field.
  return spliceInSection(bytes, limits.start, limits.end, Uint8Array.from(encoded), delta);
}

function spliceInSection(b: Uint8Array, start: number, end: number, insert: Uint8Array, delta: number): Uint8Array {
  let at = 8;
  while (at < b.length) {
    const size = readU32(b, at + 1);
    const body = size.next;
    const sectionEnd = body + size.value;
    if (start >= body && end <= sectionEnd) {
      const newSize = Uint8Array.from(encodeU32(size.value + delta));
      const parts = [
        b.subarray(0, at + 1),
        newSize,
        b.subarray(body, start),
        insert,
        b.subarray(end),
      ];
      const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.byteLength;
      }
      return out;
    }
    at = sectionEnd;
  }
  throw new Error('memory limits not inside any section');
}

/** Initial and maximum pages of the module's memory, if it has one. */
export function memoryLimitsOf(bytes: Uint8Array): { min: number; max: number | undefined } | undefined {
  const l = findMemoryLimits(bytes);
  return l === undefined ? undefined : { min: l.min, max: l.max };
}
