/**
 * wasi:io — error, poll and streams — over the preview1 kernel's descriptors: an input
 * stream reads a Descriptor (stdin, or a file at a position), an output stream writes one
 * (stdout/stderr with their output budget, or a file). Readiness is the descriptor's own
 * pollRead/pollWrite, and blocking sleeps the thread as poll_oneoff does on the synchronous
 * path, never past the VM's deadline. On the asynchronous path a `poll` or `pollable.block`
 * that finds nothing ready suspends the guest instead (see `SuspendState`).
 */
import type { Descriptor } from '../descriptor.ts';
import { GuestFault } from '../memory.ts';
import { sleepMs } from '../stdio.ts';
import { VmStop } from '../unwind.ts';
import { fsErrorCode } from './errors.ts';

/** How often a blocked poll looks again at a descriptor that is not ready (as poll_oneoff). */
const FD_POLL_INTERVAL_MS = 5;
/** Largest read or write handed to a descriptor at once (the guest asks with a u64). */
export const MAX_IO_CHUNK = 1 << 20;

/** wasi:io/error.error: what a failed stream operation reports. */
export class IoError {
  readonly errno: number;
  readonly message: string;
  constructor(errno: number, message: string) {
    this.errno = errno;
    this.message = message;
  }
  toDebugString(): string {
    return `${fsErrorCode(this.errno)}${this.message === '' ? '' : `: ${this.message}`}`;
  }
}

/** A readiness source a pollable waits on. */
export interface Waitable {
  /** True when ready now. */
  ready(): boolean;
  /** Monotonic hrtime (ns) at which it becomes ready by itself, if it is a clock. */
  readonly at?: bigint;
}

/**
 * How a component VM on the asynchronous path waits. The glue's `poll` and `pollable.block`
 * trampolines are wrapped (src/host/component/prepare.ts) so that while one runs, `armed` is
 * true: a wait that finds nothing ready then records the pollables in `pending` and returns at
 * once; the wrapper suspends the guest (JSPI) until one is ready, then calls the trampoline
 * again, which now finds it ready. Other VMs run on the thread meanwhile.
 */
export interface SuspendState {
  armed: boolean;
  pending: readonly Pollable[] | undefined;
}

/** The VM's deadline, for blocking calls (kept per VM by the import object). */
export interface Blocking {
  readonly deadlineNs: bigint | undefined;
  /** Present on the asynchronous path. */
  readonly suspend?: SuspendState;
}

export class Pollable {
  readonly #w: Waitable;
  readonly #vm: Blocking;
  constructor(w: Waitable, vm: Blocking) {
    this.#w = w;
    this.#vm = vm;
  }
  ready(): boolean {
    return this.#w.ready();
  }
  block(): void {
    waitAny([this], this.#vm);
  }
  /** For poll: the clock time at which this one is ready by itself. */
  get at(): bigint | undefined {
    return this.#w.at;
  }
}

/** The indices of the ready pollables. */
export function readyOf(list: readonly Pollable[]): number[] {
  const ready: number[] = [];
  list.forEach((p, i) => { if (p.ready()) ready.push(i); });
  return ready;
}

/**
 * Blocks until one pollable is ready; returns the indices of the ready ones. Armed on the
 * asynchronous path: returns none at once and leaves the wait to the suspending wrapper.
 */
export function waitAny(list: readonly Pollable[], vm: Blocking): number[] {
  if (vm.suspend?.armed === true) {
    const ready = readyOf(list);
    if (ready.length === 0) vm.suspend.pending = list;
    return ready;
  }
  for (;;) {
    const ready: number[] = [];
    list.forEach((p, i) => { if (p.ready()) ready.push(i); });
    if (ready.length > 0) return ready;
    const t = process.hrtime.bigint();
    if (vm.deadlineNs !== undefined && t >= vm.deadlineNs) {
      throw new VmStop('timeout', 'guest ran past its time limit while blocked in wasi:io/poll');
    }
    let wakeAt = vm.deadlineNs ?? t + 1_000_000_000n;
    let hasOther = false;
    for (const p of list) {
      if (p.at === undefined) hasOther = true;
      else if (p.at < wakeAt) wakeAt = p.at;
    }
    let ms = Number(wakeAt - t) / 1e6;
    if (hasOther) ms = Math.min(ms, FD_POLL_INTERVAL_MS);
    if (ms > 0) sleepMs(ms);
  }
}

export const ALWAYS_READY: Waitable = { ready: () => true };

/** stream-error as the glue lowers it. */
export type StreamError = { tag: 'closed' } | { tag: 'last-operation-failed'; val: IoError };
const CLOSED: StreamError = { tag: 'closed' };

function failed(e: GuestFault): StreamError {
  return { tag: 'last-operation-failed', val: new IoError(e.errno, e.message) };
}

function chunkLen(len: bigint): number {
  return Number(len > BigInt(MAX_IO_CHUNK) ? BigInt(MAX_IO_CHUNK) : len < 0n ? 0n : len);
}

/**
 * Where a stream's bytes come from or go: a descriptor read or written sequentially
 * (stdio) or at an offset that the stream advances (files).
 */
export interface StreamTarget {
  readonly desc: Descriptor;
  /** Byte offset for files; undefined for sequential descriptors. */
  offset?: bigint;
  /** Appends (each write goes to the end of the file). */
  append?: boolean;
}

export class InputStream {
  readonly #t: StreamTarget;
  readonly #vm: Blocking;
  #closed = false;
  constructor(t: StreamTarget, vm: Blocking) {
    this.#t = t;
    this.#vm = vm;
  }

