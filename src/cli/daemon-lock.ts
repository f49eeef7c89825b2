/**
 * One daemon per data directory. `nanovisor serve` takes `<data>/serve.lock` before it opens
 * the database and gives it back when it closes; a second `serve` on the same directory is
 * refused with `NV_SERVE_DATA_DIR_IN_USE`, naming the running one's pid and addresses, instead
 * of starting a second control plane that disagrees with the first about what is deployed.
 *
 * How it holds:
 * - **Atomic creation with its content.** The lock is written to a private temporary file and
 *   hard-linked into place (`link` fails with EEXIST when the lock exists, like O_EXCL, and the
 *   lock is never seen empty or half written). Addresses are added later by writing another
 *   temporary file and renaming it over the lock, so the path never stops existing.
 * - **Stale locks.** A lock whose pid is gone — or is a zombie, or is another process now
 *   (its start time in /proc differs from the one recorded: pid reuse after a kill -9) — is
 *   stale and taken over. Taking over is done under a second, short-lived lock
 *   (`serve.lock.break`, held for microseconds): its holder re-reads the lock and removes it
 *   only if it is still the same stale one, so two daemons starting at once over a stale lock
 *   cannot both win. A `.break` older than {@link BREAK_STALE_MS} is itself stale (its
 *   holder was killed in those microseconds).
 *   A lock that does not parse (a file system without hard links falls back to O_EXCL, and
 *   its lock is empty for an instant) is stale only once it is {@link UNREADABLE_GRACE_MS} old.
 * - **Release** removes the lock only if it is still ours; an exit handler does the same when
 *   the process ends without closing the daemon.
 *
 * @example
 * const lock = DataDirLock.acquire('/var/lib/nanovisor');   // throws NV_SERVE_DATA_DIR_IN_USE
 * lock.update({ api: 'http://127.0.0.1:7070', gateway: 'http://127.0.0.1:8080' });
 * lock.release();
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NanovisorError } from '../shared/errors.ts';

/** The lock file's name inside the data directory. */
export const LOCK_FILE = 'serve.lock';
/** A `.break` lock older than this belongs to a process killed while holding it. */
export const BREAK_STALE_MS = 5000;

/** What a lock file says about the daemon holding it. */
export interface DataDirLockInfo {
  pid: number;
  /** The holder's start time (clock ticks since boot, /proc/<pid>/stat), to tell pid reuse. */
  startTime?: number;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** The API and gateway URLs, once the daemon listens. */
  api?: string;
  gateway?: string;
  /** A random value telling this holder's lock from a later one of the same pid. */
  nonce: string;
}

/** Locks held by this process, by path (a pid cannot tell them from a stale lock of ours). */
const heldHere = new Set<string>();

/** Start time of a process from /proc, or undefined (no /proc, or no such process). */
function procStartTime(pid: number): { startTime: number; zombie: boolean } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command name start at field 3 (state); starttime is field 22.
    return { startTime: Number(fields[22 - 3]), zombie: fields[0] === 'Z' };
  } catch {
    return undefined;
  }
}

function parseInfo(text: string): DataDirLockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<DataDirLockInfo>;
    if (typeof v !== 'object' || v === null || !Number.isInteger(v.pid) || (v.pid as number) <= 0 || typeof v.nonce !== 'string') return undefined;
    return v as DataDirLockInfo;
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Whether the daemon a lock names still runs. Unreadable or foreign content is not alive. */
function holderAlive(path: string, info: DataDirLockInfo | undefined): boolean {
  if (info === undefined) return false;
  if (info.pid === process.pid) return heldHere.has(path);
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const proc = procStartTime(info.pid);
  if (proc !== undefined && (proc.zombie || (info.startTime !== undefined && proc.startTime !== info.startTime))) return false;
  return true;
}

/** Writes `text` to a new private file beside `path`; returns its name. */
function writeTemp(path: string, text: string): string {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  return tmp;
}

