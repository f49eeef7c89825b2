/**
 * Test harness: a Kernel over a filesystem, with helpers that place arguments in a real
 * WebAssembly.Memory and call the preview1 functions exactly as a guest would.
 * Only tests import this.
 */
import { Errno, Layout, LookupFlags, OFlags, RIGHTS_ALL, Rights, WASI_MODULE } from '../abi.ts';
import { Kernel } from '../kernel.ts';
import { BufferInput } from '../stdio.ts';
import type { FileSystem } from './index.ts';

type Fn = (...args: (number | bigint)[]) => number;

export interface Stat {
  dev: bigint; ino: bigint; filetype: number; nlink: bigint; size: bigint; atim: bigint; mtim: bigint; ctim: bigint;
}

export class Guest {
  readonly kernel: Kernel;
  readonly memory = new WebAssembly.Memory({ initial: 4 });
  readonly #fns: Record<string, Fn>;
  #heap = 0;

  constructor(fsys: FileSystem) {
    const stdio = () => new BufferInput(new Uint8Array());
    this.kernel = new Kernel({ args: ['t'], env: [], stdio: [stdio(), stdio(), stdio()], preopens: fsys.preopens });
    this.kernel.bindMemory(this.memory);
    this.#fns = this.kernel.imports()[WASI_MODULE] as unknown as Record<string, Fn>;
  }

