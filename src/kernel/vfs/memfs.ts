/**
 * A VM's writable layer: in-memory directories, files and symlinks over the shared image
 * tree, copy-on-write. Creating one is O(1): the root wraps the image root, and a lower
 * node gets its own writable wrapper only when a lookup first reaches it; file data stays
 * shared with the image until the first write or truncate copies it up. Every byte the
 * layer owns (file data, names, symlink targets) is charged to a quota; a change that would
 * exceed it fails with ENOSPC before anything is modified.
 */
import { Errno, FileType } from '../abi.ts';
import type { DirEntry, FileStat } from '../descriptor.ts';
import { fault } from '../memory.ts';
import type { ImageDir, ImageNode, ImageTree } from './image.ts';
import type { AnyNode, Device, DirNode, FileNode, FileOpenOptions, OpenFile, SymlinkNode, TimesUpdate } from './types.ts';
import { nowNs } from './types.ts';

/** What one directory entry costs against the quota besides its name (the Map slot, the inode). */
export const ENTRY_COST = 64;
/** Largest in-memory file; beyond it writes are EFBIG. */
export const MAX_MEM_FILE = 2 ** 32;
/** Longest name and symlink target the layer stores (Linux NAME_MAX, PATH_MAX). */
export const NAME_MAX = 255;
export const SYMLINK_MAX = 4095;
/** st_dev of the in-memory layer. */
const MEM_DEV = 1n;

export class Quota {
  readonly limit: number;
  used = 0;
  constructor(limit: number) {
    this.limit = limit;
  }
  get remaining(): number {
    return this.limit - this.used;
  }
  /** Reserves `n` bytes or fails with ENOSPC, changing nothing. */
  charge(n: number): void {
    if (n <= 0) {
      this.used += n;
      return;
    }
    if (this.used + n > this.limit) fault(Errno.NOSPC, 'writable layer quota exceeded');
    this.used += n;
  }
  release(n: number): void {
    this.used -= n;
  }
}

/** One VM's writable layer. */
export class MemFs implements Device {
  readonly readonly = false;
  readonly quota: Quota;
  #nextIno: bigint;
  readonly root: MemDir;
  /** Times reported by image nodes until they are modified. */
  readonly imageTimeNs: bigint;

  constructor(image: ImageTree | undefined, quotaBytes: number) {
    this.quota = new Quota(quotaBytes);
    this.#nextIno = (image?.maxIno ?? 0n) + 1n;
    const t = image?.timeNs ?? nowNs();
    this.imageTimeNs = t;
    this.root = image === undefined
      ? new MemDir(this, this.newIno(), t, undefined, undefined)
      : new MemDir(this, image.root.ino, image.timeNs, image.root, undefined);
  }

  newIno(): bigint {
    return this.#nextIno++;
  }
}

type MemNode = MemDir | MemFile | MemSymlink;

abstract class MemBase {
  readonly device: MemFs;
  readonly ino: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
  links = 1;

  constructor(fs: MemFs, ino: bigint, t: bigint) {
    this.device = fs;
    this.ino = ino;
    this.atim = t;
    this.mtim = t;
    this.ctim = t;
  }

  setTimes(t: TimesUpdate): void {
    if (t.atim !== undefined) this.atim = t.atim;
    if (t.mtim !== undefined) this.mtim = t.mtim;
    this.ctim = nowNs();
  }

  protected baseStat(filetype: number, nlink: number, size: number): FileStat {
    return { dev: MEM_DEV, ino: this.ino, filetype, nlink: BigInt(nlink), size: BigInt(size), atim: this.atim, mtim: this.mtim, ctim: this.ctim };
  }
}

function wrap(fs: MemFs, lower: ImageNode, parent: MemDir): MemNode {
  const t = fs.imageTimeNs;
  switch (lower.kind) {
    case 'dir':
      return new MemDir(fs, lower.ino, t, lower, parent);
    case 'file':
      return new MemFile(fs, lower.ino, t, lower.data, true);
    case 'symlink':
      return new MemSymlink(fs, lower.ino, t, lower.target);
  }
}

