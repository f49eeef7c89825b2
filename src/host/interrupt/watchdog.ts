/**
 * The host side of interrupt checks: one shared page and one watchdog thread per process.
 * `begin(deadline)` before a guest slice runs, `end()` after; `interrupted(gen)` tells a
 * trap caused by the watchdog from the guest's own `unreachable`.
 */
import { Worker } from 'node:worker_threads';
import { DEADLINE, DOORBELL, GEN_MASK, STATE, WAKE_AT } from './layout.ts';

const workerFile = new URL(`./watchdog-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class InterruptWatchdog {
  /** Imported by instrumented guests as `nv.interrupt`. */
  readonly memory: WebAssembly.Memory;
  readonly #words: Int32Array;
  readonly #wide: BigInt64Array;
  #gen = 0;
  #worker: Worker | undefined;

  constructor() {
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const buffer = this.memory.buffer as unknown as SharedArrayBuffer;
    this.#words = new Int32Array(buffer, 0, 4);
    this.#wide = new BigInt64Array(buffer, 0, 4);
  }

  /**
   * Starts the watchdog thread if it is not running. Called when an instrumented module is
   * prepared, so the first time-limited run does not wait for the thread to boot (~tens of ms).
   */
  start(): void {
    if (this.#worker !== undefined) return;
    this.#worker = new Worker(workerFile, { workerData: { buffer: this.memory.buffer } });
    this.#worker.unref();
  }

  /** Marks the start of a guest slice that must stop at `deadlineNs` (hrtime); returns its generation. */
  begin(deadlineNs: bigint | undefined): number {
    this.#gen = (this.#gen % GEN_MASK) + 1;
    Atomics.store(this.#wide, DEADLINE, deadlineNs ?? 0n);
    // After an interrupt the watchdog waits on the state word: wake it for this slice. Only
    // the first slice after a timeout pays this notify.
    if (Atomics.exchange(this.#words, STATE, this.#gen) < 0) Atomics.notify(this.#words, STATE);
    if (deadlineNs !== undefined) {
      if (this.#worker === undefined) this.start();
      // The watchdog sleeps until its last known deadline; wake it only if this one is sooner.
      else if (deadlineNs < Atomics.load(this.#wide, WAKE_AT)) {
        Atomics.add(this.#words, DOORBELL, 1);
        Atomics.notify(this.#words, DOORBELL);
      }
    }
    return this.#gen;
  }

  /** Marks the end of the current slice. */
  end(): void {
    Atomics.store(this.#wide, DEADLINE, 0n);
  }

  /** Whether slice `gen` was stopped by the watchdog. */
  interrupted(gen: number): boolean {
    const s = Atomics.load(this.#words, STATE);
    return s < 0 && (s & GEN_MASK) === gen;
  }
}

let shared: InterruptWatchdog | undefined;

/** The process's watchdog (created on first use). */
export function watchdog(): InterruptWatchdog {
  return (shared ??= new InterruptWatchdog());
}
