/**
 * Path resolution, the one place guest paths are interpreted. A path is resolved relative
 * to a directory (the dirfd), component by component, on a stack of directories that
 * starts at that directory: `..` pops the stack and popping past its bottom is ENOTCAPABLE,
 * so nothing outside the dirfd's subtree is ever reachable (as in wasmtime/cap-std).
 * Symlinks are expanded here too, inside the same namespace: an absolute target is
 * ENOTCAPABLE, more than MAX_SYMLINK_HOPS expansions is ELOOP.
 */
import { Errno } from '../abi.ts';
import { fault } from '../memory.ts';
import type { AnyNode, DirNode } from './types.ts';

/** Linux's MAXSYMLINKS. */
export const MAX_SYMLINK_HOPS = 40;

export interface Resolved {
  /** The directory holding the last component (for `.`/`..` endings: the dir reached). */
  readonly dir: DirNode;
  /** The last component: a plain name, or `.`/`..` when the path ends in one. */
  readonly name: string;
  /** What the last component names, if it exists. */
  readonly node: AnyNode | undefined;
  /** The path ended in `/` (or `/.`): the result must be a directory. */
  readonly mustBeDir: boolean;
}

/** True when the last component is `.` or `..` (no parent/name pair to create or remove). */
export function isDotName(r: Resolved): boolean {
  return r.name === '.' || r.name === '..';
}

/** Checks a guest path before resolution: empty is ENOENT, NUL is EINVAL, absolute is ENOTCAPABLE. */
export function checkPath(path: string): void {
  if (path === '') fault(Errno.NOENT, 'empty path');
  if (path.includes('\0')) fault(Errno.INVAL, 'path contains NUL');
  if (path.startsWith('/')) fault(Errno.NOTCAPABLE, 'absolute path');
}

/**
 * Resolves `path` under `start`. Intermediate symlinks are always followed; the last
 * component is followed when `followLast` (or when a trailing slash demands a directory).
 * A missing last component is not an error (callers that create need its parent);
 * a missing intermediate one is ENOENT, a non-directory one ENOTDIR.
 */
export function resolve(start: DirNode, path: string, followLast: boolean): Resolved {
  checkPath(path);
  const stack: DirNode[] = [start];
  // Remaining components, reversed so pop() yields the next one, and how many of them are
  // names (not '' or '.'): linear time whatever the path, so no guest path can stall us.
  let rest = path.split('/').reverse();
  let named = countNamed(rest);
  let hops = 0;
  for (;;) {
    const c = rest.pop()!;
    if (c !== '' && c !== '.') named--;
    const top = stack[stack.length - 1]!;
    if (c === '' || c === '.') {
      if (rest.length === 0) return { dir: top, name: '.', node: top, mustBeDir: true };
      continue;
    }
    if (c === '..') {
      if (stack.length === 1) fault(Errno.NOTCAPABLE, 'path escapes its directory');
      stack.pop();
      if (rest.length === 0) return { dir: stack[stack.length - 1]!, name: '..', node: stack[stack.length - 1]!, mustBeDir: true };
      continue;
    }
    // Last named component when only '' (slashes) and '.' remain.
    const last = named === 0;
    const child = top.lookup(c);
    if (child !== undefined && child.kind === 'symlink' && (!last || followLast || rest.length > 0)) {
      if (++hops > MAX_SYMLINK_HOPS) fault(Errno.LOOP, 'too many levels of symbolic links');
      const target = child.readlink();
      if (target === '') fault(Errno.NOENT, 'empty symlink target');
      if (target.startsWith('/')) fault(Errno.NOTCAPABLE, 'absolute symlink target');
      if (target.includes('\0')) fault(Errno.INVAL);
      const parts = target.split('/').reverse();
      named += countNamed(parts);
      rest = rest.concat(parts);
      continue;
    }
    if (last) {
      if (rest.includes('.')) {
        // "x/." names x itself as a directory; there is no name to create or remove.
        if (child === undefined) fault(Errno.NOENT);
        if (child.kind !== 'dir') fault(Errno.NOTDIR);
        return { dir: child, name: '.', node: child, mustBeDir: true };
      }
      return { dir: top, name: c, node: child, mustBeDir: rest.length > 0 };
    }
    if (child === undefined) fault(Errno.NOENT, `no such directory: ${c}`);
    if (child.kind !== 'dir') fault(Errno.NOTDIR, `not a directory: ${c}`);
    stack.push(child);
  }
}

function countNamed(parts: readonly string[]): number {
  let n = 0;
  for (const p of parts) if (p !== '' && p !== '.') n++;
  return n;
}

/**
 * Resolves a path that must exist; a trailing slash on a non-directory is ENOTDIR.
 */
export function resolveExisting(start: DirNode, path: string, followLast: boolean): AnyNode {
  const r = resolve(start, path, followLast);
  if (r.node === undefined) return fault(Errno.NOENT);
  if (r.mustBeDir && r.node.kind !== 'dir') fault(Errno.NOTDIR);
  return r.node;
}
