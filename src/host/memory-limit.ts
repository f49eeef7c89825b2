/**
 * Enforces a VM's memory limit inside the engine: the module's memory declaration gets a
 * maximum no larger than the limit, so `memory.grow` past it returns -1 in the guest
 * instead of the host allocating. Works on the binary's memory section (or the memory
 * import), rewriting only the limits.
 */
import { concatBytes } from '../shared/bytes.ts';
import { NanovisorError } from '../shared/errors.ts';
import { formatBytes } from '../shared/units.ts';
import { ByteReader, SectionId, WasmBinaryError, encodeU32, readSections, sectionReader, type Section } from '../shared/wasm-binary.ts';

export const WASM_PAGE = 65536;
/** wasm32 cannot address more than 4 GiB = 65536 pages. */
export const MAX_PAGES = 65536;

interface Limits {
  min: number;
  max: number | undefined;
  /** Byte range of the limits inside the module, and the section holding them. */
  start: number;
  end: number;
  section: Section;
}

function readLimits(r: ByteReader, section: Section): Limits {
  const start = r.pos;
  const flag = r.u8();
  if (flag !== 0 && flag !== 1) {
    throw new NanovisorError('NV_MODULE_BAD_MEMORY', 'shared or 64-bit memories are not supported');
  }
  const min = r.u32();
  const max = flag === 1 ? r.u32() : undefined;
  return { min, max, start, end: r.pos, section };
}

function skipLimits(r: ByteReader): void {
  const flag = r.u8();
  r.u32();
  if ((flag & 1) !== 0) r.u32();
}

/**
 * Finds the one memory's limits, defined (memory section) or imported (import section).
 * A module with more than one memory (multi-memory) is NV_MODULE_BAD_MEMORY: the kernel
 * reads and writes one memory, so a second one would be silently ignored.
 */
function findMemoryLimits(b: Uint8Array): Limits | undefined {
  let found: Limits | undefined;
  let count = 0;
  for (const s of readSections(b)) {
    const r = sectionReader(b, s);
    if (s.id === SectionId.IMPORT) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        r.name();
        r.name();
        const kind = r.u8();
        if (kind === 0) r.u32(); // function: type index
        else if (kind === 1) { r.u8(); skipLimits(r); } // table: reftype, limits
        else if (kind === 2) { const l = readLimits(r, s); found ??= l; count++; }
        else if (kind === 3) { r.u8(); r.u8(); } // global: valtype, mutability
        else if (kind === 4) { r.u8(); r.u32(); } // tag
        else throw new WasmBinaryError(`unknown import kind ${kind}`, r.pos);
      }
    } else if (s.id === SectionId.MEMORY) {
      const n = r.u32();
      if (n > 0) found ??= readLimits(r, s);
      count += n;
    }
  }
  if (count > 1) {
    throw new NanovisorError('NV_MODULE_BAD_MEMORY', `module has ${count} memories (multi-memory); nanovisor supports modules with exactly one memory`);
  }
  return found;
}

function limitsOf(bytes: Uint8Array): Limits | undefined {
  try {
    return findMemoryLimits(bytes);
  } catch (e) {
    if (e instanceof WasmBinaryError) throw new NanovisorError('NV_MODULE_MALFORMED', `invalid WebAssembly module: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Returns the module bytes with the memory maximum lowered to `limitBytes`; the input is
 * not changed. Throws NV_GUEST_MEMORY_LIMIT when the module needs more than the limit to start.
 */
export function applyMemoryLimit(bytes: Uint8Array, limitBytes: number): Uint8Array {
  const limitPages = Math.min(MAX_PAGES, Math.floor(limitBytes / WASM_PAGE));
  const limits = limitsOf(bytes);
  if (limits === undefined) return bytes;
  checkInitialMemory(limits.min, limitBytes);
  const newMax = limits.max === undefined ? limitPages : Math.min(limits.max, limitPages);
  if (limits.max === newMax) return bytes;
  // Re-encode the limits, then the enclosing section's size, which changes with them.
  const s = limits.section;
  const body = concatBytes([
    bytes.subarray(s.start, limits.start),
    Uint8Array.of(1), encodeU32(limits.min), encodeU32(newMax),
    bytes.subarray(limits.end, s.end),
  ]);
  return concatBytes([
    bytes.subarray(0, s.headerStart),
    Uint8Array.of(s.id), encodeU32(body.byteLength), body,
    bytes.subarray(s.end),
  ]);
}

/**
 * Refuses a module whose memory starts larger than its limit, from the page count alone:
 * callers check before anything allocates or scans that memory (a 52-byte module can declare
 * 4 GiB). `limitName` says which setting to raise, e.g. `limits.memoryBytes`.
 */
export function checkInitialMemory(initialPages: number, limitBytes: number, limitName = 'its memory limit'): void {
  const limitPages = Math.min(MAX_PAGES, Math.floor(limitBytes / WASM_PAGE));
  if (initialPages <= limitPages) return;
  const neededBytes = initialPages * WASM_PAGE;
  throw new NanovisorError(
    'NV_GUEST_MEMORY_LIMIT',
    `module needs ${formatBytes(neededBytes)} of memory at start (${initialPages} pages); ${limitName} is ${formatBytes(limitBytes)}`,
    { details: { neededBytes, limitBytes } },
  );
}

/** Initial and maximum pages of the module's memory, if it has one. */
export function memoryLimitsOf(bytes: Uint8Array): { min: number; max: number | undefined } | undefined {
  const l = limitsOf(bytes);
  return l === undefined ? undefined : { min: l.min, max: l.max };
}
