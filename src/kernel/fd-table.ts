/**
 * The file descriptor table: used numbers map to descriptors; freed numbers go to a
 * free list and the lowest is reused first, as POSIX programs expect.
 */
import { Errno } from './abi.ts';
import type { Descriptor } from './descriptor.ts';
import { fault } from './memory.ts';

/** Upper bound on open descriptors per VM, so a guest cannot make the host hold unbounded state. */
export const DEFAULT_MAX_FDS = 1024;

export class FdTable {
  readonly #used = new Map<number, Descriptor>();
  /** Freed numbers below #next, kept sorted descending so pop() gives the lowest. */
  readonly #free: number[] = [];
  #next = 0;
  readonly maxFds: number;

  constructor(maxFds = DEFAULT_MAX_FDS) {
    this.maxFds = maxFds;
  }

  /** Places a descriptor at the lowest free number. */
  insert(d: Descriptor): number {
    if (this.#used.size >= this.maxFds) fault(Errno.NFILE, 'descriptor table full');
    const fd = this.#free.length > 0 ? this.#free.pop()! : this.#next++;
    this.#used.set(fd, d);
    return fd;
  }

  /** Looks a descriptor up; EBADF when absent, ENOTCAPABLE when a needed right is missing. */
  get(fd: number, rights: bigint = 0n): Descriptor {
    const d = this.#used.get(fd >>> 0);
    if (d === undefined) return fault(Errno.BADF, `bad fd ${fd >>> 0}`);
    if ((d.rightsBase & rights) !== rights) fault(Errno.NOTCAPABLE, `fd ${fd >>> 0} lacks rights`);
    return d;
  }

  has(fd: number): boolean {
    return this.#used.has(fd >>> 0);
  }

  /** Removes and closes a descriptor. */
  close(fd: number): void {
    const d = this.get(fd);
    this.#used.delete(fd >>> 0);
    this.#release(fd >>> 0);
    d.close();
  }

  /** Moves `from` onto `to`, closing what was at `to`; `from` becomes free. */
  renumber(from: number, to: number): void {
    const d = this.get(from);
    const target = this.get(to);
    if ((from >>> 0) === (to >>> 0)) return;
    target.close();
    this.#used.set(to >>> 0, d);
    this.#used.delete(from >>> 0);
    this.#release(from >>> 0);
  }

  #release(fd: number): void {
    // Keep the free list sorted descending; tables are small, so insertion is cheap.
    let i = this.#free.length;
    while (i > 0 && this.#free[i - 1]! < fd) i--;
    this.#free.splice(i, 0, fd);
  }

  /** All live descriptors, for shutdown. */
  entries(): IterableIterator<[number, Descriptor]> {
    return this.#used.entries();
  }

  closeAll(): void {
    for (const d of this.#used.values()) {
      try {
        d.close();
      } catch {
        // Closing at VM teardown must not fail the teardown.
      }
    }
    this.#used.clear();
  }
}
