/**
 * What the canonical-ABI glue writes into a pooled guest memory, marked in that memory's
 * dirty-page map (the guest's own stores mark themselves: src/host/snapshot/dirty.ts). The
 * glue writes guest memory through `DataView` setters (results at a return pointer, records)
 * and through typed-array views (`set`, `encodeInto`, UTF-16 by index). It is evaluated with
 * the classes below in place of those globals: a `DataView` setter marks the bytes it writes;
 * a typed array made over a tracked memory marks its whole range when it is made (whatever
 * is then written through it is inside; a view made only to read costs a few pages more).
 */
import { DIRTY_PAGE_SHIFT } from '../snapshot/dirty.ts';

/** Dirty-page maps of pooled memories, by the memory's current buffer. */
const maps = new WeakMap<ArrayBufferLike, Uint8Array>();

/** Registers `buffer` (a pooled memory's) as tracked in `map`. */
export function trackBuffer(buffer: ArrayBufferLike, map: Uint8Array): void {
  maps.set(buffer, map);
}

/** Marks the pages of `[offset, offset + length)` in `map`. */
export function markRange(map: Uint8Array, offset: number, length: number): void {
  if (length <= 0) return;
  const last = (offset + length - 1) >>> DIRTY_PAGE_SHIFT;
  for (let p = offset >>> DIRTY_PAGE_SHIFT; p <= last && p < map.length; p++) map[p] = 1;
}

function mark(buffer: ArrayBufferLike, offset: number, length: number): void {
  const map = maps.get(buffer);
  if (map !== undefined) markRange(map, offset, length);
}

/** `DataView` whose setters mark the bytes they write when the view is over a tracked memory. */
export class TrackedDataView extends DataView<ArrayBufferLike> {
  override setInt8(o: number, v: number): void { mark(this.buffer, this.byteOffset + o, 1); super.setInt8(o, v); }
  override setUint8(o: number, v: number): void { mark(this.buffer, this.byteOffset + o, 1); super.setUint8(o, v); }
  override setInt16(o: number, v: number, le?: boolean): void { mark(this.buffer, this.byteOffset + o, 2); super.setInt16(o, v, le); }
  override setUint16(o: number, v: number, le?: boolean): void { mark(this.buffer, this.byteOffset + o, 2); super.setUint16(o, v, le); }
  override setInt32(o: number, v: number, le?: boolean): void { mark(this.buffer, this.byteOffset + o, 4); super.setInt32(o, v, le); }
  override setUint32(o: number, v: number, le?: boolean): void { mark(this.buffer, this.byteOffset + o, 4); super.setUint32(o, v, le); }
  override setFloat32(o: number, v: number, le?: boolean): void { mark(this.buffer, this.byteOffset + o, 4); super.setFloat32(o, v, le); }
  override setFloat64(o: number, v: number, le?: boolean): void { mark(this.buffer, this.byteOffset + o, 8); super.setFloat64(o, v, le); }
  override setBigInt64(o: number, v: bigint, le?: boolean): void { mark(this.buffer, this.byteOffset + o, 8); super.setBigInt64(o, v, le); }
  override setBigUint64(o: number, v: bigint, le?: boolean): void { mark(this.buffer, this.byteOffset + o, 8); super.setBigUint64(o, v, le); }
}

type TypedArrayConstructor = new (buffer: ArrayBufferLike, byteOffset?: number, length?: number) => ArrayBufferView;

/** A subclass of typed array `Base` whose instances over a tracked memory mark their range when made. */
function tracked<T extends TypedArrayConstructor>(Base: T): T {
  // The same signature as Base; only views over a buffer can reach guest memory.
  return class extends (Base as TypedArrayConstructor) {
    constructor(...args: [ArrayBufferLike, number?, number?]) {
      super(...args);
      mark(this.buffer, this.byteOffset, this.byteLength);
    }
  } as unknown as T;
}

/** The globals the glue is evaluated with, by name. */
export const TRACKED_GLOBALS: Readonly<Record<string, unknown>> = Object.freeze({
  DataView: TrackedDataView,
  Int8Array: tracked(Int8Array), Uint8Array: tracked(Uint8Array), Uint8ClampedArray: tracked(Uint8ClampedArray),
  Int16Array: tracked(Int16Array), Uint16Array: tracked(Uint16Array), Int32Array: tracked(Int32Array), Uint32Array: tracked(Uint32Array),
  Float32Array: tracked(Float32Array), Float64Array: tracked(Float64Array), BigInt64Array: tracked(BigInt64Array), BigUint64Array: tracked(BigUint64Array),
});
