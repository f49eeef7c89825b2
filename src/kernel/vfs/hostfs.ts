/**
 * Host-directory mounts, backed by synchronous node:fs calls. Confinement is the point:
 * the OS is only ever handed `<mount root>/<c1>/.../<cn>` where every component is a
 * single name the resolver vetted (never `.`, `..` or containing `/`), every directory on
 * the way was seen by lstat as a real directory (not a symlink), and final components are
 * opened with O_NOFOLLOW. Symlinks are read here (readlinkSync) and resolved by the kernel
 * inside the guest's namespace, never by the OS.
 *
 * Known limit: without openat(2) in node:fs, a *different host process* that swaps a
 * checked directory for a symlink between our lstat and our use could redirect one call
 * (a TOCTOU race). The guest itself cannot do this: a VM's calls are synchronous.
 */
import * as fs from 'node:fs';
import { Errno, FileType } from '../abi.ts';
import type { DirEntry, FileStat } from '../descriptor.ts';
import { fault, GuestFault } from '../memory.ts';
import type {
  AnyNode, Device, DirNode, FileNode, FileOpenOptions, OpenFile, OtherNode, SymlinkNode, TimesUpdate,
} from './types.ts';

const C = fs.constants;

/** Host errno names to WASI errnos, in one table. Anything else is EIO. */
export const HOST_ERRNO: Readonly<Record<string, Errno>> = {
  E2BIG: Errno.TOOBIG,
  EACCES: Errno.ACCES,
  EAGAIN: Errno.AGAIN,
  EBADF: Errno.BADF,
  EBUSY: Errno.BUSY,
  EDQUOT: Errno.DQUOT,
  EEXIST: Errno.EXIST,
  EFBIG: Errno.FBIG,
  EINTR: Errno.INTR,
  EINVAL: Errno.INVAL,
  EIO: Errno.IO,
  EISDIR: Errno.ISDIR,
  ELOOP: Errno.LOOP,
  EMFILE: Errno.NFILE,
  EMLINK: Errno.MLINK,
  ENAMETOOLONG: Errno.NAMETOOLONG,
  ENFILE: Errno.NFILE,
  ENODEV: Errno.NODEV,
  ENOENT: Errno.NOENT,
  ENOMEM: Errno.NOMEM,
  ENOSPC: Errno.NOSPC,
  ENOSYS: Errno.NOSYS,
  ENOTDIR: Errno.NOTDIR,
  ENOTEMPTY: Errno.NOTEMPTY,
  ENOTSUP: Errno.NOTSUP,
  ENXIO: Errno.NXIO,
  EOPNOTSUPP: Errno.NOTSUP,
  EOVERFLOW: Errno.OVERFLOW,
  EPERM: Errno.PERM,
  EROFS: Errno.ROFS,
  ESPIPE: Errno.SPIPE,
  ESTALE: Errno.STALE,
  ETXTBSY: Errno.TXTBSY,
  EWOULDBLOCK: Errno.AGAIN,
  EXDEV: Errno.XDEV,
};

/** Runs a node:fs call, turning a host error into the guest's errno. */
export function host<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    if (e instanceof GuestFault) throw e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') fault(HOST_ERRNO[code] ?? Errno.IO, `host: ${(e as Error).message}`);
    throw e;
  }
}

/**
 * What one VM may add to a mount (a volume's share of its quota, granted by the daemon
 * before boot: docs/volumes.md) and what it did there. Bytes count regular files' sizes and
 * symlinks' target lengths, files count entries, as src/switches/storage/usage.ts measures
 * them. A change that would go past the budget fails with ENOSPC before anything is
 * modified: never a short write. Removing frees budget again.
 */
export class MountBudget {
  bytesLeft: number;
  filesLeft: number;
  /** Net change this VM made. */
  bytes = 0;
  files = 0;
  reads = 0;
  writes = 0;
  syncs = 0;
  constructor(bytes: number, files: number) {
    this.bytesLeft = bytes;
    this.filesLeft = files;
  }
  /** Charges (or, negative, frees) bytes and files, or fails with ENOSPC changing nothing. */
  charge(bytes: number, files: number): void {
    if (bytes > this.bytesLeft || files > this.filesLeft) {
      fault(Errno.NOSPC, bytes > this.bytesLeft ? 'volume quota of bytes exceeded' : 'volume quota of files exceeded');
    }
    this.bytesLeft -= bytes;
    this.filesLeft -= files;
    this.bytes += bytes;
    this.files += files;
  }
}

