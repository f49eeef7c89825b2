/**
 * Descriptors 0, 1 and 2: stdin from a byte buffer or the host's own stdin; stdout and
 * stderr into a sink with a shared output budget, so a flooding guest is stopped, not
 * buffered without bound.
 *
 * Each reports what it really is, as wasmtime does: captured streams are `unknown` (a
 * pipe-like stream, so wasi-libc's `isatty()` is 0 and stdio buffers fully); an inherited
 * host fd is a `character_device` only when it is a terminal (see `hostFileType`).
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { Errno, FileType, RIGHTS_STDIO, Rights } from './abi.ts';
import { Descriptor, streamStat, type FileStat, type Readiness } from './descriptor.ts';
import { VmStop } from './unwind.ts';
import { fault } from './memory.ts';

const INPUT_RIGHTS = RIGHTS_STDIO & ~Rights.FD_WRITE;
const OUTPUT_RIGHTS = RIGHTS_STDIO & ~Rights.FD_READ;

/**
 * The WASI filetype of a host fd: `character_device` only for a terminal, `regular_file`
 * for a file, `unknown` for a pipe, a socket or anything else (as wasmtime reports a
 * non-terminal stdio). A host socket is not `socket_stream`: the sock_* calls work only on
 * preopened sockets, and a guest told "socket" would try them. Files get no seek/tell
 * rights: Node has no lseek, so the host offset could not be reported honestly.
 */
export function hostFileType(fd: number): FileType {
  if (isatty(fd)) return FileType.CHARACTER_DEVICE;
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return FileType.REGULAR_FILE;
  } catch {
    // A closed host fd: reads and writes will fail on their own.
  }
  return FileType.UNKNOWN;
}

/** stdin from bytes known up front (library default: empty). */
export class BufferInput extends Descriptor {
  readonly filetype = FileType.UNKNOWN;
  #data: Uint8Array;
  #pos = 0;

  constructor(data: Uint8Array) {
    super(INPUT_RIGHTS, 0n);
    this.#data = data;
  }

  override read(bufs: Uint8Array[]): number {
    let n = 0;
    for (const b of bufs) {
      const left = this.#data.byteLength - this.#pos;
      if (left <= 0) break;
      const take = Math.min(left, b.byteLength);
      b.set(this.#data.subarray(this.#pos, this.#pos + take));
      this.#pos += take;
      n += take;
    }
    return n;
  }

  override filestat(): FileStat {
    return streamStat(this.filetype);
  }

  override pollRead(): Readiness {
    const left = this.#data.byteLength - this.#pos;
    return { ready: true, nbytes: BigInt(left), hangup: left === 0 };
  }
}

/** Sleeps the thread without spinning (the kernel is synchronous on this path). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * stdin read from a host file descriptor, blocking (the CLI's `run`).
 *
 * Readiness for poll_oneoff: Node has no poll(2), so on Linux a pipe, FIFO or terminal is
 * opened a second time through `/proc/self/fd/N` with O_NONBLOCK (a new open file
 * description: the host fd itself stays blocking) and a non-blocking read looks for data.
 * Bytes found that way are kept and handed out by the next `read`. A regular file is always
 * ready, as poll(2) says. Where the second open is impossible (a socket, no /proc) stdin is
 * reported ready, and a read then blocks until data arrives.
 */
export class HostFdInput extends Descriptor {
  readonly filetype: FileType;
  readonly #fd: number;
  /** Bytes a readiness probe read ahead; `read` hands them out first. */
  #pending: Uint8Array = new Uint8Array(0);
  /** The probe saw end of file: every writer is gone. */
  #eof = false;
  /** Non-blocking second descriptor for readiness; null once known to be impossible. */
  #probe: number | null | undefined;

  constructor(fd: number) {
    super(INPUT_RIGHTS, 0n);
    this.#fd = fd;
    this.filetype = hostFileType(fd);
  }