/** Links a file with `text` into `path`; false when `path` exists. */
function createWith(path: string, text: string): boolean {
  const tmp = writeTemp(path, text);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
  } finally {
    unlinkSync(tmp);
  }
  // A file system without hard links: O_EXCL, then the content (briefly seen empty, which
  // takers read as "being written", see UNREADABLE_GRACE_MS).
  try {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** Age under which a lock that does not parse is taken as being written, not as stale. */
const UNREADABLE_GRACE_MS = 2000;

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function inUse(dataDir: string, info: DataDirLockInfo): NanovisorError {
  const where = info.api === undefined ? 'still starting' : `API ${info.api}${info.gateway === undefined ? '' : `, gateway ${info.gateway}`}`;
  return new NanovisorError(
    'NV_SERVE_DATA_DIR_IN_USE',
    `the data directory ${dataDir} is in use by another nanovisor serve (pid ${info.pid}, ${where}); stop it first, or use another --data`,
    { details: { dataDir, pid: info.pid, ...(info.api === undefined ? {} : { api: info.api }), ...(info.gateway === undefined ? {} : { gateway: info.gateway }) } },
  );
}

/** Reads the lock of a data directory, if there is one (for diagnostics and tests). */
export function readDataDirLock(dataDir: string): DataDirLockInfo | undefined {
  const text = readText(join(dataDir, LOCK_FILE));
  return text === undefined ? undefined : parseInfo(text);
}

/** The data directory lock of one running daemon. */
export class DataDirLock {
  readonly path: string;
  #info: DataDirLockInfo;
  #released = false;
  readonly #onExit = (): void => this.release();

  private constructor(path: string, info: DataDirLockInfo) {
    this.path = path;
    this.#info = info;
    heldHere.add(path);
    process.on('exit', this.#onExit);
  }

  /**
   * Takes the lock of `dataDir` (which must exist) for this process, taking over a stale one.
   * Throws `NV_SERVE_DATA_DIR_IN_USE` when a live daemon holds it.
   */
  static acquire(dataDir: string): DataDirLock {
    const path = join(dataDir, LOCK_FILE);
    const breakPath = `${path}.break`;
    const proc = procStartTime(process.pid);
    const info: DataDirLockInfo = {
      pid: process.pid,
      ...(proc === undefined ? {} : { startTime: proc.startTime }),
      startedAt: new Date().toISOString(),
      nonce: randomBytes(8).toString('hex'),
    };
    const text = JSON.stringify(info);
    const deadline = Date.now() + 2 * BREAK_STALE_MS;
    for (;;) {
      if (Date.now() > deadline) throw new NanovisorError('NV_STATE_IO', `cannot take the lock ${path}: other processes keep taking and breaking it`);
      if (createWith(path, text)) return new DataDirLock(path, info);
      const seen = readText(path);
      if (seen === undefined) continue; // released in between: try again
      const holder = parseInfo(seen);
      if (holder === undefined && ageMs(path) < UNREADABLE_GRACE_MS) {
        sleepSync(10);
        continue;
      }
      if (holderAlive(path, holder)) throw inUse(dataDir, holder!);
      // Stale: remove it, but only under the break lock and only if it is still that one.
      if (createWith(breakPath, text)) {
        try {
          if (readText(path) === seen) unlinkSync(path);
        } finally {
          unlinkSync(breakPath);
        }
        continue;
      }
      try {
        if (ageMs(breakPath) > BREAK_STALE_MS) unlinkSync(breakPath);
      } catch {
        // Gone already.
      }
      sleepSync(2);
    }
  }

  /** What the lock says now. */
  get info(): Readonly<DataDirLockInfo> {
    return this.#info;
  }

  /**
   * Records the daemon's addresses in the lock, for the message a second `serve` prints.
   * Best effort: if the file cannot be rewritten (disk full) the lock still holds, naming
   * only the pid; returns whether it was written.
   */
  update(fields: { api?: string; gateway?: string }): boolean {
    if (this.#released) return false;
    const next = { ...this.#info, ...fields };
    let tmp: string | undefined;
    try {
      tmp = writeTemp(this.path, JSON.stringify(next));
      renameSync(tmp, this.path);
    } catch {
      if (tmp !== undefined) rmSync(tmp, { force: true });
      return false;
    }
    this.#info = next;
    return true;
  }

  /** Gives the lock back (removing the file if it is still ours). Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    heldHere.delete(this.path);
    process.off('exit', this.#onExit);
    try {
      if (parseInfo(readText(this.path) ?? '')?.nonce === this.#info.nonce) unlinkSync(this.path);
    } catch {
      // Best effort: a lock left behind is stale once we are gone.
    }
  }
}