/** One mounted host directory. `root` is the canonical (realpath) host path. */
export class HostMount implements Device {
  readonly root: string;
  readonly readonly: boolean;
  /** Set for a volume's mount: its quota share and counters. */
  readonly budget: MountBudget | undefined;
  constructor(root: string, readonly: boolean, budget?: MountBudget) {
    this.root = root;
    this.readonly = readonly;
    this.budget = budget;
  }
  rootDir(): HostDir {
    return new HostDir(this, this.root);
  }
  checkWritable(): void {
    if (this.readonly) fault(Errno.ROFS, 'read-only mount');
  }

  /** Directories whose entries this VM changed (create, rename, remove) and has not synced yet. */
  readonly dirtyDirs = new Set<string>();

  /** Syncs every changed directory: a file's fd_sync, or a directory's, makes its name durable too. */
  syncDirs(): void {
    for (const d of this.dirtyDirs) syncDir(d);
    this.dirtyDirs.clear();
  }

  /**
   * node:fs sets times as float seconds (~0.4 µs resolution today), so a guest that sets
   * mtim = t and reads it back would see a rounded t. We remember the exact value per
   * inode with the rounded value the host stored, and report the exact one as long as
   * the host still holds that rounded value (any later change on the host wins).
   */
  readonly #exact = new Map<string, { atim?: [bigint, bigint]; mtim?: [bigint, bigint] }>();

  recordTimes(st: fs.BigIntStats, t: TimesUpdate): void {
    const key = `${st.dev}:${st.ino}`;
    const e = this.#exact.get(key) ?? {};
    if (t.atim !== undefined) e.atim = [st.atimeNs, t.atim];
    if (t.mtim !== undefined) e.mtim = [st.mtimeNs, t.mtim];
    if (this.#exact.size > 4096) this.#exact.clear();
    this.#exact.set(key, e);
  }

  stat(st: fs.BigIntStats): FileStat {
    const s = toStat(st);
    const e = this.#exact.size === 0 ? undefined : this.#exact.get(`${st.dev}:${st.ino}`);
    if (e?.atim !== undefined && e.atim[0] === s.atim) s.atim = e.atim[1];
    if (e?.mtim !== undefined && e.mtim[0] === s.mtim) s.mtim = e.mtim[1];
    return s;
  }
}

function fileTypeOf(st: fs.BigIntStats | fs.Stats): number {
  if (st.isDirectory()) return FileType.DIRECTORY;
  if (st.isFile()) return FileType.REGULAR_FILE;
  if (st.isSymbolicLink()) return FileType.SYMBOLIC_LINK;
  if (st.isBlockDevice()) return FileType.BLOCK_DEVICE;
  if (st.isCharacterDevice()) return FileType.CHARACTER_DEVICE;
  if (st.isSocket()) return FileType.SOCKET_STREAM;
  return FileType.UNKNOWN;
}

function toStat(st: fs.BigIntStats): FileStat {
  return {
    dev: st.dev, ino: st.ino, filetype: fileTypeOf(st), nlink: st.nlink, size: st.size,
    atim: st.atimeNs, mtim: st.mtimeNs, ctim: st.ctimeNs,
  };
}

function lstat(path: string): fs.BigIntStats {
  return host(() => fs.lstatSync(path, { bigint: true }));
}

/** Seconds (as node:fs utimes takes them) of an ns timestamp. */
function secs(ns: bigint): number {
  return Number(ns) / 1e9;
}

/** Applies a TimesUpdate, keeping the unchanged one from the current stat. */
function applyTimes(mount: HostMount, path: string, t: TimesUpdate, fd?: number): void {
  if (t.atim === undefined && t.mtim === undefined) return;
  const get = () => (fd === undefined ? lstat(path) : host(() => fs.fstatSync(fd, { bigint: true })));
  // The time left unchanged is rewritten too (utimes sets both): keep its exact value.
  const before = mount.stat(get());
  const exact = { atim: t.atim ?? before.atim, mtim: t.mtim ?? before.mtim };
  host(() => (fd === undefined ? fs.lutimesSync(path, secs(exact.atim), secs(exact.mtim)) : fs.futimesSync(fd, secs(exact.atim), secs(exact.mtim))));
  mount.recordTimes(get(), exact);
}

/** What an existing entry counts against a budget: its bytes (file size, symlink target length) and 1 file. */
function costOf(path: string): { bytes: number; files: number } {
  const st = fs.lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return { bytes: 0, files: 0 };
  return { bytes: st.isFile() || st.isSymbolicLink() ? st.size : 0, files: 1 };
}

/**
 * Syncs a directory (its entries: a created, renamed or removed name) so a crash cannot
 * lose it after the guest synced the file.
 */
function syncDir(path: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, C.O_RDONLY | C.O_DIRECTORY);
    fs.fsyncSync(fd);
  } catch {
    // Best effort: a directory that cannot be opened has nothing of ours to sync.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function nodeFor(mount: HostMount, path: string, st: fs.BigIntStats): AnyNode {
  if (st.isDirectory()) return new HostDir(mount, path, st.ino);
  if (st.isFile()) return new HostFile(mount, path);
  if (st.isSymbolicLink()) return new HostSymlink(mount, path);
  return new HostOther(mount, path, fileTypeOf(st));
}

