/**
 * Per-app admission: at most `concurrency` requests of an app run VMs at once, `queue` more
 * wait in order, and beyond that the gateway answers 503 with `Retry-After`. Counted by app
 * name, so the limit spans the versions `setApps` swaps in, and it holds whatever the number
 * of shards: every request of an app passes through this one table.
 */

export interface SlotLimits {
  name: string;
  /** Default: no limit. */
  concurrency?: number;
  /** Default 0. */
  queue?: number;
}

interface Slot {
  active: number;
  waiting: (() => void)[];
}

export class AppSlots {
  readonly #slots = new Map<string, Slot>();

  /** Takes a slot of `app` (waiting in its queue if need be); false when the queue is full. */
  acquire(app: SlotLimits): boolean | Promise<boolean> {
    if (app.concurrency === undefined) return true;
    let s = this.#slots.get(app.name);
    if (s === undefined) this.#slots.set(app.name, (s = { active: 0, waiting: [] }));
    if (s.active < app.concurrency) {
      s.active++;
      return true;
    }
    if (s.waiting.length >= (app.queue ?? 0)) return false;
    const slot = s;
    return new Promise<boolean>((resolve) => slot.waiting.push(() => resolve(true)));
  }

  /** Hands the slot to the next waiting request of the app, or frees it. */
  release(app: SlotLimits): void {
    if (app.concurrency === undefined) return;
    const s = this.#slots.get(app.name);
    if (s === undefined) return;
    const next = s.waiting.shift();
    if (next !== undefined) next();
    else if (--s.active <= 0) this.#slots.delete(app.name);
  }

  /** Requests waiting for a slot, by app name (apps with none waiting left out). */
  queueDepth(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, s] of this.#slots) if (s.waiting.length > 0) out[name] = s.waiting.length;
    return out;
  }

  /** Requests running VMs now, by app name. */
  active(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, s] of this.#slots) out[name] = s.active;
    return out;
  }
}

/**
 * Exclusive volumes (docs/volumes.md): a request whose VM mounts one runs only while it
 * holds that volume, so at most one VM has it mounted at a time, on whichever shard; the
 * others wait in arrival order, before boot, while holding their app's slot (so the wait is
 * bounded by the app's concurrency and queue). The table lives in the primary, the one
 * process every request passes through. A request that mounts several takes them in name
 * order, so two such requests never wait on each other.
 */
export class VolumeLocks {
  /** Held volumes, by name, with the requests waiting for each in order. */
  readonly #held = new Map<string, (() => void)[]>();

  #take(name: string): void | Promise<void> {
    const waiters = this.#held.get(name);
    if (waiters === undefined) {
      this.#held.set(name, []);
      return;
    }
    return new Promise<void>((resolve) => waiters.push(resolve));
  }

  /** Takes every volume of `names` (sorted, distinct); resolves at once when none is held. */
  acquire(names: readonly string[]): void | Promise<void> {
    for (let i = 0; i < names.length; i++) {
      const wait = this.#take(names[i]!);
      if (wait !== undefined) {
        return (async () => {
          await wait;
          for (let j = i + 1; j < names.length; j++) await this.#take(names[j]!);
        })();
      }
    }
  }

  /** Hands each volume to its next waiting request, or frees it. */
  release(names: readonly string[]): void {
    for (const name of names) {
      const waiters = this.#held.get(name);
      if (waiters === undefined) continue;
      const next = waiters.shift();
      if (next !== undefined) next();
      else this.#held.delete(name);
    }
  }

  /** Requests waiting for each held volume (volumes with none waiting left out). */
  queueDepth(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, w] of this.#held) if (w.length > 0) out[name] = w.length;
    return out;
  }

  /** Volumes held now. */
  held(): string[] {
    return [...this.#held.keys()].sort();
  }
}
