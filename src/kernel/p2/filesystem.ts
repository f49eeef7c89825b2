/**
 * wasi:filesystem — types and preopens — over the SAME virtual filesystem as preview1: a 0.2
 * descriptor holds a preview1 DirectoryDescriptor or FileDescriptor (image root with its
 * copy-on-write layer, host mounts), and every path operation is the one of vfs/ops.ts with
 * its POSIX rules; only the argument and error shapes differ (errors.ts).
 */
import { FdFlags, FileType, OFlags, RIGHTS_DIR, RIGHTS_DIR_INHERITING, RIGHTS_FILE } from '../abi.ts';
import type { Descriptor as P1Descriptor, FileStat } from '../descriptor.ts';
import type { Kernel } from '../kernel.ts';
import { DirectoryDescriptor, FileDescriptor } from '../vfs/descriptors.ts';
import * as ops from '../vfs/ops.ts';
import type { TimesUpdate } from '../vfs/types.ts';
import { nowNs } from '../vfs/types.ts';
import { fsCall, fsErrorCode, guestError } from './errors.ts';
import { InputStream, IoError, MAX_IO_CHUNK, OutputStream, type Blocking } from './io.ts';

interface Datetime { seconds: bigint; nanoseconds: number }
type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: Datetime };
interface DescriptorFlags { read?: boolean; write?: boolean; mutateDirectory?: boolean; fileIntegritySync?: boolean; dataIntegritySync?: boolean; requestedWriteSync?: boolean }
interface PathFlags { symlinkFollow?: boolean }
interface OpenFlags { create?: boolean; directory?: boolean; exclusive?: boolean; truncate?: boolean }

const TYPES: Record<number, string> = {
  [FileType.UNKNOWN]: 'unknown', [FileType.BLOCK_DEVICE]: 'block-device', [FileType.CHARACTER_DEVICE]: 'character-device',
  [FileType.DIRECTORY]: 'directory', [FileType.REGULAR_FILE]: 'regular-file', [FileType.SOCKET_DGRAM]: 'socket',
  [FileType.SOCKET_STREAM]: 'socket', [FileType.SYMBOLIC_LINK]: 'symbolic-link',
};

function datetime(ns: bigint): Datetime {
  return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
}

function descriptorStat(s: FileStat): object {
  return {
    type: TYPES[s.filetype] ?? 'unknown',
    linkCount: s.nlink,
    size: s.size,
    dataAccessTimestamp: datetime(s.atim),
    dataModificationTimestamp: datetime(s.mtim),
    statusChangeTimestamp: datetime(s.ctim),
  };
}

function toNs(t: NewTimestamp, now: bigint): bigint | undefined {
  if (t.tag === 'no-change') return undefined;
  if (t.tag === 'now') return now;
  return t.val.seconds * 1_000_000_000n + BigInt(t.val.nanoseconds);
}

function timesOf(atim: NewTimestamp, mtim: NewTimestamp): TimesUpdate {
  const now = nowNs();
  return { atim: toNs(atim, now), mtim: toNs(mtim, now) };
}

function badDescriptor(): never {
  throw guestError('bad-descriptor');
}

class DirectoryEntryStream {
  readonly #entries: { type: string; name: string }[];
  #at = 0;
  constructor(entries: { type: string; name: string }[]) {
    this.#entries = entries;
  }
  readDirectoryEntry(): { type: string; name: string } | undefined {
    return this.#entries[this.#at++];
  }
}

/** wasi:filesystem/types.descriptor: a preview1 descriptor and the flags it was opened with. */
export class Descriptor {
  readonly #d: P1Descriptor;
  readonly #flags: DescriptorFlags;
  readonly #vm: Blocking;
  constructor(d: P1Descriptor, flags: DescriptorFlags, vm: Blocking) {
    this.#d = d;
    this.#flags = flags;
    this.#vm = vm;
  }

