/**
 * What the canonical-ABI glue writes into a pooled guest memory, marked in that memory's
 * dirty-page map (the guest's own stores mark themselves: src/host/snapshot/dirty.ts). The
 * glue writes guest memory three ways: `DataView` setters (results at a return pointer,
 * records), `Uint8Array.prototype.set` (list payloads), and stores into ranges the guest's
 * `realloc` just handed out (strings: `encodeInto`, UTF-16 by index). The glue is evaluated
 * with the two classes below in place of the globals, and `realloc` exports are wrapped
 * (`markRange` on what they return), so all three are seen.
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

/** `Uint8Array` whose `set` marks what it writes when the array is over a tracked memory. */
export class TrackedUint8Array extends Uint8Array<ArrayBufferLike> {
  override set(source: ArrayLike<number>, offset = 0): void {
    mark(this.buffer, this.byteOffset + offset, source.length);
    super.set(source, offset);
  }
}
