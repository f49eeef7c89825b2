/**
 * The path operations with their POSIX rules, on any backend: what happens with a
 * trailing slash, an existing target, `.`/`..` as last component, a directory where a
 * file was expected, a rename across devices. The syscall layer (syscalls/path.ts) only
 * decodes arguments and checks rights, then calls these; tests drive them directly.
 */
import { Errno, OFlags } from '../abi.ts';
import type { FileStat } from '../descriptor.ts';
import { fault } from '../memory.ts';
import { checkPath, isDotName, resolve, resolveExisting } from './resolve.ts';
import type { AnyNode, DirNode, FileOpenOptions, OpenFile, TimesUpdate } from './types.ts';

function sameNode(a: AnyNode, b: AnyNode): boolean {
  if (a === b) return true;
  if (a.device !== b.device) return false;
  const sa = a.stat();
  const sb = b.stat();
  return sa.dev === sb.dev && sa.ino === sb.ino;
}

export interface OpenRequest {
  /** lookupflags.SYMLINK_FOLLOW: follow a symlink in the last component. */
  follow: boolean;
  oflags: number;
  read: boolean;
  write: boolean;
  /** Rights that need a writable host fd without FD_WRITE (set_size, allocate). */
  writeish: boolean;
}

export type Opened = { readonly kind: 'dir'; readonly dir: DirNode } | { readonly kind: 'file'; readonly file: OpenFile };

/** path_open without the rights: finds, creates or truncates, and opens. */
export function openAt(start: DirNode, path: string, req: OpenRequest): Opened {
  const creat = (req.oflags & OFlags.CREAT) !== 0;
  const excl = (req.oflags & OFlags.EXCL) !== 0;
  const trunc = (req.oflags & OFlags.TRUNC) !== 0;
  const wantDir = (req.oflags & OFlags.DIRECTORY) !== 0;
  if (wantDir && (creat || trunc)) fault(Errno.INVAL, 'O_DIRECTORY with O_CREAT or O_TRUNC');
  // O_CREAT|O_EXCL never follows a symlink in the last component (POSIX).
  const r = resolve(start, path, req.follow && !(creat && excl));
  const node = r.node;
  if (node === undefined) {
    if (!creat) fault(Errno.NOENT);
    if (r.mustBeDir) fault(Errno.ISDIR, 'cannot create a file with a trailing slash');
    const file = r.dir.createFile(r.name, { read: req.read, write: req.write || req.writeish, truncate: false });
    return { kind: 'file', file };
  }
  if (creat && excl) fault(Errno.EXIST);
  switch (node.kind) {
    case 'dir':
      if (req.write || trunc || creat) fault(Errno.ISDIR);
      return { kind: 'dir', dir: node };
    case 'symlink':
      // Reached only without SYMLINK_FOLLOW: O_NOFOLLOW semantics.
      return fault(wantDir ? Errno.NOTDIR : Errno.LOOP, 'symlink not followed');
    case 'other':
      if (wantDir || r.mustBeDir) fault(Errno.NOTDIR);
      return fault(Errno.NOTSUP, 'only regular files and directories can be opened');
    case 'file': {
      if (wantDir || r.mustBeDir) fault(Errno.NOTDIR);
      const opts: FileOpenOptions = { read: req.read, write: req.write, truncate: trunc };
      if (!req.write && req.writeish && !node.device.readonly) {
        // Ask for a writable host fd when set_size/allocate may be used, but don't fail
        // a read-only file for rights the guest may never exercise.
        try {
          return { kind: 'file', file: node.open({ ...opts, write: true }) };
        } catch (e) {
          if ((e as { errno?: number }).errno !== Errno.ACCES) throw e;
        }
      }
      return { kind: 'file', file: node.open(opts) };
    }
  }
}

export function createDirectory(start: DirNode, path: string): void {
  const r = resolve(start, path, false);
  if (isDotName(r) || r.node !== undefined) fault(Errno.EXIST);
  r.dir.mkdir(r.name);
}

export function filestat(start: DirNode, path: string, follow: boolean): FileStat {
  return resolveExisting(start, path, follow).stat();
}

export function setTimes(start: DirNode, path: string, follow: boolean, t: TimesUpdate): void {
  resolveExisting(start, path, follow).setTimes(t);
}

export function readlink(start: DirNode, path: string): string {
  const node = resolveExisting(start, path, false);
  if (node.kind !== 'symlink') fault(Errno.INVAL, 'not a symlink');
  return node.readlink();
}

export function removeDirectory(start: DirNode, path: string): void {
  const r = resolve(start, path, false);
  if (r.name === '.') fault(Errno.INVAL, 'cannot remove "."');
  if (r.name === '..') fault(Errno.NOTEMPTY);
  if (r.node === undefined) fault(Errno.NOENT);
  if (r.node.kind !== 'dir') fault(Errno.NOTDIR);
  if (!r.node.isEmpty()) fault(Errno.NOTEMPTY);
  r.dir.rmdir(r.name);
}

export function unlinkFile(start: DirNode, path: string): void {
  const r = resolve(start, path, false);
  if (isDotName(r)) fault(Errno.ISDIR);
  if (r.node === undefined) fault(Errno.NOENT);
  if (r.node.kind === 'dir') fault(Errno.ISDIR);
  if (r.mustBeDir) fault(Errno.NOTDIR);
  r.dir.unlink(r.name);
}

export function symlink(target: string, start: DirNode, path: string): void {
  if (target === '') fault(Errno.NOENT, 'empty symlink target');
  if (target.includes('\0')) fault(Errno.INVAL);
  const r = resolve(start, path, false);
  if (isDotName(r) || r.node !== undefined) fault(Errno.EXIST);
  if (r.mustBeDir) fault(Errno.NOENT, 'symlink name with a trailing slash');
  r.dir.symlink(r.name, target);
}

export function link(srcStart: DirNode, srcPath: string, follow: boolean, dstStart: DirNode, dstPath: string): void {
  const src = resolveExisting(srcStart, srcPath, follow);
  if (src.kind === 'dir') fault(Errno.PERM, 'hard links to directories are not allowed');
  const d = resolve(dstStart, dstPath, false);
  if (isDotName(d) || d.node !== undefined) fault(Errno.EXIST);
  if (d.mustBeDir) fault(Errno.NOENT);
  if (src.device !== d.dir.device) fault(Errno.XDEV);
  d.dir.link(d.name, src);
}

export function rename(srcStart: DirNode, srcPath: string, dstStart: DirNode, dstPath: string): void {
  checkPath(srcPath);
  checkPath(dstPath);
  const s = resolve(srcStart, srcPath, false);
  const d = resolve(dstStart, dstPath, false);
  if (isDotName(s) || isDotName(d)) fault(Errno.BUSY, 'cannot rename "." or ".."');
  const node = s.node;
  if (node === undefined) return fault(Errno.NOENT);
  const isDir = node.kind === 'dir';
  if (!isDir && (s.mustBeDir || d.mustBeDir)) fault(Errno.NOTDIR);
  if (s.dir.device !== d.dir.device) fault(Errno.XDEV);
  const target = d.node;
  if (target !== undefined) {
    if (sameNode(node, target)) return;
    if (isDir && target.kind !== 'dir') fault(Errno.NOTDIR);
    if (!isDir && target.kind === 'dir') fault(Errno.ISDIR);
    if (target.kind === 'dir' && !target.isEmpty()) fault(Errno.NOTEMPTY);
  }
  if (isDir && d.dir.isWithin(node)) fault(Errno.INVAL, 'cannot move a directory into itself');
  s.dir.rename(s.name, d.dir, d.name);
}
