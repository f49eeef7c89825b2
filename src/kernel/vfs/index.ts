/**
 * The guest filesystem: the image's files as a shared read-only lower layer with a
 * copy-on-write in-memory layer per VM, plus host directories mounted read-only or
 * read-write. This file is the folder's whole public surface.
 */
import * as fs from 'node:fs';
import { RIGHTS_DIR, RIGHTS_DIR_INHERITING } from '../abi.ts';
import type { Descriptor } from '../descriptor.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { DirectoryDescriptor } from './descriptors.ts';
import { HostMount, MountBudget } from './hostfs.ts';
import type { ImageTree } from './image.ts';
import { MemDir, MemFs } from './memfs.ts';

export { buildImageTree } from './image.ts';
export type { ImageTree } from './image.ts';
export type { ImageFile } from './types.ts';
export { DirectoryDescriptor, FileDescriptor } from './descriptors.ts';
export { HOST_ERRNO } from './hostfs.ts';

export interface MountSpec {
  /** Host directory; must exist. */
  hostPath: string;
  /** Where the guest sees it, and the name of its preopen (may be relative). */
  guestPath: string;
  readonly: boolean;
  /** A volume's share of its quota for this VM (docs/volumes.md): growth past it is ENOSPC. */
  quota?: { bytes: number; files: number };
}

/** What one VM did on a mount with a quota: net bytes and files added (negative: freed), and its calls. */
export interface MountUsage {
  guestPath: string;
  bytes: number;
  files: number;
  reads: number;
  writes: number;
  syncs: number;
}

export interface FileSystemOptions {
  /** The image's files; gives the guest a writable `/` (CoW over the image). */
  image?: ImageTree;
  mounts: readonly MountSpec[];
  /** Quota of the VM's in-memory writable layer, in bytes. */
  writableLayerBytes: number;
}

export interface FileSystem {
  /** Preopened directories in fd order: `/` (with an image), then one per mount. */
  preopens: Descriptor[];
  /** The VM's writable layer (with an image), e.g. to report its usage. */
  layer: MemFs | undefined;
  /** What the VM did on each mount that has a quota, so far. */
  mountUsage(): MountUsage[];
}

function mountError(message: string, m: MountSpec, cause?: unknown): never {
  throw new NanovisorError('NV_MOUNT_INVALID', message, {
    ...(cause === undefined ? {} : { cause }),
    details: { hostPath: m.hostPath, guestPath: m.guestPath },
  });
}

function openMount(m: MountSpec): HostMount {
  if (typeof m.guestPath !== 'string' || m.guestPath === '' || m.guestPath.includes('\0')) {
    mountError(`invalid guest path ${JSON.stringify(m.guestPath)}`, m);
  }
  let root: string;
  try {
    root = fs.realpathSync(m.hostPath);
    if (!fs.statSync(root).isDirectory()) mountError(`mount source is not a directory: ${m.hostPath}`, m);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'NV_MOUNT_INVALID') throw e;
    mountError(`mount source does not exist or is unreadable: ${m.hostPath}`, m, e);
  }
  return new HostMount(root, m.readonly, m.quota === undefined ? undefined : new MountBudget(m.quota.bytes, m.quota.files));
}

/** Grafts a mount into the VM's root at an absolute guest path, creating parents as needed. */
function graft(root: MemDir, m: MountSpec, mount: HostMount): void {
  const parts = m.guestPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) mountError(`guest path may not contain "..": ${m.guestPath}`, m);
  if (parts.length === 0) mountError('cannot mount over the image root "/"', m);
  let dir = root;
  dir.pinned = true;
  for (const name of parts.slice(0, -1)) {
    let next = dir.lookup(name);
    if (next === undefined) {
      dir.scaffold(name);
      next = dir.lookup(name);
    }
    if (!(next instanceof MemDir)) mountError(`guest path ${m.guestPath} crosses a file or another mount`, m);
    dir = next;
    dir.pinned = true;
  }
  const name = parts[parts.length - 1]!;
  const existing = dir.lookup(name);
  if (existing !== undefined && (!(existing instanceof MemDir) || existing.pinned)) {
    mountError(`guest path ${m.guestPath} is already a file or a mount point`, m);
  }
  dir.graft(name, mount.rootDir());
}

/**
 * Builds one VM's filesystem. O(1) in the image size: the image tree is shared and only
 * copied up where the guest writes.
 *
 * @example
 * const image = buildImageTree(files);            // once per image
 * const { preopens } = createFileSystem({          // once per VM
 *   image,
 *   mounts: [{ hostPath: '/srv/data', guestPath: '/data', readonly: true }],
 *   writableLayerBytes: 64 << 20,
 * });
 * new Kernel({ args, env, stdio, preopens });
 */
export function createFileSystem(opts: FileSystemOptions): FileSystem {
  const mounts = opts.mounts.map((m) => ({ spec: m, mount: openMount(m) }));
  const preopens: Descriptor[] = [];
  let layer: MemFs | undefined;
  if (opts.image !== undefined) {
    layer = new MemFs(opts.image, opts.writableLayerBytes);
    for (const { spec, mount } of mounts) {
      if (spec.guestPath.startsWith('/')) graft(layer.root, spec, mount);
    }
    preopens.push(new DirectoryDescriptor(layer.root, RIGHTS_DIR, RIGHTS_DIR_INHERITING, 0, '/'));
  }
  for (const { spec, mount } of mounts) {
    preopens.push(new DirectoryDescriptor(mount.rootDir(), RIGHTS_DIR, RIGHTS_DIR_INHERITING, 0, spec.guestPath));
  }
  const budgets = mounts.flatMap(({ spec, mount }) => (mount.budget === undefined ? [] : [{ guestPath: spec.guestPath, b: mount.budget }]));
  return {
    preopens,
    layer,
    mountUsage: () => budgets.map(({ guestPath, b }) => ({ guestPath, bytes: b.bytes, files: b.files, reads: b.reads, writes: b.writes, syncs: b.syncs })),
  };
}
