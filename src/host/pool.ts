/**
 * The instance pool: boots VMs of one snapshot module without instantiating anything.
 * An idle instance is one whose memory, mutable globals and tables are back to the
 * snapshot's state; taking it and giving it a fresh kernel is a whole boot. A VM whose
 * memory grew is not reset but dropped, so memories that grew large never stay pooled.
 *
 * Modules whose state cannot be fully reset (a start function, passive segments) still
 * use the pool for memories: each boot instantiates against a reset pooled memory.
 */
import { slotImports, type Kernel, type KernelSlot } from '../kernel/kernel.ts';
import { realm } from './async-realm.ts';
import type { InterruptSlot } from './interrupt/imports.ts';
import { START_EXPORT } from './interrupt/instrument.ts';
import { MEMORY_IMPORT, TABLE_EXPORT_PREFIX, type Snapshot } from './snapshot/types.ts';
import { PAGE } from './snapshot/transform.ts';

/** Synchronous instances and JSPI (asynchronous) ones have different imports: pooled apart. */
export type PoolMode = 'sync' | 'async';

/** Where an instance finds the VM it serves: its kernel, and what its interrupt checks call. */
export type PoolSlot = KernelSlot & InterruptSlot;

export interface PooledInstance {
  readonly instance: WebAssembly.Instance;
  readonly memory: WebAssembly.Memory;
  readonly slot: PoolSlot;
  readonly mode: PoolMode;
  /**
   * An instrumented module's former start function (src/host/interrupt), for the VM to call
   * before anything else. Only modules with a start section have one, and their instances
   * are never reused, so each is called once.
   */
  readonly start: Function | undefined;
}

/** Host imports besides the kernel's and the memory (the interrupt page and `nv.yield`), per instance. */
export type ExtraImports = (slot: PoolSlot, async: boolean) => WebAssembly.Imports;

interface TableState {
  readonly table: WebAssembly.Table;
  readonly entries: unknown[];
}

/** Idle instances a pool may keep beyond `maxIdle` when more were in use at once, in bytes of their memories. */
export const IDLE_MAX_BYTES = 256 * 1024 * 1024;

/** Default number of idle instances kept per module. */
export const DEFAULT_MAX_IDLE = 64;

/**
 * Largest initial memory reset by copying the snapshot over it; VMs of modules whose memory
 * starts larger get a fresh memory each (and, if reusable, a fresh instance).
 */
export const RESET_MAX_BYTES = 64 * 1024 * 1024;

export class InstancePool {
  readonly #module: WebAssembly.Module;
  readonly #snapshot: Snapshot;
  /** The initial memory as the snapshot leaves it; undefined for memories too large to reset by copy. */
  readonly #pristine: Uint8Array | undefined;
  readonly #initialBytes: number;
  readonly #maximumPages: number;
  readonly #maxIdle: number;
  readonly #idle: Record<PoolMode, PooledInstance[]> = { sync: [], async: [] };
  /** Released instances not yet reset; never handed out before #reset. */
  readonly #dirty: Record<PoolMode, PooledInstance[]> = { sync: [], async: [] };
  #cleaning = false;
  /** Reset memories waiting for a fresh instance (non-reusable modules only). */
  readonly #idleMemories: WebAssembly.Memory[] = [];
  readonly #tables = new WeakMap<WebAssembly.Instance, TableState[]>();
  #created = 0;
  #reused = 0;
  /** Instances handed out and not yet back, and the most there ever were at once. */
  #inUse = 0;
  #peakInUse = 0;

  readonly #extraImports: ExtraImports | undefined;

  constructor(module: WebAssembly.Module, snapshot: Snapshot, maximumPages: number, maxIdle = DEFAULT_MAX_IDLE, extraImports?: ExtraImports) {
    this.#extraImports = extraImports;
    this.#module = module;
    this.#snapshot = snapshot;
    this.#maximumPages = maximumPages;
    this.#maxIdle = maxIdle;
    this.#initialBytes = snapshot.initialPages * PAGE;
    // Resetting rewrites the whole initial memory; past RESET_MAX_BYTES a fresh memory (whose
    // untouched pages the kernel never maps) is cheaper than a copy, and keeps RSS low.
    this.#pristine = this.#initialBytes <= RESET_MAX_BYTES ? new Uint8Array(this.#initialBytes) : undefined;
    for (const s of snapshot.segments) this.#pristine?.set(s.bytes, s.offset);
  }

