/**
 * Checks at start. The data directory must be creatable and writable, or the start stops with
 * NV_SERVE_DATA_DIR_UNWRITABLE naming the path (a user's mistake, not a host fault). The data directory and the token file hold the API token, the
 * secrets and the images, so one that anyone may write is refused rather than fixed — a
 * chmod would hide that someone else could already have planted a token, a database or a
 * blob. A token file merely readable by others is narrowed to 0600 and logged.
 */
import { accessSync, chmodSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { NanovisorError } from '../shared/errors.ts';

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function refuse(path: string, what: string, mode: number, fix: string): never {
  throw new NanovisorError('NV_SERVE_UNSAFE_MODE', `the ${what} ${path} is writable by every user (mode ${octal(mode)}): anyone on this machine could change the daemon's token, state or images. Check its contents, then run: ${fix}`, {
    details: { path, mode: octal(mode) },
  });
}

function because(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EROFS') return 'it is on a read-only file system (EROFS)';
  if (code === 'EACCES' || code === 'EPERM') return `this user (uid ${process.getuid?.() ?? '?'}) may not write it (${code})`;
  if (code === 'ENOTDIR' || code === 'EEXIST') return `it is not a directory (${code})`;
  return `${code ?? (e as Error).message}`;
}

const UNWRITABLE = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'EEXIST']);

/**
 * Creates the data directory (0700, with its parents) and checks that it can be written:
 * NV_SERVE_DATA_DIR_UNWRITABLE names the directory, or the nearest existing parent that
 * stopped its creation, and why (read-only file system, permissions, not a directory).
 *
 * @example
 * prepareDataDir('/var/lib/nanovisor'); // throws when /var/lib is not writable by this user
 */
export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    if (!UNWRITABLE.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() === false) {
      throw new NanovisorError('NV_SERVE_DATA_DIR_UNWRITABLE', `the data directory ${dir} is not a directory`, { details: { path: dir } });
    }
    let parent = dirname(dir);
    for (;;) {
      try {
        statSync(parent);
        break;
      } catch {
        if (dirname(parent) === parent) break;
        parent = dirname(parent);
      }
    }
    throw new NanovisorError('NV_SERVE_DATA_DIR_UNWRITABLE', `cannot create the data directory ${dir}: ${statSync(parent, { throwIfNoEntry: false })?.isDirectory() === false ? `${parent} is not a directory` : `its parent ${parent} cannot be written: ${because(e)}`}`, {
      details: { path: dir, parent },
    });
  }
  if (!statSync(dir).isDirectory()) {
    throw new NanovisorError('NV_SERVE_DATA_DIR_UNWRITABLE', `the data directory ${dir} is not a directory`, { details: { path: dir } });
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new NanovisorError('NV_SERVE_DATA_DIR_UNWRITABLE', `the data directory ${dir} is read-only: ${because(e)}; serve writes its database, token, images and logs there`, {
      details: { path: dir },
    });
  }
}

/**
 * Refuses a world-writable data directory (NV_SERVE_UNSAFE_MODE naming the path and the chmod
 * that fixes it).
 *
 * @example
 * checkDataDirMode('/var/lib/nanovisor'); // throws when `chmod o+w` was run on it
 */
export function checkDataDirMode(dir: string): void {
  const { mode } = statSync(dir);
  if ((mode & 0o002) !== 0) refuse(dir, 'data directory', mode, `chmod 700 ${dir}`);
}

/**
 * Refuses a world-writable token file; narrows one readable by group or others to 0600.
 * Returns the old mode when it changed it (for the log), else undefined.
 */
export function checkTokenFileMode(file: string): string | undefined {
  const { mode } = statSync(file);
  if ((mode & 0o002) !== 0) refuse(file, 'token file', mode, `chmod 600 ${file} (or delete it: the next start writes a new token)`);
  if ((mode & 0o077) === 0) return undefined;
  chmodSync(file, 0o600);
  return octal(mode);
}
