/**
 * Crash-safe file writes and a cross-process lock for the image store. A file is written to a
 * temporary name in the same directory, fsynced, renamed over the target, and the directory
 * is fsynced: after a crash a reader sees the old file or the new one, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NanovisorError } from '../shared/errors.ts';

/** Prefix of temporary files; the store's garbage collector removes stale ones. */
export const TEMP_PREFIX = '.tmp-';

function storeIo(message: string, cause: unknown): never {
  throw new NanovisorError('NV_STORE_IO', `${message}: ${(cause as Error).message}`, { cause });
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse to fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` to `path` atomically (temp file, fsync, rename, fsync dir). */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  const dir = dirname(path);
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    storeIo(`cannot write ${path}`, e);
  }
  fsyncDir(dir);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `fn` holding an exclusive lock file (`O_EXCL`). Waits up to `timeoutMs` for another
 * process to finish; a lock older than `staleMs` is taken to belong to a crashed process.
 */
export function withLock<T>(lockPath: string, fn: () => T, timeoutMs = 10_000, staleMs = 60_000): T {
  const deadline = Date.now() + timeoutMs;
  let fd: number | undefined;
  for (let wait = 2; fd === undefined; wait = Math.min(wait * 2, 100)) {
    try {
      fd = openSync(lockPath, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') storeIo(`cannot lock ${lockPath}`, e);
      try {
        if (Date.now() - statSync(lockPath).mtimeMs > staleMs) {
          unlinkSync(lockPath);
          continue;
        }
      } catch {
        continue;
      }
      if (Date.now() > deadline) {
        throw new NanovisorError('NV_STORE_IO', `the image store is locked by another process (${lockPath}); remove the file if no nanovisor is running`);
      }
      Atomics.wait(sleeper, 0, 0, wait);
    }
  }
  try {
    writeSync(fd, `${process.pid}\n`);
    return fn();
  } finally {
    closeSync(fd);
    rmSync(lockPath, { force: true });
  }
}