  get stats(): { idle: number; created: number; reused: number } {
    return { idle: this.#idle.sync.length + this.#idle.async.length, created: this.#created, reused: this.#reused };
  }

  /**
   * An instance in the snapshot state. With `kernel`, the instance serves it (its slot and
   * memory are bound) before any guest code runs: a new instance of a module with a start
   * section runs that code here, so the caller runs `acquire` under the VM's time limit.
   * `onInterrupt` is what the instance's interrupt checks call while it serves this VM.
   */
  acquire(mode: PoolMode = 'sync', kernel?: Kernel, onInterrupt?: () => number | Promise<number>): PooledInstance {
    if (++this.#inUse > this.#peakInUse) this.#peakInUse = this.#inUse;
    const idle = this.#idle[mode].pop() ?? this.#cleanedDirty(mode);
    if (idle !== undefined) {
      this.#reused++;
      if (kernel !== undefined) {
        idle.slot.kernel = kernel;
        kernel.bindMemory(idle.memory);
      }
      idle.slot.onInterrupt = onInterrupt;
      return idle;
    }
    return this.#instantiate(this.#idleMemories.pop() ?? this.#freshMemory(), mode, kernel, onInterrupt);
  }

  /** No clean instance: clean a released one now rather than instantiate. */
  #cleanedDirty(mode: PoolMode): PooledInstance | undefined {
    const dirty = this.#dirty[mode];
    while (dirty.length > 0) {
      const d = dirty.pop()!;
      if (this.#reset(d)) return d;
    }
    return undefined;
  }

  /** Drops an instance that may not be reset (its guest was stopped mid-flight). */
  discard(p: PooledInstance): void {
    this.#inUse--;
    p.slot.kernel = undefined;
    p.slot.onInterrupt = undefined;
  }

  /** Takes an instance back after its VM ended: reset it for the next VM, or drop it. */
  release(p: PooledInstance): void {
    this.#inUse--;
    p.slot.kernel = undefined;
    p.slot.onInterrupt = undefined;
    const grown = p.memory.buffer.byteLength !== this.#initialBytes;
    if (grown || this.#pristine === undefined) return;
    if (this.#snapshot.reusable) {
      // The reset is deferred off the request's path: the VM's result goes out first, and
      // the instance is cleaned on the next turn of the event loop (or by the next acquire).
      const dirty = this.#dirty[p.mode];
      if (this.#idle[p.mode].length + dirty.length >= this.#idleCap()) return;
      dirty.push(p);
      this.#scheduleCleaning();
    } else if (this.#idleMemories.length < this.#idleCap()) {
      new Uint8Array(p.memory.buffer).set(this.#pristine);
      this.#idleMemories.push(p.memory);
    }
  }

  /**
   * How many idle instances to keep: `maxIdle`, or as many as were ever in use at once when
   * that is more (a server with 1,000 guests in flight reuses 1,000 instances instead of
   * instantiating 936 afresh each round), up to IDLE_MAX_BYTES of their initial memory.
   */
  #idleCap(): number {
    return Math.max(this.#maxIdle, Math.min(this.#peakInUse, Math.floor(IDLE_MAX_BYTES / Math.max(this.#initialBytes, PAGE))));
  }

  #scheduleCleaning(): void {
    if (this.#cleaning) return;
    this.#cleaning = true;
    setImmediate(() => {
      this.#cleaning = false;
      for (const mode of ['sync', 'async'] as const) {
        const dirty = this.#dirty[mode];
        while (dirty.length > 0) {
          const d = dirty.pop()!;
          if (this.#reset(d)) this.#idle[mode].push(d);
        }
      }
    }).unref();
  }

  /** Drops every idle instance and memory. */
  clear(): void {
    this.#idle.sync.length = 0;
    this.#idle.async.length = 0;
    this.#dirty.sync.length = 0;
    this.#dirty.async.length = 0;
    this.#idleMemories.length = 0;
  }

  #freshMemory(): WebAssembly.Memory {
    const memory = new WebAssembly.Memory({ initial: this.#snapshot.initialPages, maximum: this.#maximumPages });
    // A new memory is already zero: write only the snapshot's runs, so untouched pages stay unmapped.
    const view = new Uint8Array(memory.buffer);
    for (const s of this.#snapshot.segments) view.set(s.bytes, s.offset);
    return memory;
  }

  #instantiate(memory: WebAssembly.Memory, mode: PoolMode, kernel: Kernel | undefined, onInterrupt?: () => number | Promise<number>): PooledInstance {
    const slot: PoolSlot = { kernel, onInterrupt };
    kernel?.bindMemory(memory);
    const imports = slotImports(slot, mode === 'async' ? realm.suspending : undefined) as WebAssembly.Imports;
    imports[MEMORY_IMPORT.module] = { [MEMORY_IMPORT.name]: memory };
    if (this.#extraImports !== undefined) Object.assign(imports, this.#extraImports(slot, mode === 'async'));
    const instance = mode === 'async' ? realm.instantiate(this.#module, imports) : new WebAssembly.Instance(this.#module, imports);
    this.#created++;
    if (this.#snapshot.reusable) {
      const tables: TableState[] = [];
      for (const [name, value] of Object.entries(instance.exports)) {
        // Instances from the guest realm have that realm's classes: test by shape, not instanceof.
        if (name.startsWith(TABLE_EXPORT_PREFIX) && typeof (value as WebAssembly.Table).get === 'function') {
          const table = value as WebAssembly.Table;
          const entries: unknown[] = [];
          for (let i = 0; i < table.length; i++) entries.push(table.get(i));
          tables.push({ table, entries });
        }
      }
      this.#tables.set(instance, tables);
    }
    const start = instance.exports[START_EXPORT];
    return { instance, memory, slot, mode, start: typeof start === 'function' ? start : undefined };
  }

  /** Puts the instance back in the snapshot state; false when it cannot be (a table grew). */
  #reset(p: PooledInstance): boolean {
    if (this.#pristine === undefined) return false;
    new Uint8Array(p.memory.buffer).set(this.#pristine);
    const exports = p.instance.exports;
    for (const g of this.#snapshot.globals) {
      const global = exports[g.exportName] as WebAssembly.Global;
      global.value = g.type === 'i64' ? BigInt(g.value) : g.value;
    }
    for (const t of this.#tables.get(p.instance) ?? []) {
      // Tables cannot shrink: one that grew makes the instance unusable for reuse.
      if (t.table.length !== t.entries.length) return false;
      for (let i = 0; i < t.entries.length; i++) {
        if (t.table.get(i) !== t.entries[i]) t.table.set(i, t.entries[i]);
      }
    }
    return true;
  }
}
