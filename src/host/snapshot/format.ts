/**
 * The snapshot layer's bytes: `NVSNAP01`, a u32 (little-endian) length, a JSON header,
 * then the segments' bytes back to back in header order. Decoding is strict: an image
 * layer that does not describe a valid memory image is refused, not half-used.
 */
import { NanovisorError } from '../../shared/errors.ts';
import type { Snapshot, SnapshotGlobal, SnapshotSegment } from './types.ts';
import { PAGE } from './transform.ts';

const MAGIC = new TextEncoder().encode('NVSNAP01');

interface Header {
  initialPages: number;
  maximumPages: number | null;
  segments: { offset: number; length: number }[];
  globals: SnapshotGlobal[];
  reusable: boolean;
  preinitialized: boolean;
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const header: Header = {
    initialPages: s.initialPages,
    maximumPages: s.maximumPages ?? null,
    segments: s.segments.map((g) => ({ offset: g.offset, length: g.bytes.byteLength })),
    globals: [...s.globals],
    reusable: s.reusable,
    preinitialized: s.preinitialized,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataLength = s.segments.reduce((n, g) => n + g.bytes.byteLength, 0);
  const out = new Uint8Array(MAGIC.length + 4 + json.length + dataLength);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.length, true);
  out.set(json, MAGIC.length + 4);
  let at = MAGIC.length + 4 + json.length;
  for (const g of s.segments) {
    out.set(g.bytes, at);
    at += g.bytes.byteLength;
  }
  return out;
}

function bad(why: string): never {
  throw new NanovisorError('NV_IMAGE_MALFORMED', `snapshot layer is malformed: ${why}`);
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  if (bytes.byteLength < MAGIC.length + 4 || MAGIC.some((b, i) => bytes[i] !== b)) bad('bad magic');
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  const dataStart = MAGIC.length + 4 + jsonLength;
  if (dataStart > bytes.byteLength) bad('header runs past the end');
  let h: Header;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(MAGIC.length + 4, dataStart))) as Header;
  } catch {
    return bad('header is not JSON');
  }
  if (!isCount(h.initialPages) || h.initialPages > 65536) bad('initialPages');
  if (h.maximumPages !== null && (!isCount(h.maximumPages) || h.maximumPages < h.initialPages || h.maximumPages > 65536)) bad('maximumPages');
  if (!Array.isArray(h.segments) || !Array.isArray(h.globals)) bad('segments/globals');
  const memoryBytes = h.initialPages * PAGE;
  const segments: SnapshotSegment[] = [];
  let at = dataStart;
  let lastEnd = 0;
  for (const s of h.segments) {
    if (!isCount(s.offset) || !isCount(s.length) || s.offset < lastEnd || s.offset + s.length > memoryBytes) bad('segment outside memory or out of order');
    if (at + s.length > bytes.byteLength) bad('segment data runs past the end');
    segments.push({ offset: s.offset, bytes: bytes.slice(at, at + s.length) });
    at += s.length;
    lastEnd = s.offset + s.length;
  }
  if (at !== bytes.byteLength) bad('trailing bytes');
  for (const g of h.globals) {
    if (!isCount(g.index) || !['i32', 'i64', 'f32', 'f64'].includes(g.type) || typeof g.exportName !== 'string') bad('global');
    if (g.type === 'i64' ? typeof g.value !== 'string' || !/^-?\d+$/.test(g.value) : typeof g.value !== 'number') bad('global value');
  }
  return {
    initialPages: h.initialPages,
    maximumPages: h.maximumPages ?? undefined,
    segments,
    globals: h.globals,
    reusable: h.reusable === true,
    preinitialized: h.preinitialized === true,
  };
}