  override read(bufs: Uint8Array[]): number {
    const first = bufs.find((b) => b.byteLength > 0);
    if (first === undefined) return 0;
    if (this.#pending.byteLength > 0) {
      const take = Math.min(first.byteLength, this.#pending.byteLength);
      first.set(this.#pending.subarray(0, take));
      this.#pending = this.#pending.subarray(take);
      return take;
    }
    if (this.#eof) return 0;
    for (;;) {
      try {
        return readSync(this.#fd, first, 0, first.byteLength, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          sleepMs(1);
          continue;
        }
        if (code === 'EOF') return 0;
        return fault(Errno.IO, String(code));
      }
    }
  }

  override filestat(): FileStat {
    return streamStat(this.filetype);
  }

  override pollRead(): Readiness {
    if (this.#pending.byteLength > 0) return { ready: true, nbytes: BigInt(this.#pending.byteLength) };
    if (this.#eof) return { ready: true, nbytes: 0n, hangup: true };
    const probe = this.#openProbe();
    if (probe === null) return { ready: true, nbytes: 0n };
    const buf = new Uint8Array(PROBE_BYTES);
    try {
      const n = readSync(probe, buf, 0, buf.byteLength, null);
      if (n === 0) {
        this.#eof = true;
        return { ready: true, nbytes: 0n, hangup: true };
      }
      this.#pending = buf.subarray(0, n);
      return { ready: true, nbytes: BigInt(n) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return { ready: false };
      // Anything else the real read will report.
      return { ready: true, nbytes: 0n };
    }
  }

  #openProbe(): number | null {
    if (this.#probe !== undefined) return this.#probe;
    this.#probe = null;
    if (this.filetype !== FileType.REGULAR_FILE) {
      try {
        this.#probe = openSync(`/proc/self/fd/${this.#fd}`, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
      } catch {
        // No /proc, or not reopenable: readiness falls back to "ready".
      }
    }
    return this.#probe;
  }

  override close(): void {
    if (typeof this.#probe === 'number') closeSync(this.#probe);
    this.#probe = null;
  }
}

/** Bytes one readiness probe reads ahead of the guest at most. */
const PROBE_BYTES = 64 * 1024;

/** Shared byte budget for a VM's stdout and stderr together. */
export class OutputBudget {
  remaining: number;
  constructor(limit: number) {
    this.remaining = limit;
  }
}

export type OutputSink = (chunk: Uint8Array) => void;

/**
 * stdout / stderr: each write goes to the sink (copied: guest memory is live). `filetype`
 * is what the guest is told the stream is: `unknown` for a capture or a callback, the host
 * fd's `hostFileType` when inherited.
 */
export class OutputStream extends Descriptor {
  readonly filetype: FileType;
  readonly #sink: OutputSink;
  readonly #budget: OutputBudget;

  constructor(sink: OutputSink, budget: OutputBudget, filetype: FileType = FileType.UNKNOWN) {
    super(OUTPUT_RIGHTS, 0n);
    this.#sink = sink;
    this.#budget = budget;
    this.filetype = filetype;
  }

  override write(bufs: Uint8Array[]): number {
    let n = 0;
    for (const b of bufs) {
      if (b.byteLength === 0) continue;
      if (b.byteLength > this.#budget.remaining) {
        const part = b.subarray(0, this.#budget.remaining);
        if (part.byteLength > 0) this.#sink(part.slice());
        this.#budget.remaining = 0;
        throw new VmStop('output-limit', 'guest exceeded its output limit');
      }
      this.#budget.remaining -= b.byteLength;
      this.#sink(b.slice());
      n += b.byteLength;
    }
    return n;
  }

  override filestat(): FileStat {
    return streamStat(this.filetype);
  }
}

/** A sink that writes synchronously to a host fd (the CLI's inherited stdout/stderr). */
export function hostFdSink(fd: number): OutputSink {
  return (chunk) => {
    let off = 0;
    while (off < chunk.byteLength) {
      try {
        off += writeSync(fd, chunk, off, chunk.byteLength - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          sleepMs(1);
          continue;
        }
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
        throw e;
      }
    }
  };
}

/** A sink that collects output in memory. */
export class CaptureSink {
  readonly chunks: Uint8Array[] = [];
  readonly sink: OutputSink = (chunk) => {
    this.chunks.push(chunk);
  };
  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}
