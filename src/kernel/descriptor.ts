/**
 * What a file descriptor points at. Every kind (stdio stream, file, directory, socket)
 * extends `Descriptor`; an operation a kind does not support keeps the default, which
 * answers the errno the spec gives for it. Syscalls check rights, then call these methods.
 */
import { Errno, FileType, type Errno as ErrnoT } from './abi.ts';
import { fault } from './memory.ts';

/** The 64-byte `filestat` struct, as numbers the syscall layer writes out. */
export interface FileStat {
  dev: bigint;
  ino: bigint;
  filetype: number;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

/** Readiness for poll_oneoff: `ready` with the bytes available, or `blocked`. */
export type Readiness =
  | { readonly ready: true; readonly nbytes: bigint; readonly hangup?: boolean }
  | { readonly ready: false }
  | { readonly error: ErrnoT };

/** One directory entry as fd_readdir reports it. */
export interface DirEntry {
  readonly name: string;
  readonly ino: bigint;
  readonly filetype: number;
}

export abstract class Descriptor {
  abstract readonly filetype: FileType;
  rightsBase: bigint;
  rightsInheriting: bigint;
  fdflags: number;
  /** Set on preopened directories: the name fd_prestat_dir_name reports. */
  preopenName: string | undefined;

  constructor(rightsBase: bigint, rightsInheriting: bigint, fdflags = 0) {
    this.rightsBase = rightsBase;
    this.rightsInheriting = rightsInheriting;
    this.fdflags = fdflags;
  }

  /** Reads into the buffers; returns bytes read (0 at end of file). */
  read(_bufs: Uint8Array[]): number {
    return fault(this.filetype === FileType.DIRECTORY ? Errno.ISDIR : Errno.BADF);
  }
  /** Writes the buffers; returns bytes written. */
  write(_bufs: Uint8Array[]): number {
    return fault(this.filetype === FileType.DIRECTORY ? Errno.ISDIR : Errno.BADF);
  }
  pread(_bufs: Uint8Array[], _offset: bigint): number {
    return fault(this.filetype === FileType.DIRECTORY ? Errno.ISDIR : Errno.SPIPE);
  }
  pwrite(_bufs: Uint8Array[], _offset: bigint): number {
    return fault(this.filetype === FileType.DIRECTORY ? Errno.ISDIR : Errno.SPIPE);
  }
  /** Returns the new offset. */
  seek(_offset: bigint, _whence: number): bigint {
    return fault(this.filetype === FileType.DIRECTORY ? Errno.ISDIR : Errno.SPIPE);
  }
  tell(): bigint {
    return fault(this.filetype === FileType.DIRECTORY ? Errno.ISDIR : Errno.SPIPE);
  }
  abstract filestat(): FileStat;
  setSize(_size: bigint): void {
    fault(this.filetype === FileType.DIRECTORY ? Errno.ISDIR : Errno.INVAL);
  }
  setTimes(_atim: bigint, _mtim: bigint, _fstflags: number): void {
    fault(Errno.NOTSUP);
  }
  advise(_offset: bigint, _len: bigint, _advice: number): void {
    if (this.filetype === FileType.DIRECTORY) fault(Errno.BADF);
    fault(Errno.SPIPE);
  }
  allocate(_offset: bigint, _len: bigint): void {
    fault(this.filetype === FileType.DIRECTORY ? Errno.ISDIR : Errno.NOTSUP);
  }
  sync(): void {}
  datasync(): void {}
  /** Directory entries starting at `cookie`; each entry's d_next is its index + 1. */
  readdir(_cookie: bigint): DirEntry[] {
    return fault(Errno.NOTDIR);
  }
  /** Changes fdflags (only APPEND and NONBLOCK are meaningful; others are accepted and kept). */
  setFlags(flags: number): void {
    this.fdflags = flags;
  }
  pollRead(): Readiness {
    return { ready: true, nbytes: 0n };
  }
  pollWrite(): Readiness {
    return { ready: true, nbytes: 0n };
  }
  /** sock_accept: a new connected socket. */
  accept(_fdflags: number): Descriptor {
    return fault(Errno.NOTSOCK);
  }
  /** sock_recv: bytes received and roflags. */
  recv(_bufs: Uint8Array[], _riflags: number): [number, number] {
    return fault(Errno.NOTSOCK);
  }
  /** sock_send: bytes sent. */
  send(_bufs: Uint8Array[], _siflags: number): number {
    return fault(Errno.NOTSOCK);
  }
  /** sock_shutdown with sdflags. */
  shutdown(_how: number): void {
    fault(Errno.NOTSOCK);
  }
  /** Called once when the descriptor leaves the table for the last time. */
  close(): void {}
}

/** Zeroed stat for things with no inode (streams, sockets). */
export function streamStat(filetype: number): FileStat {
  return { dev: 0n, ino: 0n, filetype, nlink: 1n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n };
}
