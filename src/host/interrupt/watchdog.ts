/**
 * The host side of interrupt checks: one shared page and one watchdog thread per process.
 * `begin(deadline, preemptible)` before a guest slice runs, `end()` after. The watchdog flags
 * the slice at its deadline, or when a preemptible slice (asynchronous path) has run for
 * QUANTUM_MS; the guest's check then calls `nv.yield`, and the host decides (src/host/vm.ts).
 */
import { Worker } from 'node:worker_threads';
import { DEADLINE, DOORBELL, GEN_MASK, INTERRUPT_BIT, QUANTUM_END, QUANTUM_MS, STATE, WAKE_AT } from './layout.ts';

const workerFile = new URL(`./watchdog-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
const QUANTUM_NS = BigInt(QUANTUM_MS) * 1_000_000n;

export class InterruptWatchdog {
  /** Imported by instrumented guests as `nv.interrupt`. */
  readonly memory: WebAssembly.Memory;
  readonly #words: Int32Array;
  readonly #wide: BigInt64Array;
  #gen = 0;
  #worker: Worker | undefined;
  /** The watchdog's wake-up time as last read, and the soonest due time rung for since. */
  #seenWakeAt = 0n;
  #rungDue = 0n;

  constructor() {
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const buffer = this.memory.buffer as unknown as SharedArrayBuffer;
    this.#words = new Int32Array(buffer, 0, 4);
    this.#wide = new BigInt64Array(buffer, 0, 4);
  }

  /**
   * Starts the watchdog thread if it is not running. A host of many VMs calls this when it
   * loads an instrumented module (src/host/in-process-host.ts), so its first time-limited
   * run does not wait for the thread to boot (~tens of ms). A one-shot process never needs
   * it: its synchronous slice runs under node:vm's timeout instead (`ready`, src/host/vm.ts).
   */
  start(): void {
    if (this.#worker !== undefined) return;
    this.#worker = new Worker(workerFile, { workerData: { buffer: this.memory.buffer } });
    this.#worker.unref();
  }

  /** Whether the thread is up and watching (it publishes its first wake-up time when it is). */
  get ready(): boolean {
    return this.#worker !== undefined && Atomics.load(this.#wide, WAKE_AT) !== 0n;
  }

  /**
   * Marks the start of a guest slice that must stop at `deadlineNs` (hrtime) and, when
   * `preemptible`, be asked to yield after QUANTUM_MS; returns its generation.
   */
  begin(deadlineNs: bigint | undefined, preemptible = false): number {
    this.#gen = (this.#gen % GEN_MASK) + 1;
    const deadline = deadlineNs ?? 0n;
    const quantumEnd = preemptible ? process.hrtime.bigint() + QUANTUM_NS : 0n;
    Atomics.store(this.#wide, DEADLINE, deadline);
    Atomics.store(this.#wide, QUANTUM_END, quantumEnd);
    // After an interrupt the watchdog waits on the state word: wake it for this slice. Only
    // the first slice after an interrupt pays this notify.
    if (Atomics.exchange(this.#words, STATE, this.#gen) < 0) Atomics.notify(this.#words, STATE);
    const due = quantumEnd === 0n || (deadline !== 0n && deadline < quantumEnd) ? deadline : quantumEnd;
    if (due !== 0n) {
      if (this.#worker === undefined) this.start();
      else this.#ringIfSooner(due);
    }
    return this.#gen;
  }

  /**
   * The watchdog sleeps until its last published wake-up time: ring only if this slice is due
   * sooner, and not again for a later slice while that ring is unanswered (a watchdog thread
   * the OS has not scheduled yet would otherwise be rung once per slice on a loaded machine).
   */
  #ringIfSooner(due: bigint): void {
    const wakeAt = Atomics.load(this.#wide, WAKE_AT);
    if (wakeAt !== this.#seenWakeAt) {
      this.#seenWakeAt = wakeAt;
      this.#rungDue = wakeAt;
    }
    if (due >= this.#rungDue) return;
    this.#rungDue = due;
    Atomics.add(this.#words, DOORBELL, 1);
    Atomics.notify(this.#words, DOORBELL);
  }

  /** Marks the end of the current slice. */
  end(): void {
    Atomics.store(this.#wide, DEADLINE, 0n);
    Atomics.store(this.#wide, QUANTUM_END, 0n);
  }

  /**
   * Takes back an interrupt of the current slice that the host will not act on (it cannot
   * yield there and its deadline has not passed), so the guest's checks stop calling out.
   */
  dismiss(): void {
    Atomics.store(this.#wide, QUANTUM_END, 0n);
    if (Atomics.compareExchange(this.#words, STATE, this.#gen | INTERRUPT_BIT, this.#gen) === (this.#gen | INTERRUPT_BIT)) {
      Atomics.notify(this.#words, STATE);
    }
  }
}

let shared: InterruptWatchdog | undefined;

/** The process's watchdog (created on first use). */
export function watchdog(): InterruptWatchdog {
  return (shared ??= new InterruptWatchdog());
}