  #readNow(len: number): Uint8Array {
    if (this.#closed) throw CLOSED;
    if (len === 0) return new Uint8Array(0);
    const buf = new Uint8Array(len);
    let n: number;
    try {
      n = this.#t.offset === undefined ? this.#t.desc.read([buf]) : this.#t.desc.pread([buf], this.#t.offset);
    } catch (e) {
      if (e instanceof GuestFault) throw failed(e);
      throw e;
    }
    if (n === 0) {
      this.#closed = true;
      throw CLOSED;
    }
    if (this.#t.offset !== undefined) this.#t.offset += BigInt(n);
    return buf.subarray(0, n);
  }

  #isReady(): boolean {
    const r = this.#t.desc.pollRead();
    return 'error' in r || r.ready;
  }

  /** Non-blocking: what is there now (possibly nothing). */
  read(len: bigint): Uint8Array {
    if (this.#t.offset === undefined && !this.#isReady()) return new Uint8Array(0);
    return this.#readNow(chunkLen(len));
  }
  blockingRead(len: bigint): Uint8Array {
    if (this.#t.offset === undefined && !this.#isReady()) waitAny([this.subscribe()], this.#vm);
    return this.#readNow(chunkLen(len));
  }
  skip(len: bigint): bigint {
    return BigInt(this.read(len).byteLength);
  }
  blockingSkip(len: bigint): bigint {
    return BigInt(this.blockingRead(len).byteLength);
  }
  subscribe(): Pollable {
    return new Pollable({ ready: () => this.#closed || this.#isReady() }, this.#vm);
  }
}

export class OutputStream {
  readonly #t: StreamTarget;
  readonly #vm: Blocking;
  constructor(t: StreamTarget, vm: Blocking) {
    this.#t = t;
    this.#vm = vm;
  }
  checkWrite(): bigint {
    return BigInt(MAX_IO_CHUNK);
  }
  write(contents: Uint8Array): void {
    if (contents.byteLength > MAX_IO_CHUNK) {
      // The guest must ask check-write first; the spec makes a larger write a trap-worthy error.
      throw { tag: 'last-operation-failed', val: new IoError(28, 'write larger than check-write allowed') } satisfies StreamError;
    }
    const t = this.#t;
    try {
      if (t.offset === undefined || t.append === true) {
        let done = 0;
        while (done < contents.byteLength) {
          const n = t.desc.write([contents.subarray(done)]);
          if (n <= 0) break;
          done += n;
        }
      } else {
        const n = t.desc.pwrite([contents], t.offset);
        t.offset += BigInt(n);
      }
    } catch (e) {
      if (e instanceof GuestFault) throw failed(e);
      throw e;
    }
  }
  blockingWriteAndFlush(contents: Uint8Array): void {
    // Chunked as the spec's reference loop does (check-write, write, flush).
    for (let at = 0; at < contents.byteLength; at += MAX_IO_CHUNK) this.write(contents.subarray(at, at + MAX_IO_CHUNK));
  }
  flush(): void {}
  blockingFlush(): void {}
  writeZeroes(len: bigint): void {
    this.write(new Uint8Array(chunkLen(len)));
  }
  blockingWriteZeroesAndFlush(len: bigint): void {
    this.writeZeroes(len);
  }
  splice(src: InputStream, len: bigint): bigint {
    const bytes = src.read(len);
    this.write(bytes);
    return BigInt(bytes.byteLength);
  }
  blockingSplice(src: InputStream, len: bigint): bigint {
    const bytes = src.blockingRead(len);
    this.write(bytes);
    return BigInt(bytes.byteLength);
  }
  subscribe(): Pollable {
    return new Pollable(ALWAYS_READY, this.#vm);
  }
}

export function ioInterfaces(vm: Blocking): Record<string, object> {
  return {
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': {
      Pollable,
      poll: (list: Pollable[]) => {
        // The spec makes an empty list a trap.
        if (list.length === 0) throw new WebAssembly.RuntimeError('wasi:io/poll.poll of an empty list');
        return new Uint32Array(waitAny(list, vm));
      },
    },
    'wasi:io/streams': { InputStream, OutputStream },
  };
}