abstract class HostBase {
  readonly device: HostMount;
  /** Host path: mount root plus vetted single-name components. */
  readonly path: string;
  constructor(mount: HostMount, path: string) {
    this.device = mount;
    this.path = path;
  }
  stat(): FileStat {
    return this.device.stat(lstat(this.path));
  }
  setTimes(t: TimesUpdate): void {
    this.device.checkWritable();
    applyTimes(this.device, this.path, t);
  }
}

/** An open host file: a real fd, always used with explicit positions. */
class HostOpenFile implements OpenFile {
  readonly #mount: HostMount;
  #fd: number;
  readonly #writable: boolean;
  /** The directory holding it when this open created it: synced with the file's first sync. */
  #createdIn: string | undefined;
  constructor(mount: HostMount, fd: number, writable: boolean, createdIn?: string) {
    this.#mount = mount;
    this.#fd = fd;
    this.#writable = writable;
    this.#createdIn = createdIn;
  }
  #fdOrBad(): number {
    if (this.#fd < 0) fault(Errno.BADF);
    return this.#fd;
  }
  #checkWrite(): number {
    this.#mount.checkWritable();
    if (!this.#writable) fault(Errno.BADF, 'file not opened for writing');
    return this.#fdOrBad();
  }
  size(): number {
    return Number(this.stat().size);
  }
  readAt(buf: Uint8Array, pos: number): number {
    const fd = this.#fdOrBad();
    if (this.#mount.budget !== undefined) this.#mount.budget.reads++;
    return host(() => fs.readSync(fd, buf, 0, buf.byteLength, pos));
  }
  writeAt(bufs: readonly Uint8Array[], pos: number): number {
    const fd = this.#checkWrite();
    const budget = this.#mount.budget;
    if (budget === undefined) return host(() => fs.writevSync(fd, bufs as Uint8Array[], pos));
    budget.writes++;
    let total = 0;
    for (const b of bufs) total += b.byteLength;
    const size = host(() => fs.fstatSync(fd)).size;
    const growth = Math.max(0, pos + total - size);
    budget.charge(growth, 0);
    let n: number;
    try {
      n = host(() => fs.writevSync(fd, bufs as Uint8Array[], pos));
    } catch (e) {
      budget.charge(-growth, 0);
      throw e;
    }
    // A short write (the disk itself full) gives back what it did not use.
    if (n < total) budget.charge(-(Math.max(0, pos + total - size) - Math.max(0, pos + n - size)), 0);
    return n;
  }
  truncate(size: number): void {
    const fd = this.#checkWrite();
    const budget = this.#mount.budget;
    if (budget === undefined) return host(() => fs.ftruncateSync(fd, size));
    const delta = size - host(() => fs.fstatSync(fd)).size;
    budget.charge(delta, 0);
    try {
      host(() => fs.ftruncateSync(fd, size));
    } catch (e) {
      budget.charge(-delta, 0);
      throw e;
    }
  }
  stat(): FileStat {
    const fd = this.#fdOrBad();
    return this.#mount.stat(host(() => fs.fstatSync(fd, { bigint: true })));
  }
  setTimes(t: TimesUpdate): void {
    this.#mount.checkWritable();
    applyTimes(this.#mount, '', t, this.#fdOrBad());
  }
  sync(): void {
    const fd = this.#fdOrBad();
    host(() => fs.fsyncSync(fd));
    this.#synced();
  }
  datasync(): void {
    const fd = this.#fdOrBad();
    host(() => fs.fdatasyncSync(fd));
    this.#synced();
  }
  /** After a file's sync: the directory entries this VM changed in its mount reach the disk too. */
  #synced(): void {
    if (this.#mount.budget !== undefined) this.#mount.budget.syncs++;
    if (this.#createdIn !== undefined) this.#mount.dirtyDirs.add(this.#createdIn);
    this.#createdIn = undefined;
    this.#mount.syncDirs();
  }
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    try {
      fs.closeSync(fd);
    } catch {
      // The descriptor is gone either way.
    }
  }
}

/**
 * Opens `path` (final component never followed), checks it is a regular file and
 * wraps it. FIFOs and devices are refused: opening them could block the whole host.
 */
function openHostFile(mount: HostMount, path: string, opts: FileOpenOptions, create: boolean): OpenFile {
  if (opts.write || opts.truncate || create) mount.checkWritable();
  const base = C.O_NOFOLLOW | C.O_NONBLOCK | (create ? C.O_CREAT | C.O_EXCL : 0) | (opts.truncate ? C.O_TRUNC : 0);
  const mode = opts.write ? (opts.read ? C.O_RDWR : C.O_WRONLY) : C.O_RDONLY;
  // A new file is one more entry; truncating an existing one frees its bytes.
  const freed = opts.truncate && !create && mount.budget !== undefined ? costOf(path).bytes : 0;
  if (create) mount.budget?.charge(0, 1);
  let fd: number;
  try {
    fd = host(() => fs.openSync(path, base | mode, 0o666));
  } catch (e) {
    if (create) mount.budget?.charge(0, -1);
    throw e;
  }
  if (freed > 0) mount.budget!.charge(-freed, 0);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) fault(st.isDirectory() ? Errno.ISDIR : Errno.NOTSUP, 'not a regular file');
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  const dir = path.slice(0, path.lastIndexOf('/'));
  return new HostOpenFile(mount, fd, opts.write, create ? dir : undefined);
}

export class HostDir extends HostBase implements DirNode {
  readonly kind = 'dir';
  /** Inode seen when this path was checked; undefined for the mount root. */
  readonly #ino: bigint | undefined;

