/**
 * Pooled instances of a component's main core module (the one that defines the memory: a JS
 * engine's megabytes). Instantiating it per VM is most of a component's boot; instead one
 * instance serves VM after VM, reset in between to the snapshot state:
 *
 * - its memory is imported (the snapshot transform), so it starts from the snapshot's bytes;
 * - every page a VM wrote is marked in the instance's dirty map — by the guest's own code
 *   (src/host/snapshot/dirty.ts), by the other core modules of the component that write the
 *   memory (instrumented the same way, importing the same map), and by the glue's views of it
 *   (host-writes.ts) — and the reset copies back only those pages, so it costs what the
 *   request dirtied, not the ~10 MB the engine's snapshot holds;
 * - its mutable globals are restored and, if its code can change a table, its tables;
 * - its function imports are forwarders into `targets`, which each VM points at its own
 *   glue's trampolines (resource tables, kernel): the glue is instantiated afresh per VM
 *   (a few small core modules and closures), only this instance is shared over time.
 *
 * A memory that grew is never reset (a WebAssembly memory cannot shrink): the instance is
 * dropped and the next VM gets a new one.
 */
import { interruptImports, type InterruptSlot } from '../interrupt/imports.ts';
import { DIRTY_IMPORT, DIRTY_MAP_PAGES, DIRTY_PAGE, DIRTY_PAGE_SHIFT } from '../snapshot/dirty.ts';
import { PAGE } from '../snapshot/transform.ts';
import { MEMORY_IMPORT, TABLE_EXPORT_PREFIX, type Snapshot } from '../snapshot/types.ts';
import { INTERRUPT_IMPORT, YIELD_IMPORT } from '../interrupt/instrument.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { trackBuffer } from './host-writes.ts';

/** One pooled instance of the main core module. */
export interface PooledCore {
  readonly instance: WebAssembly.Instance;
  readonly memory: WebAssembly.Memory;
  /** The dirty-page map (one byte per 4 KiB page), and the memory it lives in for other instrumented modules. */
  readonly map: Uint8Array;
  readonly mapMemory: WebAssembly.Memory;
  /** Where each function import forwards to, set by `bind` per VM. */
  readonly targets: Function[];
  readonly slot: InterruptSlot;
}

interface TableState {
  readonly table: WebAssembly.Table;
  readonly entries: unknown[];
}

export interface CorePoolStats {
  created: number;
  reused: number;
  idle: number;
  /** Resets done and the bytes they copied back, in total and for the last one. */
  resets: number;
  resetBytes: number;
  lastResetBytes: number;
}

export class CorePool {
  readonly #module: WebAssembly.Module;
  readonly #snapshot: Snapshot;
  readonly #maximumPages: number;
  readonly #mutatesTables: boolean;
  readonly #pristine: Uint8Array;
  readonly #initialBytes: number;
  readonly #functionImports: { module: string; name: string }[];
  readonly #idle: PooledCore[] = [];
  readonly #maxIdle: number;
  readonly #tables = new WeakMap<PooledCore, TableState[]>();
  readonly stats: CorePoolStats = { created: 0, reused: 0, idle: 0, resets: 0, resetBytes: 0, lastResetBytes: 0 };

  constructor(module: WebAssembly.Module, snapshot: Snapshot, maximumPages: number, mutatesTables: boolean, maxIdle = 16) {
    this.#module = module;
    this.#snapshot = snapshot;
    this.#maximumPages = maximumPages;
    this.#mutatesTables = mutatesTables;
    this.#maxIdle = maxIdle;
    this.#initialBytes = snapshot.initialPages * PAGE;
    this.#pristine = new Uint8Array(this.#initialBytes);
    for (const s of snapshot.segments) this.#pristine.set(s.bytes, s.offset);
    this.#functionImports = WebAssembly.Module.imports(module)
      .filter((i) => i.kind === 'function' && !(i.module === YIELD_IMPORT.module && i.name === YIELD_IMPORT.name))
      .map((i) => ({ module: i.module, name: i.name }));
  }

  /** An instance in the snapshot state; `onInterrupt` is what its interrupt checks call while it serves this VM. */
  acquire(onInterrupt: (() => number | Promise<number>) | undefined): PooledCore {
    const idle = this.#idle.pop();
    const core = idle ?? this.#create();
    if (idle !== undefined) this.stats.reused++;
    core.slot.onInterrupt = onInterrupt;
    this.stats.idle = this.#idle.length;
    return core;
  }