function kindType(kind: string): number {
  return kind === 'dir' ? FileType.DIRECTORY : kind === 'file' ? FileType.REGULAR_FILE : kind === 'symlink' ? FileType.SYMBOLIC_LINK : FileType.UNKNOWN;
}

function nameCost(name: string): number {
  const n = Buffer.byteLength(name);
  if (n > NAME_MAX) fault(Errno.NAMETOOLONG, 'name too long');
  return ENTRY_COST + n;
}

export class MemDir extends MemBase implements DirNode {
  readonly kind = 'dir';
  readonly #lower: ImageDir | undefined;
  /** Entries that differ from (or were looked up in) the lower dir; `null` hides a lower entry. */
  readonly #own = new Map<string, MemNode | null>();
  /** Quota charged for guest-created names, released when the name goes. */
  readonly #costs = new Map<string, number>();
  /** Host mounts grafted at a name of this directory. */
  #mounts: Map<string, DirNode> | undefined;
  parent: MemDir | undefined;
  /** True once rmdir'd: nothing more may be created in it. */
  removed = false;
  /** True on the path to a mount point: may not be renamed or removed. */
  pinned = false;

  constructor(fs: MemFs, ino: bigint, t: bigint, lower: ImageDir | undefined, parent: MemDir | undefined) {
    super(fs, ino, t);
    this.#lower = lower;
    this.parent = parent;
  }

  lookup(name: string): AnyNode | undefined {
    const m = this.#mounts?.get(name);
    if (m !== undefined) return m;
    const own = this.#own.get(name);
    if (own !== undefined) return own ?? undefined;
    const lower = this.#lower?.entries.get(name);
    if (lower === undefined) return undefined;
    const node = wrap(this.device, lower, this);
    this.#own.set(name, node);
    return node;
  }

  /** The entry as a MemNode, or EBUSY if it is a mount point. */
  #entry(name: string): MemNode | undefined {
    if (this.#mounts?.has(name)) fault(Errno.BUSY, `${name} is a mount point`);
    const n = this.lookup(name);
    return n as MemNode | undefined;
  }