  get #u8(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }
  get #view(): DataView {
    return new DataView(this.memory.buffer);
  }

  /** Scratch allocation, 8-aligned; reset at each helper call. */
  alloc(n: number): number {
    const p = 4096 + this.#heap;
    this.#heap += (n + 7) & ~7;
    return p;
  }
  #reset(): void {
    this.#heap = 0;
  }
  /** Puts a string (or bytes) in memory; returns [ptr, len]. */
  put(s: string | Uint8Array): [number, number] {
    const b = typeof s === 'string' ? new TextEncoder().encode(s) : s;
    const p = this.alloc(b.byteLength);
    this.#u8.set(b, p);
    return [p, b.byteLength];
  }
  u32(p: number): number {
    return this.#view.getUint32(p, true);
  }
  u64(p: number): bigint {
    return this.#view.getBigUint64(p, true);
  }
  bytes(p: number, n: number): Uint8Array {
    return this.#u8.slice(p, p + n);
  }

  call(name: string, ...args: (number | bigint)[]): number {
    const f = this.#fns[name];
    if (f === undefined) throw new Error(`no ${name}`);
    return f(...args);
  }

  open(dirfd: number, path: string, o: { oflags?: number; base?: bigint; inheriting?: bigint; fdflags?: number; follow?: boolean } = {}): { errno: number; fd: number } {
    this.#reset();
    const [p, n] = this.put(path);
    const out = this.alloc(4);
    const errno = this.call('path_open', dirfd, o.follow === false ? 0 : LookupFlags.SYMLINK_FOLLOW, p, n, o.oflags ?? 0,
      o.base ?? ((o.oflags ?? 0) & OFlags.DIRECTORY ? RIGHTS_ALL & ~Rights.FD_WRITE : RIGHTS_ALL), o.inheriting ?? RIGHTS_ALL, o.fdflags ?? 0, out);
    return { errno, fd: errno === Errno.SUCCESS ? this.u32(out) : -1 };
  }

  /** Opens and returns the fd, throwing on error. */
  openOk(dirfd: number, path: string, o: Parameters<Guest['open']>[2] = {}): number {
    const r = this.open(dirfd, path, o);
    if (r.errno !== Errno.SUCCESS) throw new Error(`path_open(${path}) failed with errno ${r.errno}`);
    return r.fd;
  }

  #iov(data: Uint8Array | number): { iov: number; buf: number } {
    const len = typeof data === 'number' ? data : data.byteLength;
    const buf = typeof data === 'number' ? this.alloc(len) : this.put(data)[0];
    const iov = this.alloc(8);
    this.#view.setUint32(iov, buf, true);
    this.#view.setUint32(iov + 4, len, true);
    return { iov, buf };
  }

  write(fd: number, data: string | Uint8Array): { errno: number; n: number } {
    this.#reset();
    const { iov } = this.#iov(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    const out = this.alloc(4);
    const errno = this.call('fd_write', fd, iov, 1, out);
    return { errno, n: errno === 0 ? this.u32(out) : 0 };
  }

  pwrite(fd: number, data: string, offset: bigint): { errno: number; n: number } {
    this.#reset();
    const { iov } = this.#iov(new TextEncoder().encode(data));
    const out = this.alloc(4);
    const errno = this.call('fd_pwrite', fd, iov, 1, offset, out);
    return { errno, n: errno === 0 ? this.u32(out) : 0 };
  }

  read(fd: number, max = 4096): { errno: number; data: string } {
    this.#reset();
    const { iov, buf } = this.#iov(max);
    const out = this.alloc(4);
    const errno = this.call('fd_read', fd, iov, 1, out);
    return { errno, data: errno === 0 ? new TextDecoder().decode(this.bytes(buf, this.u32(out))) : '' };
  }

  pread(fd: number, offset: bigint, max = 4096): { errno: number; data: string } {
    this.#reset();
    const { iov, buf } = this.#iov(max);
    const out = this.alloc(4);
    const errno = this.call('fd_pread', fd, iov, 1, offset, out);
    return { errno, data: errno === 0 ? new TextDecoder().decode(this.bytes(buf, this.u32(out))) : '' };
  }

  seek(fd: number, offset: bigint, whence: number): { errno: number; pos: bigint } {
    this.#reset();
    const out = this.alloc(8);
    const errno = this.call('fd_seek', fd, offset, whence, out);
    return { errno, pos: errno === 0 ? this.u64(out) : -1n };
  }

  #stat(p: number): Stat {
    return {
      dev: this.u64(p), ino: this.u64(p + 8), filetype: this.#u8[p + 16]!, nlink: this.u64(p + 24),
      size: this.u64(p + 32), atim: this.u64(p + 40), mtim: this.u64(p + 48), ctim: this.u64(p + 56),
    };
  }

  stat(dirfd: number, path: string, follow = true): { errno: number; stat?: Stat } {
    this.#reset();
    const [p, n] = this.put(path);
    const out = this.alloc(Layout.FILESTAT_SIZE);
    const errno = this.call('path_filestat_get', dirfd, follow ? 1 : 0, p, n, out);
    return errno === 0 ? { errno, stat: this.#stat(out) } : { errno };
  }

  fstat(fd: number): { errno: number; stat?: Stat } {
    this.#reset();
    const out = this.alloc(Layout.FILESTAT_SIZE);
    const errno = this.call('fd_filestat_get', fd, out);
    return errno === 0 ? { errno, stat: this.#stat(out) } : { errno };
  }

  /** Calls a path_* function taking (fd, path, len). */
  path(name: string, dirfd: number, path: string): number {
    this.#reset();
    const [p, n] = this.put(path);
    return this.call(name, dirfd, p, n);
  }
  mkdir(dirfd: number, path: string): number {
    return this.path('path_create_directory', dirfd, path);
  }
  unlink(dirfd: number, path: string): number {
    return this.path('path_unlink_file', dirfd, path);
  }
  rmdir(dirfd: number, path: string): number {
    return this.path('path_remove_directory', dirfd, path);
  }
  rename(fd1: number, from: string, fd2: number, to: string): number {
    this.#reset();
    const [a, an] = this.put(from);
    const [b, bn] = this.put(to);
    return this.call('path_rename', fd1, a, an, fd2, b, bn);
  }
  link(fd1: number, from: string, fd2: number, to: string, follow = false): number {
    this.#reset();
    const [a, an] = this.put(from);
    const [b, bn] = this.put(to);
    return this.call('path_link', fd1, follow ? 1 : 0, a, an, fd2, b, bn);
  }
  symlink(target: string, dirfd: number, path: string): number {
    this.#reset();
    const [a, an] = this.put(target);
    const [b, bn] = this.put(path);
    return this.call('path_symlink', a, an, dirfd, b, bn);
  }
  readlink(dirfd: number, path: string, bufLen = 256): { errno: number; target: string } {
    this.#reset();
    const [p, n] = this.put(path);
    const buf = this.alloc(bufLen);
    const out = this.alloc(4);
    const errno = this.call('path_readlink', dirfd, p, n, buf, bufLen, out);
    return { errno, target: errno === 0 ? new TextDecoder().decode(this.bytes(buf, this.u32(out))) : '' };
  }
  close(fd: number): number {
    return this.call('fd_close', fd);
  }

  /** Reads a whole directory via fd_readdir with a small buffer, exercising cookies. */
  readdir(fd: number, bufLen = 64): { errno: number; entries: { name: string; type: number; ino: bigint; next: bigint }[] } {
    const entries: { name: string; type: number; ino: bigint; next: bigint }[] = [];
    let cookie = 0n;
    for (let guard = 0; guard < 10_000; guard++) {
      this.#reset();
      const buf = this.alloc(bufLen);
      const out = this.alloc(4);
      const errno = this.call('fd_readdir', fd, buf, bufLen, cookie, out);
      if (errno !== 0) return { errno, entries };
      const used = this.u32(out);
      let off = 0;
      let progressed = false;
      while (off + Layout.DIRENT_SIZE <= used) {
        const next = this.u64(buf + off);
        const ino = this.u64(buf + off + 8);
        const namlen = this.u32(buf + off + 16);
        const type = this.#u8[buf + off + 20]!;
        if (off + Layout.DIRENT_SIZE + namlen > used) break;
        const name = new TextDecoder().decode(this.bytes(buf + off + Layout.DIRENT_SIZE, namlen));
        entries.push({ name, type, ino, next });
        cookie = next;
        progressed = true;
        off += Layout.DIRENT_SIZE + namlen;
      }
      if (used < bufLen) return { errno: 0, entries };
      if (!progressed) return { errno: -1, entries };
    }
    return { errno: -1, entries };
  }
}

/** Preopen fds: 3 is the first preopen. */
export const FIRST_PREOPEN = 3;
