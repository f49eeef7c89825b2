/**
 * API tokens. A token is 32 random bytes (`nvt_` + base64url); the database keeps only its
 * sha256, and `<data>/token` (mode 0600) holds the token itself so the local CLI can read it.
 * Checks hash the presented token and compare the hashes in constant time. Tokens are never
 * logged and never returned except by the rotation that creates them.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { fsyncDir } from '../image/atomic-fs.ts';
import { NanovisorError } from '../shared/errors.ts';

/** A new random token. */
export function generateToken(): string {
  return `nvt_${randomBytes(32).toString('base64url')}`;
}

/** Hex sha256 of a token: what the database stores. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** True when `presented` hashes to `expectedHash`; constant time in the token's content. */
export function tokenMatches(presented: string, expectedHash: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = Buffer.from(expectedHash, 'hex');
  return b.length === a.length && timingSafeEqual(a, b);
}

/** Reads the token file; undefined when it is missing or empty. */
export function readTokenFile(path: string): string | undefined {
  try {
    const t = readFileSync(path, 'utf8').trim();
    return t === '' ? undefined : t;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NanovisorError('NV_STATE_IO', `cannot read the token file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Writes the token file atomically with mode 0600 (temp file, fsync, rename). */
export function writeTokenFile(path: string, token: string): void {
  const tmp = join(dirname(path), `.tmp-${basename(path)}-${randomBytes(6).toString('hex')}`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${token}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new NanovisorError('NV_STATE_IO', `cannot write the token file ${path}: ${(e as Error).message}`, { cause: e });
  }
  fsyncDir(dirname(path));
}