  constructor(mount: HostMount, path: string, ino?: bigint) {
    super(mount, path);
    this.#ino = ino;
  }

  /**
   * Re-checks, before a descriptor's directory is used in a later call, that its path
   * still leads through real directories to the same inode. Without this a guest could
   * rename an ancestor away and put a symlink at its old name, and the OS would follow it.
   * A directory moved while open is ENOENT from then on (we hold a path, not an fd).
   */
  revalidate(): void {
    if (this.path === this.device.root) return;
    const rel = this.path.slice(this.device.root.length + 1).split('/');
    let p = this.device.root;
    let st: fs.BigIntStats | undefined;
    for (const c of rel) {
      p = `${p}/${c}`;
      st = host(() => fs.lstatSync(p, { bigint: true, throwIfNoEntry: false }));
      if (st === undefined || !st.isDirectory()) fault(Errno.NOENT, 'directory was moved or removed');
    }
    if (st === undefined || st.ino !== this.#ino) fault(Errno.NOENT, 'directory was moved or removed');
  }

  #child(name: string): string {
    return `${this.path}/${name}`;
  }

  /** fd_sync of the directory: its entries, and every other this VM changed in the mount. */
  sync(): void {
    this.device.dirtyDirs.add(this.path);
    if (this.device.budget !== undefined) this.device.budget.syncs++;
    this.device.syncDirs();
  }

  lookup(name: string): AnyNode | undefined {
    const p = this.#child(name);
    const st = host(() => fs.lstatSync(p, { bigint: true, throwIfNoEntry: false }));
    return st === undefined ? undefined : nodeFor(this.device, p, st);
  }

