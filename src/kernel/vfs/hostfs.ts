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

/** One mounted host directory. `root` is the canonical (realpath) host path. */
export class HostMount implements Device {
  readonly root: string;
  readonly readonly: boolean;
  constructor(root: string, readonly: boolean) {
    this.root = root;
    this.readonly = readonly;
  }
  rootDir(): HostDir {
    return new HostDir(this, this.root);
  }
  checkWritable(): void {
    if (this.readonly) fault(Errno.ROFS, 'read-only mount');
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
  constructor(mount: HostMount, fd: number, writable: boolean) {
    this.#mount = mount;
    this.#fd = fd;
    this.#writable = writable;
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
    return host(() => fs.readSync(fd, buf, 0, buf.byteLength, pos));
  }
  writeAt(bufs: readonly Uint8Array[], pos: number): number {
    const fd = this.#checkWrite();
    return host(() => fs.writevSync(fd, bufs as Uint8Array[], pos));
  }
  truncate(size: number): void {
    const fd = this.#checkWrite();
    host(() => fs.ftruncateSync(fd, size));
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
  }
  datasync(): void {
    const fd = this.#fdOrBad();
    host(() => fs.fdatasyncSync(fd));
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
  const fd = host(() => fs.openSync(path, base | mode, 0o666));
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) fault(st.isDirectory() ? Errno.ISDIR : Errno.NOTSUP, 'not a regular file');
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return new HostOpenFile(mount, fd, opts.write);
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

  mkdir(name: string): void {
    this.device.checkWritable();
    host(() => fs.mkdirSync(this.#child(name), 0o777));
  }

  createFile(name: string, opts: FileOpenOptions): OpenFile {
    return openHostFile(this.device, this.#child(name), opts, true);
  }

  symlink(name: string, target: string): void {
    this.device.checkWritable();
    // Symlinks are resolved by the kernel, but a host program might follow this one:
    // never plant an absolute target on the host.
    if (target.startsWith('/')) fault(Errno.NOTCAPABLE, 'absolute symlink target on a host mount');
    host(() => fs.symlinkSync(target, this.#child(name)));
  }

  link(name: string, node: AnyNode): void {
    this.device.checkWritable();
    const src = (node as HostFile | HostSymlink).path;
    host(() => fs.linkSync(src, this.#child(name)));
  }

  unlink(name: string): void {
    this.device.checkWritable();
    host(() => fs.unlinkSync(this.#child(name)));
  }

  rmdir(name: string): void {
    this.device.checkWritable();
    host(() => fs.rmdirSync(this.#child(name)));
  }

  rename(name: string, to: DirNode, toName: string): void {
    this.device.checkWritable();
    const dest = (to as HostDir).#child(toName);
    host(() => fs.renameSync(this.#child(name), dest));
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
