/**
 * Bounds-checked access to a guest's linear memory. Every pointer and length a guest hands
 * the kernel passes through here; anything outside the memory raises a `GuestFault` that
 * the syscall layer turns into an errno, so no guest can make the host read or write
 * outside its own memory.
 */
import { Errno } from './abi.ts';

/** A guest mistake detected inside a system call; becomes the call's errno. */
export class GuestFault extends Error {
  readonly errno: Errno;
  constructor(errno: Errno, message = '') {
    super(message);
    this.errno = errno;
  }
}

/** Throws the errno to the syscall boundary. */
export function fault(errno: Errno, message = ''): never {
  throw new GuestFault(errno, message);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export interface IoVec {
  /** A live view into guest memory. */
  readonly bytes: Uint8Array;
}

export class GuestMemory {
  #memory: WebAssembly.Memory;
  #buffer: ArrayBuffer;
  #u8: Uint8Array;
  #view: DataView;

  constructor(memory: WebAssembly.Memory) {
    this.#memory = memory;
    this.#buffer = memory.buffer as ArrayBuffer;
    this.#u8 = new Uint8Array(this.#buffer);
    this.#view = new DataView(this.#buffer);
  }

  /** memory.grow detaches the old buffer; refresh the views lazily. */
  #refresh(): void {
    if (this.#buffer !== this.#memory.buffer) {
      this.#buffer = this.#memory.buffer as ArrayBuffer;
      this.#u8 = new Uint8Array(this.#buffer);
      this.#view = new DataView(this.#buffer);
    }
  }

  get size(): number {
    this.#refresh();
    return this.#u8.byteLength;
  }

  /** Checks that [ptr, ptr+len) lies inside memory; pointers are unsigned 32-bit. */
  check(ptr: number, len: number): void {
    this.#refresh();
    const p = ptr >>> 0;
    const l = len >>> 0;
    if (p + l > this.#u8.byteLength) fault(Errno.FAULT, `range ${p}+${l} outside memory`);
  }

  /** Checks bounds and natural alignment (the spec requires aligned structs). */
  checkAligned(ptr: number, len: number, align: number): void {
    this.check(ptr, len);
    if ((ptr >>> 0) % align !== 0) fault(Errno.INVAL, `misaligned pointer ${ptr >>> 0}`);
  }

  /** A live view of guest bytes (no copy). */
  bytes(ptr: number, len: number): Uint8Array {
    this.check(ptr, len);
    const p = ptr >>> 0;
    return this.#u8.subarray(p, p + (len >>> 0));
  }

  u8(ptr: number): number {
    this.check(ptr, 1);
    return this.#u8[ptr >>> 0]!;
  }
  u16(ptr: number): number {
    this.check(ptr, 2);
    return this.#view.getUint16(ptr >>> 0, true);
  }
  u32(ptr: number): number {
    this.check(ptr, 4);
    return this.#view.getUint32(ptr >>> 0, true);
  }
  u64(ptr: number): bigint {
    this.check(ptr, 8);
    return this.#view.getBigUint64(ptr >>> 0, true);
  }

  setU8(ptr: number, v: number): void {
    this.check(ptr, 1);
    this.#u8[ptr >>> 0] = v;
  }
  setU16(ptr: number, v: number): void {
    this.check(ptr, 2);
    this.#view.setUint16(ptr >>> 0, v, true);
  }
  setU32(ptr: number, v: number): void {
    this.check(ptr, 4);
    this.#view.setUint32(ptr >>> 0, v >>> 0, true);
  }
  setU64(ptr: number, v: bigint | number): void {
    this.check(ptr, 8);
    this.#view.setBigUint64(ptr >>> 0, BigInt.asUintN(64, BigInt(v)), true);
  }

  /** Copies host bytes into the guest. */
  write(ptr: number, data: Uint8Array): void {
    this.check(ptr, data.byteLength);
    this.#u8.set(data, ptr >>> 0);
  }

  /** Zero-fills a guest range (used to clear struct padding). */
  zero(ptr: number, len: number): void {
    this.check(ptr, len);
    this.#u8.fill(0, ptr >>> 0, (ptr >>> 0) + (len >>> 0));
  }

  /** Reads a UTF-8 string; invalid UTF-8 is EILSEQ, as the spec's `string` type demands. */
  string(ptr: number, len: number): string {
    const b = this.bytes(ptr, len);
    try {
      return utf8.decode(b);
    } catch {
      return fault(Errno.ILSEQ, 'string is not valid UTF-8');
    }
  }

  /**
   * Reads an array of (c)iovecs. The vector itself is bounds-checked; each buffer is too.
   * Returns live views, so reads and writes go straight to guest memory.
   */
  iovecs(ptr: number, count: number): Uint8Array[] {
    const n = count >>> 0;
    this.checkAligned(ptr, n * 8, 4);
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const base = (ptr >>> 0) + i * 8;
      const buf = this.u32(base);
      const len = this.u32(base + 4);
      out.push(this.bytes(buf, len));
    }
    return out;
  }
}

export function encodeUtf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Total length of a list of buffers, as a guest size_t must hold it. */
export function totalLength(bufs: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of bufs) n += b.byteLength;
  return n;
}
