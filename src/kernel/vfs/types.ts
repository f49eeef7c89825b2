/**
 * The vnode interface every filesystem backend implements (the VM's in-memory CoW layer over
 * the image, and host-directory mounts). Path resolution and the POSIX rules of each path
 * operation live above this interface (resolve.ts, ops.ts); a backend only does the one
 * primitive it is asked for, on a single name that resolution has already vetted.
 */
import type { DirEntry, FileStat } from '../descriptor.ts';

/** One file of an image, as src/image hands it to the kernel. */
export interface ImageFile {
  /** Absolute guest path, e.g. `/etc/app.conf`. */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  /** Contents of a file (default: empty). */
  data?: Uint8Array;
  /** Target of a symlink (required for symlinks). */
  target?: string;
  /** Unix mode bits; kept for the image's sake, WASI has no modes. */
  mode: number;
}

export type NodeKind = 'dir' | 'file' | 'symlink' | 'other';

/**
 * A filesystem instance: the VM's writable layer, or one host mount. Renames and links
 * between different devices are EXDEV.
 */
export interface Device {
  readonly readonly: boolean;
}

/** Timestamps to set; `undefined` leaves that one unchanged. */
export interface TimesUpdate {
  atim: bigint | undefined;
  mtim: bigint | undefined;
}

export interface VNode {
  readonly kind: NodeKind;
  readonly device: Device;
  stat(): FileStat;
  /** Changes atim/mtim of the node itself (never follows a symlink). */
  setTimes(t: TimesUpdate): void;
}

/** What an open regular file offers the FileDescriptor; offsets are byte positions. */
export interface OpenFile {
  size(): number;
  /** Reads at `pos` into `buf`; returns bytes read (0 at or past the end). */
  readAt(buf: Uint8Array, pos: number): number;
  /** Writes every buffer at `pos`, all or nothing (ENOSPC leaves the file unchanged). */
  writeAt(bufs: readonly Uint8Array[], pos: number): number;
  truncate(size: number): void;
  stat(): FileStat;
  setTimes(t: TimesUpdate): void;
  sync(): void;
  datasync(): void;
  close(): void;
}

export interface FileOpenOptions {
  read: boolean;
  write: boolean;
  truncate: boolean;
}

export interface FileNode extends VNode {
  readonly kind: 'file';
  open(opts: FileOpenOptions): OpenFile;
}

export interface SymlinkNode extends VNode {
  readonly kind: 'symlink';
  readlink(): string;
}

export interface OtherNode extends VNode {
  readonly kind: 'other';
}

export interface DirNode extends VNode {
  readonly kind: 'dir';
  /** The entry `name` (never `.`/`..`, never containing `/`), without following symlinks. */
  lookup(name: string): AnyNode | undefined;
  /** Entries other than `.` and `..`, in no particular order. */
  list(): DirEntry[];
  isEmpty(): boolean;
  /** Inode number of the parent, for the `..` entry (the dir's own at a namespace root). */
  parentIno(): bigint;
  /** Every mutator below is called only after the generic layer checked the POSIX rules. */
  mkdir(name: string): void;
  /** Creates `name` exclusively and opens it. */
  createFile(name: string, opts: FileOpenOptions): OpenFile;
  symlink(name: string, target: string): void;
  /** Adds `name` as another link to `node` (a file or symlink of the same device). */
  link(name: string, node: AnyNode): void;
  unlink(name: string): void;
  rmdir(name: string): void;
  /** Moves `name` to `to`/`toName` (same device), replacing what is there. */
  rename(name: string, to: DirNode, toName: string): void;
  /** True when `node` is this directory or one of its ancestors (for rename-into-self). */
  isWithin(node: DirNode): boolean;
  /** Checks a directory held across calls (by a descriptor) is still where it was. */
  revalidate?(): void;
  /** Makes the directory's entries durable (fd_sync of a directory); absent: nothing to sync. */
  sync?(): void;
}

export type AnyNode = DirNode | FileNode | SymlinkNode | OtherNode;

/** Wall-clock now in ns, the same clock clock_time_get(REALTIME) reports. */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}
