/**
 * The image's files as an immutable tree: the read-only lower layer every VM of an image
 * shares. Built once per image (cache the result), never mutated afterwards; each VM's
 * writable layer (memfs.ts) reads through to it and copies up lazily.
 */
import { NanovisorError } from '../../shared/errors.ts';
import type { ImageFile } from './types.ts';
import { nowNs } from './types.ts';

export interface ImageDir {
  readonly kind: 'dir';
  readonly ino: bigint;
  readonly mode: number;
  readonly entries: ReadonlyMap<string, ImageNode>;
}
export interface ImageRegular {
  readonly kind: 'file';
  readonly ino: bigint;
  readonly mode: number;
  readonly data: Uint8Array;
}
export interface ImageSymlink {
  readonly kind: 'symlink';
  readonly ino: bigint;
  readonly mode: number;
  readonly target: string;
}
export type ImageNode = ImageDir | ImageRegular | ImageSymlink;

/** A validated, immutable image tree; share one per image across all its VMs. */
export interface ImageTree {
  readonly root: ImageDir;
  /** Highest inode number used; a VM numbers its new inodes above it. */
  readonly maxIno: bigint;
  /** Timestamp every image node reports (ns). */
  readonly timeNs: bigint;
  /** Total bytes of file data, for reporting. */
  readonly dataBytes: number;
}

interface MutableDir {
  kind: 'dir';
  ino: bigint;
  mode: number;
  entries: Map<string, MutableNode>;
  explicit: boolean;
}
type MutableNode = MutableDir | ImageRegular | ImageSymlink;

function invalid(message: string, path: string): never {
  throw new NanovisorError('NV_IMAGE_FILES_INVALID', message, { details: { path } });
}

/** Splits and checks an absolute guest path; `/` gives no components. */
function components(path: string): string[] {
  if (typeof path !== 'string' || !path.startsWith('/')) invalid(`image path must be absolute: ${JSON.stringify(path)}`, String(path));
  if (path.includes('\0')) invalid(`image path contains NUL: ${JSON.stringify(path)}`, path);
  const parts = path.split('/').filter((p) => p !== '');
  for (const p of parts) {
    if (p === '.' || p === '..') invalid(`image path may not contain "${p}": ${path}`, path);
  }
  return parts;
}

/**
 * Builds the shared lower layer from an image's file list. Missing parent directories are
 * created implicitly; duplicates, `.`/`..` components, relative paths, files under files
 * and symlinks without targets are rejected (NV_IMAGE_FILES_INVALID).
 *
 * @example
 * const tree = buildImageTree([
 *   { path: '/etc', kind: 'dir', mode: 0o755 },
 *   { path: '/etc/motd', kind: 'file', data: new TextEncoder().encode('hi\n'), mode: 0o644 },
 * ]);
 * createFileSystem({ image: tree, mounts: [], writableLayerBytes: 1 << 20 });
 */
export function buildImageTree(files: readonly ImageFile[], options: { timeNs?: bigint } = {}): ImageTree {
  let ino = 1n;
  const root: MutableDir = { kind: 'dir', ino: ino++, mode: 0o755, entries: new Map(), explicit: false };
  let dataBytes = 0;
  for (const f of files) {
    const parts = components(f.path);
    if (f.kind !== 'file' && f.kind !== 'dir' && f.kind !== 'symlink') invalid(`unknown kind ${JSON.stringify(f.kind)} for ${f.path}`, f.path);
    if (parts.length === 0) {
      if (f.kind !== 'dir') invalid('the image root must be a directory', f.path);
      if (root.explicit) invalid(`duplicate image path ${f.path}`, f.path);
      root.explicit = true;
      root.mode = f.mode;
      continue;
    }
    let dir = root;
    for (const p of parts.slice(0, -1)) {
      let next = dir.entries.get(p);
      if (next === undefined) {
        next = { kind: 'dir', ino: ino++, mode: 0o755, entries: new Map(), explicit: false };
        dir.entries.set(p, next);
      }
      if (next.kind !== 'dir') invalid(`${f.path}: a parent is not a directory`, f.path);
      dir = next;
    }
    const name = parts[parts.length - 1]!;
    const existing = dir.entries.get(name);
    if (existing !== undefined) {
      if (f.kind === 'dir' && existing.kind === 'dir' && !existing.explicit) {
        existing.explicit = true;
        existing.mode = f.mode;
        continue;
      }
      invalid(`duplicate image path ${f.path}`, f.path);
    }
    switch (f.kind) {
      case 'dir':
        if (f.data !== undefined || f.target !== undefined) invalid(`directory ${f.path} has data or a target`, f.path);
        dir.entries.set(name, { kind: 'dir', ino: ino++, mode: f.mode, entries: new Map(), explicit: true });
        break;
      case 'file': {
        if (f.target !== undefined) invalid(`file ${f.path} has a symlink target`, f.path);
        const data = f.data ?? new Uint8Array(0);
        if (!(data instanceof Uint8Array)) invalid(`file ${f.path} data is not bytes`, f.path);
        dataBytes += data.byteLength;
        dir.entries.set(name, Object.freeze({ kind: 'file', ino: ino++, mode: f.mode, data }));
        break;
      }
      case 'symlink':
        if (typeof f.target !== 'string' || f.target === '' || f.target.includes('\0')) invalid(`symlink ${f.path} needs a non-empty target`, f.path);
        if (f.data !== undefined) invalid(`symlink ${f.path} has data`, f.path);
        dir.entries.set(name, Object.freeze({ kind: 'symlink', ino: ino++, mode: f.mode, target: f.target }));
        break;
    }
  }
  return Object.freeze({ root: freezeDir(root), maxIno: ino - 1n, timeNs: options.timeNs ?? nowNs(), dataBytes });
}

function freezeDir(d: MutableDir): ImageDir {
  const entries = new Map<string, ImageNode>();
  for (const [name, n] of d.entries) entries.set(name, n.kind === 'dir' ? freezeDir(n) : n);
  return Object.freeze({ kind: 'dir', ino: d.ino, mode: d.mode, entries });
}
