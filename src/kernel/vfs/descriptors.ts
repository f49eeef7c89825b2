/**
 * File and directory descriptors over vnodes. A FileDescriptor owns a position and an
 * OpenFile; a DirectoryDescriptor is a capability for everything beneath its directory
 * (path calls resolve relative to it) and lists it with stable cookies.
 */
import { Errno, FdFlags, FileType, FstFlags, Whence } from '../abi.ts';
import { Descriptor, type DirEntry, type FileStat, type Readiness } from '../descriptor.ts';
import { fault } from '../memory.ts';
import type { DirNode, OpenFile, TimesUpdate } from './types.ts';
import { nowNs } from './types.ts';

/** Largest offset we hand to node:fs or a Uint8Array. */
const MAX_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/** Turns fstflags and values into the update to apply ("now" read once). */
export function timesUpdate(atim: bigint, mtim: bigint, flags: number): TimesUpdate {
  const now = (flags & (FstFlags.ATIM_NOW | FstFlags.MTIM_NOW)) !== 0 ? nowNs() : 0n;
  return {
    atim: flags & FstFlags.ATIM ? atim : flags & FstFlags.ATIM_NOW ? now : undefined,
    mtim: flags & FstFlags.MTIM ? mtim : flags & FstFlags.MTIM_NOW ? now : undefined,
  };
}

export class FileDescriptor extends Descriptor {
  readonly filetype = FileType.REGULAR_FILE;
  readonly file: OpenFile;
  #pos = 0n;

  constructor(file: OpenFile, rightsBase: bigint, rightsInheriting: bigint, fdflags: number) {
    super(rightsBase, rightsInheriting, fdflags);
    this.file = file;
  }

  #readAt(bufs: Uint8Array[], offset: bigint): number {
    if (offset >= MAX_OFFSET) return 0;
    let pos = Number(offset);
    let total = 0;
    for (const b of bufs) {
      if (b.byteLength === 0) continue;
      const n = this.file.readAt(b, pos);
      total += n;
      pos += n;
      if (n < b.byteLength) break;
    }
    return total;
  }

  #writeAt(bufs: Uint8Array[], offset: bigint): number {
    let len = 0;
    for (const b of bufs) len += b.byteLength;
    if (offset + BigInt(len) > MAX_OFFSET) fault(Errno.FBIG, 'offset too large');
    return this.file.writeAt(bufs, Number(offset));
  }

  override read(bufs: Uint8Array[]): number {
    const n = this.#readAt(bufs, this.#pos);
    this.#pos += BigInt(n);
    return n;
  }

  override write(bufs: Uint8Array[]): number {
    if (this.fdflags & FdFlags.APPEND) this.#pos = BigInt(this.file.size());
    const n = this.#writeAt(bufs, this.#pos);
    this.#pos += BigInt(n);
    return n;
  }

  override pread(bufs: Uint8Array[], offset: bigint): number {
    return this.#readAt(bufs, offset);
  }

  /** Writes at `offset` even in append mode (POSIX; Linux differs). */
  override pwrite(bufs: Uint8Array[], offset: bigint): number {
    return this.#writeAt(bufs, offset);
  }

  override seek(offset: bigint, whence: number): bigint {
    const base = whence === Whence.SET ? 0n : whence === Whence.CUR ? this.#pos : BigInt(this.file.size());
    const pos = base + offset;
    if (pos < 0n) fault(Errno.INVAL, 'negative offset');
    this.#pos = pos;
    return pos;
  }

  override tell(): bigint {
    return this.#pos;
  }

  override filestat(): FileStat {
    return this.file.stat();
  }

  override setSize(size: bigint): void {
    if (size > MAX_OFFSET) fault(Errno.FBIG);
    this.file.truncate(Number(size));
  }

  override setTimes(atim: bigint, mtim: bigint, fstflags: number): void {
    this.file.setTimes(timesUpdate(atim, mtim, fstflags));
  }

  override advise(): void {}

  /** Makes sure the file is at least offset+len long (preview1 fd_allocate). */
  override allocate(offset: bigint, len: bigint): void {
    const end = offset + len;
    if (end > MAX_OFFSET) fault(Errno.FBIG);
    if (BigInt(this.file.size()) < end) this.file.truncate(Number(end));
  }

  override sync(): void {
    this.file.sync();
  }

  override datasync(): void {
    this.file.datasync();
  }

  override pollRead(): Readiness {
    const left = BigInt(this.file.size()) - this.#pos;
    return { ready: true, nbytes: left > 0n ? left : 0n };
  }

  override close(): void {
    this.file.close();
  }
}

export class DirectoryDescriptor extends Descriptor {
  readonly filetype = FileType.DIRECTORY;
  readonly #dir: DirNode;
  /** The listing fd_readdir pages through; retaken at cookie 0 so cookies stay meaningful. */
  #snapshot: DirEntry[] | undefined;

  constructor(dir: DirNode, rightsBase: bigint, rightsInheriting: bigint, fdflags = 0, preopenName?: string) {
    super(rightsBase, rightsInheriting, fdflags);
    this.#dir = dir;
    this.preopenName = preopenName;
  }

  /** The directory, re-checked: it was found in an earlier call and may have moved since. */
  get dir(): DirNode {
    this.#dir.revalidate?.();
    return this.#dir;
  }

  override sync(): void {
    this.dir.sync?.();
  }

  override datasync(): void {
    this.dir.sync?.();
  }

  override readdir(cookie: bigint): DirEntry[] {
    if (cookie === 0n || this.#snapshot === undefined) {
      const dir = this.dir;
      const self = dir.stat().ino;
      const entries = dir.list().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.#snapshot = [
        { name: '.', ino: self, filetype: FileType.DIRECTORY },
        { name: '..', ino: dir.parentIno(), filetype: FileType.DIRECTORY },
        ...entries,
      ];
    }
    if (cookie >= BigInt(this.#snapshot.length)) return [];
    return this.#snapshot.slice(Number(cookie));
  }

  override filestat(): FileStat {
    return this.dir.stat();
  }

  override setTimes(atim: bigint, mtim: bigint, fstflags: number): void {
    this.dir.setTimes(timesUpdate(atim, mtim, fstflags));
  }
}
