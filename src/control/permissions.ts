/**
 * Mode checks at start: the data directory and the token file hold the API token, the
 * secrets and the images, so one that anyone may write is refused rather than fixed — a
 * chmod would hide that someone else could already have planted a token, a database or a
 * blob. A token file merely readable by others is narrowed to 0600 and logged.
 */
import { chmodSync, statSync } from 'node:fs';
import { NanovisorError } from '../shared/errors.ts';

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function refuse(path: string, what: string, mode: number, fix: string): never {
  throw new NanovisorError('NV_SERVE_UNSAFE_MODE', `the ${what} ${path} is writable by every user (mode ${octal(mode)}): anyone on this machine could change the daemon's token, state or images. Check its contents, then run: ${fix}`, {
    details: { path, mode: octal(mode) },
  });
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