  /** Points the instance's imports at one VM's glue (`imports` as the glue passes them). */
  bind(core: PooledCore, imports: Record<string, Record<string, unknown>> | undefined): void {
    this.#functionImports.forEach((i, k) => {
      const f = imports?.[i.module]?.[i.name];
      if (typeof f !== 'function') {
        throw new NanovisorError('NV_HOST_FAULT', `component glue gave no function for the core import ${i.module}.${i.name}`);
      }
      core.targets[k] = f;
    });
  }

  /** Takes an instance back after its VM: reset it for the next one, or drop it (`reusable` false: stopped mid-flight). */
  release(core: PooledCore, reusable: boolean): void {
    core.slot.onInterrupt = undefined;
    core.targets.fill(unbound);
    if (!reusable || this.#idle.length >= this.#maxIdle) return;
    if (this.#reset(core)) this.#idle.push(core);
    this.stats.idle = this.#idle.length;
  }

  #create(): PooledCore {
    const memory = new WebAssembly.Memory({ initial: this.#snapshot.initialPages, maximum: this.#maximumPages });
    // A new memory is already zero: write only the snapshot's runs.
    const view = new Uint8Array(memory.buffer);
    for (const s of this.#snapshot.segments) view.set(s.bytes, s.offset);
    const mapMemory = new WebAssembly.Memory({ initial: DIRTY_MAP_PAGES, maximum: DIRTY_MAP_PAGES });
    const map = new Uint8Array(mapMemory.buffer);
    const targets: Function[] = this.#functionImports.map(() => unbound);
    const slot: InterruptSlot = { onInterrupt: undefined };
    const imports: WebAssembly.Imports = {};
    this.#functionImports.forEach((i, k) => {
      (imports[i.module] ??= {})[i.name] = (...args: unknown[]) => targets[k]!(...args);
    });
    const nv = interruptImports(slot, false)[INTERRUPT_IMPORT.module]!;
    imports[INTERRUPT_IMPORT.module] = { ...nv, [DIRTY_IMPORT.name]: mapMemory };
    (imports[MEMORY_IMPORT.module] ??= {})[MEMORY_IMPORT.name] = memory;
    const instance = new WebAssembly.Instance(this.#module, imports);
    this.stats.created++;
    trackBuffer(memory.buffer, map);
    const core: PooledCore = { instance, memory, map, mapMemory, targets, slot };
    if (this.#mutatesTables) {
      const tables: TableState[] = [];
      for (const [name, value] of Object.entries(instance.exports)) {
        if (name.startsWith(TABLE_EXPORT_PREFIX)) {
          const table = value as WebAssembly.Table;
          const entries: unknown[] = [];
          for (let i = 0; i < table.length; i++) entries.push(table.get(i));
          tables.push({ table, entries });
        }
      }
      this.#tables.set(core, tables);
    }
    return core;
  }

  /** Copies back the marked pages, restores globals and tables; false when the instance cannot be reset (it grew). */
  #reset(core: PooledCore): boolean {
    if (core.memory.buffer.byteLength !== this.#initialBytes) return false;
    const memory = new Uint8Array(core.memory.buffer);
    const map = core.map;
    const pages = this.#initialBytes >>> DIRTY_PAGE_SHIFT;
    // A store marks its page and the next one: clear one past the end too.
    const words = new Int32Array(map.buffer, 0, ((pages + 1) >>> 2) + 1);
    let copied = 0;
    let runStart = -1;
    for (let w = 0; w < words.length; w++) {
      if (words[w] === 0) {
        if (runStart >= 0) {
          copied += this.#copyBack(memory, runStart, w << 2, pages);
          runStart = -1;
        }
        continue;
      }
      for (let p = w << 2; p < (w << 2) + 4; p++) {
        if (map[p] !== 0) { if (runStart < 0) runStart = p; }
        else if (runStart >= 0) { copied += this.#copyBack(memory, runStart, p, pages); runStart = -1; }
      }
      words[w] = 0;
    }
    if (runStart >= 0) copied += this.#copyBack(memory, runStart, words.length << 2, pages);
    const exports = core.instance.exports;
    for (const g of this.#snapshot.globals) {
      (exports[g.exportName] as WebAssembly.Global).value = g.type === 'i64' ? BigInt(g.value) : g.value;
    }
    for (const t of this.#tables.get(core) ?? []) {
      if (t.table.length !== t.entries.length) return false;
      for (let i = 0; i < t.entries.length; i++) if (t.table.get(i) !== t.entries[i]) t.table.set(i, t.entries[i]);
    }
    this.stats.resets++;
    this.stats.resetBytes += copied;
    this.stats.lastResetBytes = copied;
    return true;
  }

  /** Pages `[from, to)` (clipped to the memory) back from the snapshot; returns the bytes copied. */
  #copyBack(memory: Uint8Array, from: number, to: number, pages: number): number {
    const end = Math.min(to, pages);
    if (end <= from) return 0;
    const a = from * DIRTY_PAGE;
    const b = end * DIRTY_PAGE;
    memory.set(this.#pristine.subarray(a, b), a);
    return b - a;
  }
}

/** What an import of an instance serving no VM does: it never runs guest code, and if it did, it stops. */
function unbound(): never {
  throw new NanovisorError('NV_HOST_FAULT', 'a pooled component instance called an import while serving no VM');
}