  list(): DirEntry[] {
    const out: DirEntry[] = [];
    if (this.#lower !== undefined) {
      for (const [name, n] of this.#lower.entries) {
        if (this.#mounts?.has(name)) continue;
        const own = this.#own.get(name);
        if (own === null) continue;
        if (own !== undefined) out.push({ name, ino: own.ino, filetype: kindType(own.kind) });
        else out.push({ name, ino: n.ino, filetype: kindType(n.kind) });
      }
    }
    for (const [name, n] of this.#own) {
      if (n === null || this.#mounts?.has(name) || this.#lower?.entries.has(name)) continue;
      out.push({ name, ino: n.ino, filetype: kindType(n.kind) });
    }
    if (this.#mounts !== undefined) {
      for (const [name, d] of this.#mounts) out.push({ name, ino: d.stat().ino, filetype: FileType.DIRECTORY });
    }
    return out;
  }

  isEmpty(): boolean {
    if (this.#mounts !== undefined && this.#mounts.size > 0) return false;
    for (const n of this.#own.values()) if (n !== null) return false;
    if (this.#lower !== undefined) {
      for (const name of this.#lower.entries.keys()) if (!this.#own.has(name)) return false;
    }
    return true;
  }

  parentIno(): bigint {
    return (this.parent ?? this).ino;
  }

  stat(): FileStat {
    let subdirs = 0;
    for (const e of this.list()) if (e.filetype === FileType.DIRECTORY) subdirs++;
    return this.baseStat(FileType.DIRECTORY, 2 + subdirs, 4096);
  }

  isWithin(node: DirNode): boolean {
    for (let d: MemDir | undefined = this; d !== undefined; d = d.parent) if (d === node) return true;
    return false;
  }

  /** Grafts a host mount at `name` (at filesystem creation, never by the guest). */
  graft(name: string, dir: DirNode): void {
    this.#mounts ??= new Map();
    this.#mounts.set(name, dir);
  }

  /** Creates a directory on the way to a mount point; not charged, never removable. */
  scaffold(name: string): void {
    const d = new MemDir(this.device, this.device.newIno(), this.device.imageTimeNs, undefined, this);
    d.pinned = true;
    this.#own.set(name, d);
  }

  #touch(): void {
    this.mtim = this.ctim = nowNs();
  }

  #checkAlive(): void {
    if (this.removed) fault(Errno.NOENT, 'directory was removed');
  }

  /** Adds a new entry after charging its name; `extra` is charged with it. */
  #add(name: string, node: MemNode, extra = 0): void {
    this.#checkAlive();
    const cost = nameCost(name) + extra;
    this.device.quota.charge(cost);
    this.#own.set(name, node);
    this.#costs.set(name, cost);
    this.#touch();
  }

  /** Removes an entry, releasing its name's charge. */
  #drop(name: string): void {
    const cost = this.#costs.get(name);
    if (cost !== undefined) {
      this.device.quota.release(cost);
      this.#costs.delete(name);
    }
    if (this.#lower?.entries.has(name)) this.#own.set(name, null);
    else this.#own.delete(name);
    this.#touch();
  }

  mkdir(name: string): void {
    const d = new MemDir(this.device, this.device.newIno(), nowNs(), undefined, this);
    this.#add(name, d);
  }

  createFile(name: string, _opts: FileOpenOptions): OpenFile {
    const f = new MemFile(this.device, this.device.newIno(), nowNs(), new Uint8Array(0), false);
    this.#add(name, f);
    return f.open();
  }

  symlink(name: string, target: string): void {
    if (Buffer.byteLength(target) > SYMLINK_MAX) fault(Errno.NAMETOOLONG, 'symlink target too long');
    const s = new MemSymlink(this.device, this.device.newIno(), nowNs(), target);
    this.#add(name, s, Buffer.byteLength(target));
  }

  link(name: string, node: AnyNode): void {
    const n = node as MemFile | MemSymlink;
    this.#add(name, n);
    n.links++;
    n.ctim = nowNs();
  }

  unlink(name: string): void {
    const n = this.#entry(name);
    if (n === undefined) return fault(Errno.NOENT);
    this.#drop(name);
    n.links--;
    n.ctim = nowNs();
    if (n instanceof MemFile) n.maybeFree();
  }

  rmdir(name: string): void {
    const n = this.#entry(name);
    if (!(n instanceof MemDir)) return fault(Errno.NOTDIR);
    if (n.pinned) fault(Errno.BUSY, 'directory holds a mount point');
    this.#drop(name);
    n.removed = true;
    n.links = 0;
  }

  rename(name: string, to: DirNode, toName: string): void {
    const dest = to as MemDir;
    const n = this.#entry(name);
    if (n === undefined) return fault(Errno.NOENT);
    if (n instanceof MemDir && n.pinned) fault(Errno.BUSY, 'directory holds a mount point');
    const replaced = dest.#entry(toName);
    if (replaced === n) return;
    if (replaced instanceof MemDir && replaced.pinned) fault(Errno.BUSY, 'directory holds a mount point');
    dest.#checkAlive();
    // Charge the new name first so a full quota leaves both directories as they were.
    const cost = nameCost(toName);
    const oldDestCost = dest.#costs.get(toName) ?? 0;
    this.device.quota.charge(cost - oldDestCost);
    dest.#costs.delete(toName);
    this.#drop(name);
    dest.#own.set(toName, n);
    dest.#costs.set(toName, cost);
    dest.#touch();
    n.ctim = nowNs();
    if (n instanceof MemDir) n.parent = dest;
    if (replaced !== undefined) {
      replaced.links--;
      if (replaced instanceof MemDir) {
        replaced.removed = true;
        replaced.links = 0;
      }
      if (replaced instanceof MemFile) replaced.maybeFree();
    }
  }
}

export class MemFile extends MemBase implements FileNode {
  readonly kind = 'file';
  /** Backing bytes; shared with the image while `#shared`, else owned (capacity >= size). */
  #data: Uint8Array;
  #size: number;
  #shared: boolean;
  #opens = 0;

  constructor(fs: MemFs, ino: bigint, t: bigint, data: Uint8Array, shared: boolean) {
    super(fs, ino, t);
    this.#data = data;
    this.#size = data.byteLength;
    this.#shared = shared;
  }

  stat(): FileStat {
    return this.baseStat(FileType.REGULAR_FILE, this.links, this.#size);
  }

  open(opts?: FileOpenOptions): OpenFile {
    if (opts?.truncate) this.truncate(0);
    this.#opens++;
    let closed = false;
    return {
      size: () => this.#size,
      readAt: (buf, pos) => this.readAt(buf, pos),
      writeAt: (bufs, pos) => this.writeAt(bufs, pos),
      truncate: (size) => this.truncate(size),
      stat: () => this.stat(),
      setTimes: (t) => this.setTimes(t),
      sync: () => {},
      datasync: () => {},
      close: () => {
        if (closed) return;
        closed = true;
        this.#opens--;
        this.maybeFree();
      },
    };
  }

  /** Bytes this file holds against the quota. */
  get #charged(): number {
    return this.#shared ? 0 : this.#size;
  }

  /** Drops the data once no name and no descriptor refers to the file. */
  maybeFree(): void {
    if (this.links > 0 || this.#opens > 0) return;
    this.device.quota.release(this.#charged);
    this.#data = new Uint8Array(0);
    this.#size = 0;
    this.#shared = true;
  }

  readAt(buf: Uint8Array, pos: number): number {
    if (pos >= this.#size) return 0;
    const n = Math.min(buf.byteLength, this.#size - pos);
    buf.set(this.#data.subarray(pos, pos + n));
    return n;
  }

  /** Makes the data owned with room for `size` bytes; the quota was already charged. */
  #reserve(size: number): void {
    if (!this.#shared && this.#data.byteLength >= size) return;
    const q = this.device.quota;
    const grown = Math.min(Math.max(this.#data.byteLength * 2, 64), size + Math.max(0, q.remaining), MAX_MEM_FILE);
    const next = new Uint8Array(Math.max(size, grown));
    next.set(this.#data.subarray(0, Math.min(this.#size, size)));
    this.#data = next;
    this.#shared = false;
  }

  writeAt(bufs: readonly Uint8Array[], pos: number): number {
    let total = 0;
    for (const b of bufs) total += b.byteLength;
    if (total === 0) return 0;
    const end = pos + total;
    if (end > MAX_MEM_FILE) fault(Errno.FBIG, 'file too large');
    const newSize = Math.max(this.#size, end);
    this.device.quota.charge(newSize - this.#charged);
    this.#reserve(newSize);
    let at = pos;
    for (const b of bufs) {
      this.#data.set(b, at);
      at += b.byteLength;
    }
    this.#size = newSize;
    this.mtim = this.ctim = nowNs();
    return total;
  }

  truncate(size: number): void {
    if (size > MAX_MEM_FILE) fault(Errno.FBIG, 'file too large');
    if (size === this.#size && !this.#shared) return;
    if (size === 0) {
      this.device.quota.release(this.#charged);
      this.#data = new Uint8Array(0);
      this.#size = 0;
      this.#shared = false;
    } else {
      this.device.quota.charge(size - this.#charged);
      if (size > this.#size || this.#shared) this.#reserve(size);
      // Bytes past the end stay zero, so a later extension reads zeros.
      if (size < this.#size) this.#data.fill(0, size, this.#size);
      this.#size = size;
    }
    this.mtim = this.ctim = nowNs();
  }
}

export class MemSymlink extends MemBase implements SymlinkNode {
  readonly kind = 'symlink';
  readonly target: string;
  constructor(fs: MemFs, ino: bigint, t: bigint, target: string) {
    super(fs, ino, t);
    this.target = target;
  }
  readlink(): string {
    return this.target;
  }
  stat(): FileStat {
    return this.baseStat(FileType.SYMBOLIC_LINK, this.links, Buffer.byteLength(this.target));
  }
}