  #dir(): DirectoryDescriptor {
    if (!(this.#d instanceof DirectoryDescriptor)) throw guestError('not-directory');
    return this.#d;
  }
  #file(): FileDescriptor {
    if (!(this.#d instanceof FileDescriptor)) throw guestError(this.#d instanceof DirectoryDescriptor ? 'is-directory' : 'bad-descriptor');
    return this.#d;
  }
  #mutableDir(): DirectoryDescriptor {
    const d = this.#dir();
    if (this.#flags.mutateDirectory !== true) throw guestError('read-only');
    return d;
  }

  readViaStream(offset: bigint): InputStream {
    const f = this.#file();
    if (this.#flags.read !== true) badDescriptor();
    return new InputStream({ desc: f, offset }, this.#vm);
  }
  writeViaStream(offset: bigint): OutputStream {
    const f = this.#file();
    if (this.#flags.write !== true) badDescriptor();
    return new OutputStream({ desc: f, offset }, this.#vm);
  }
  appendViaStream(): OutputStream {
    const f = this.#file();
    if (this.#flags.write !== true) badDescriptor();
    f.setFlags(f.fdflags | FdFlags.APPEND);
    return new OutputStream({ desc: f, offset: 0n, append: true }, this.#vm);
  }
  advise(_offset: bigint, _length: bigint, _advice: string): void {
    this.#file();
  }
  syncData(): void {
    fsCall(() => this.#d.datasync());
  }
  sync(): void {
    fsCall(() => this.#d.sync());
  }
  getFlags(): DescriptorFlags {
    return { ...this.#flags };
  }
  getType(): string {
    return TYPES[this.#d.filetype] ?? 'unknown';
  }
  setSize(size: bigint): void {
    const f = this.#file();
    if (this.#flags.write !== true) badDescriptor();
    fsCall(() => f.setSize(size));
  }
  setTimes(atim: NewTimestamp, mtim: NewTimestamp): void {
    const t = timesOf(atim, mtim);
    fsCall(() => {
      if (this.#d instanceof FileDescriptor) this.#d.file.setTimes(t);
      else this.#dir().dir.setTimes(t);
    });
  }
  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    const f = this.#file();
    if (this.#flags.read !== true) badDescriptor();
    const n = Number(length > BigInt(MAX_IO_CHUNK) ? BigInt(MAX_IO_CHUNK) : length);
    const buf = new Uint8Array(n);
    const got = fsCall(() => f.pread([buf], offset));
    return [buf.subarray(0, got), got < n || (n === 0 && offset >= BigInt(f.file.size()))];
  }
  write(buffer: Uint8Array, offset: bigint): bigint {
    const f = this.#file();
    if (this.#flags.write !== true) badDescriptor();
    return BigInt(fsCall(() => f.pwrite([buffer], offset)));
  }
  readDirectory(): DirectoryEntryStream {
    const d = this.#dir();
    const entries = fsCall(() => d.readdir(0n))
      .filter((e) => e.name !== '.' && e.name !== '..')
      .map((e) => ({ type: TYPES[e.filetype] ?? 'unknown', name: e.name }));
    return new DirectoryEntryStream(entries);
  }
  createDirectoryAt(path: string): void {
    const d = this.#mutableDir();
    fsCall(() => ops.createDirectory(d.dir, path));
  }
  stat(): object {
    return descriptorStat(fsCall(() => this.#d.filestat()));
  }
  statAt(flags: PathFlags, path: string): object {
    const d = this.#dir();
    return descriptorStat(fsCall(() => ops.filestat(d.dir, path, flags.symlinkFollow === true)));
  }
  setTimesAt(flags: PathFlags, path: string, atim: NewTimestamp, mtim: NewTimestamp): void {
    const d = this.#dir();
    fsCall(() => ops.setTimes(d.dir, path, flags.symlinkFollow === true, timesOf(atim, mtim)));
  }
  linkAt(oldFlags: PathFlags, oldPath: string, newDesc: Descriptor, newPath: string): void {
    const src = this.#mutableDir();
    const dst = newDesc.#mutableDir();
    fsCall(() => ops.link(src.dir, oldPath, oldFlags.symlinkFollow === true, dst.dir, newPath));
  }
  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    const d = this.#dir();
    // What is opened beneath a directory gets at most what the directory was opened with.
    if (flags.write === true && this.#flags.mutateDirectory !== true) throw guestError('read-only');
    if ((openFlags.create === true || openFlags.truncate === true) && this.#flags.mutateDirectory !== true) throw guestError('read-only');
    if (flags.mutateDirectory === true && this.#flags.mutateDirectory !== true) throw guestError('read-only');
    let oflags = 0;
    if (openFlags.create === true) oflags |= OFlags.CREAT;
    if (openFlags.directory === true) oflags |= OFlags.DIRECTORY;
    if (openFlags.exclusive === true) oflags |= OFlags.EXCL;
    if (openFlags.truncate === true) oflags |= OFlags.TRUNC;
    const opened = fsCall(() => ops.openAt(d.dir, path, {
      follow: pathFlags.symlinkFollow === true,
      oflags,
      read: flags.read === true,
      write: flags.write === true,
      writeish: flags.write === true,
    }));
    if (opened.kind === 'file') {
      return new Descriptor(new FileDescriptor(opened.file, RIGHTS_FILE, RIGHTS_FILE, 0), { ...flags }, this.#vm);
    }
    // A directory keeps the mutate-directory of the one it was opened from, requested or not
    // (as in wasmtime): preview1 programs adapted to 0.2 never ask for it, and they must still
    // create files in the directories they open.
    const dirFlags = { ...flags, mutateDirectory: this.#flags.mutateDirectory === true };
    return new Descriptor(new DirectoryDescriptor(opened.dir, RIGHTS_DIR, RIGHTS_DIR_INHERITING), dirFlags, this.#vm);
  }
  readlinkAt(path: string): string {
    const d = this.#dir();
    return fsCall(() => ops.readlink(d.dir, path));
  }
  removeDirectoryAt(path: string): void {
    const d = this.#mutableDir();
    fsCall(() => ops.removeDirectory(d.dir, path));
  }
  renameAt(oldPath: string, newDesc: Descriptor, newPath: string): void {
    const src = this.#mutableDir();
    const dst = newDesc.#mutableDir();
    fsCall(() => ops.rename(src.dir, oldPath, dst.dir, newPath));
  }
  symlinkAt(oldPath: string, newPath: string): void {
    const d = this.#mutableDir();
    fsCall(() => ops.symlink(oldPath, d.dir, newPath));
  }
  unlinkFileAt(path: string): void {
    const d = this.#mutableDir();
    fsCall(() => ops.unlinkFile(d.dir, path));
  }
  isSameObject(other: Descriptor): boolean {
    const a = fsCall(() => this.#d.filestat());
    const b = fsCall(() => other.#d.filestat());
    return a.dev === b.dev && a.ino === b.ino;
  }
  metadataHash(): { lower: bigint; upper: bigint } {
    const s = fsCall(() => this.#d.filestat());
    return { lower: s.ino, upper: s.dev };
  }
  metadataHashAt(flags: PathFlags, path: string): { lower: bigint; upper: bigint } {
    const d = this.#dir();
    const s = fsCall(() => ops.filestat(d.dir, path, flags.symlinkFollow === true));
    return { lower: s.ino, upper: s.dev };
  }
  [Symbol.dispose](): void {
    this.#d.close();
  }
}

export function filesystemInterfaces(k: Kernel, vm: Blocking): Record<string, object> {
  let preopens: [Descriptor, string][] | undefined;
  return {
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: (err: unknown) => (err instanceof IoError ? fsErrorCode(err.errno) : undefined),
    },
    'wasi:filesystem/preopens': {
      // The kernel's preopened directories, in fd order (image root, then mounts).
      getDirectories: () => (preopens ??= [...k.fds.entries()]
        .map(([, d]) => d)
        .filter((d) => d instanceof DirectoryDescriptor && d.preopenName !== undefined)
        .map((d): [Descriptor, string] => [new Descriptor(d, { read: true, write: true, mutateDirectory: true }, vm), d.preopenName ?? '/'])),
    },
  };
}