  list(): DirEntry[] {
    const names = host(() => fs.readdirSync(this.path));
    const out: DirEntry[] = [];
    for (const name of names) {
      const st = fs.lstatSync(this.#child(name), { bigint: true, throwIfNoEntry: false });
      if (st !== undefined) out.push({ name, ino: st.ino, filetype: fileTypeOf(st) });
    }
    return out;
  }

  isEmpty(): boolean {
    const d = host(() => fs.opendirSync(this.path));
    try {
      return d.readSync() === null;
    } finally {
      d.closeSync();
    }
  }

  parentIno(): bigint {
    if (this.path === this.device.root) return this.stat().ino;
    return lstat(this.path.slice(0, this.path.lastIndexOf('/'))).ino;
  }

  isWithin(node: DirNode): boolean {
    if (!(node instanceof HostDir) || node.device !== this.device) return false;
    return this.path === node.path || this.path.startsWith(`${node.path}/`);
  }

  /** Runs a change of this directory's entries that costs `bytes` and `files`, charged first, given back if it fails. */
  #changing<T>(bytes: number, files: number, fn: () => T, dirs: readonly string[] = [this.path]): T {
    const budget = this.device.budget;
    budget?.charge(bytes, files);
    let r: T;
    try {
      r = host(fn);
    } catch (e) {
      budget?.charge(-bytes, -files);
      throw e;
    }
    for (const d of dirs) this.device.dirtyDirs.add(d);
    return r;
  }

  mkdir(name: string): void {
    this.device.checkWritable();
    this.#changing(0, 1, () => fs.mkdirSync(this.#child(name), 0o777));
  }

  createFile(name: string, opts: FileOpenOptions): OpenFile {
    return openHostFile(this.device, this.#child(name), opts, true);
  }

  symlink(name: string, target: string): void {
    this.device.checkWritable();
    // Symlinks are resolved by the kernel, but a host program might follow this one:
    // never plant an absolute target on the host.
    if (target.startsWith('/')) fault(Errno.NOTCAPABLE, 'absolute symlink target on a host mount');
    this.#changing(Buffer.byteLength(target), 1, () => fs.symlinkSync(target, this.#child(name)));
  }

  link(name: string, node: AnyNode): void {
    this.device.checkWritable();
    const src = (node as HostFile | HostSymlink).path;
    // Every name counts, as the usage walk counts it.
    const cost = this.device.budget === undefined ? { bytes: 0, files: 0 } : costOf(src);
    this.#changing(cost.bytes, 1, () => fs.linkSync(src, this.#child(name)));
  }

  unlink(name: string): void {
    this.device.checkWritable();
    const p = this.#child(name);
    const cost = this.device.budget === undefined ? { bytes: 0, files: 0 } : costOf(p);
    this.#changing(-cost.bytes, -cost.files, () => fs.unlinkSync(p));
  }

  rmdir(name: string): void {
    this.device.checkWritable();
    this.#changing(0, -1, () => fs.rmdirSync(this.#child(name)));
  }

  rename(name: string, to: DirNode, toName: string): void {
    this.device.checkWritable();
    const toDir = to as HostDir;
    const dest = toDir.#child(toName);
    const src = this.#child(name);
    // A name that is replaced stops counting.
    const replaced = this.device.budget === undefined || src === dest ? { bytes: 0, files: 0 } : costOf(dest);
    this.#changing(-replaced.bytes, -replaced.files, () => fs.renameSync(src, dest), toDir.path === this.path ? [this.path] : [this.path, toDir.path]);
  }
}

export class HostFile extends HostBase implements FileNode {
  readonly kind = 'file';
  open(opts: FileOpenOptions): OpenFile {
    return openHostFile(this.device, this.path, opts, false);
  }
}

export class HostSymlink extends HostBase implements SymlinkNode {
  readonly kind = 'symlink';
  readlink(): string {
    return host(() => fs.readlinkSync(this.path, 'utf8'));
  }
}

export class HostOther extends HostBase implements OtherNode {
  readonly kind = 'other';
  readonly filetype: number;
  constructor(mount: HostMount, path: string, filetype: number) {
    super(mount, path);
    this.filetype = filetype;
  }
}
