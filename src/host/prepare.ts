/**
 * Module preparation: validate and compile once per module (or image), with the memory
 * limit enforced by the engine; where the module allows it, take its memory initialisation
 * into a snapshot and give it an instance pool so VMs boot without instantiating.
 */
import v8 from 'node:v8';
import { PREVIEW1_FUNCTIONS, WASI_MODULE } from '../kernel/abi.ts';
import { NanovisorError } from '../shared/errors.ts';
import { SectionId, WasmBinaryError, readSections } from '../shared/wasm-binary.ts';
import { MAX_PAGES, WASM_PAGE, applyMemoryLimit, checkInitialMemory, memoryLimitsOf } from './memory-limit.ts';
import { DEFAULT_MEMORY_LIMIT, checkVmLimits } from './options.ts';
import { interruptImports } from './interrupt/imports.ts';
import { INTERRUPT_IMPORT, NotInstrumentable, YIELD_IMPORT, instrumentInterrupts } from './interrupt/instrument.ts';
import { InstancePool } from './pool.ts';
import { isComponent, prepareComponent, type PreparedComponent } from './component/index.ts';
import { SnapshotUnsupported, extractSnapshot, importOwnMemory, type SnapshotModule } from './snapshot/transform.ts';
import { MEMORY_IMPORT, type Snapshot } from './snapshot/types.ts';
import { PreparedCache, identityOf, type DerivedModule, type DerivedStore } from './prepared-cache.ts';

/**
 * A module compiled once with its limits applied; reusable for many VMs. With a snapshot,
 * VMs boot from the instance pool; without one, each VM instantiates the module afresh.
 */
export interface PreparedModule {
  readonly module: WebAssembly.Module;
  readonly memoryLimitBytes: number;
  readonly pool?: InstancePool;
  readonly snapshot?: Snapshot;
  /** True when the module carries interrupt checks (src/host/interrupt): time limits cost nothing per call. */
  readonly interruptible?: boolean;
  /** For modules that import their memory (`env.memory`) but carry no snapshot: its limits. */
  readonly importedMemory?: { initial: number; maximum: number };
  /**
   * False when instantiating runs no guest code (no start section), so a VM need not
   * instantiate under its time limit (which, without interrupt checks, costs a node:vm
   * watchdog per boot). Undefined: unknown, treated as true.
   */
  readonly hasStart?: boolean;
  /** A WASI 0.2 component: VMs instantiate it whole through its glue (src/host/component). */
  readonly component?: PreparedComponent;
}

/** Whether the module has a start section (instantiating it runs guest code). */
function hasStartSection(bytes: Uint8Array): boolean {
  try {
    return readSections(bytes).some((s) => s.id === SectionId.START);
  } catch {
    return true;
  }
}

export interface PrepareOptions {
  /**
   * `auto` (default): take the module's memory initialisation into a snapshot and boot
   * from the pool when the module allows it. `off`: instantiate afresh for every VM.
   * The environment variable NANOVISOR_SNAPSHOT=off forces `off` (to test both paths).
   */
  snapshot?: 'auto' | 'off';
  /** Idle instances kept per module. */
  maxIdle?: number;
  /**
   * Where what preparation derives is kept across processes (./prepared-cache.ts): on a hit
   * the module is only compiled. Without one, every preparation derives it afresh.
   */
  cache?: PreparedCache;
  /**
   * `sha256:<hex>` of the bytes, when the caller knows it (an image's verified layer
   * digest), so a cached preparation does not hash them again.
   */
  identity?: string;
  /**
   * For a WASI 0.2 component: its derivation as its daemon's cache holds it, shipped with
   * the image to a shard (prepared-cache.ts ShippedEntry); used instead of `cache`.
   */
  shipped?: DerivedStore;
}

let eager = false;

/**
 * Makes V8 compile every function of a module when it is prepared, instead of on its first
 * call. A daemon calls this once at start: deploying then pays for compilation, and the first
 * request to a new version does not (measured: ~1 ms instead of ~4 ms for the CGI echo).
 * Process-wide; affects modules prepared afterwards.
 */
export function enableEagerCompilation(): void {
  if (eager) return;
  v8.setFlagsFromString('--no-wasm-lazy-compilation');
  eager = true;
}

function checkMagic(bytes: Uint8Array): void {
  if (bytes.byteLength < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new NanovisorError('NV_MODULE_MALFORMED', 'not a WebAssembly module (bad magic number)');
  }
}

function compile(bytes: Uint8Array): WebAssembly.Module {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (e) {
    throw new NanovisorError('NV_MODULE_MALFORMED', `invalid WebAssembly module: ${(e as Error).message}`, { cause: e });
  }
  // Refuse what the host cannot link here, by name, rather than with the engine's LinkError at boot.
  const unknown = WebAssembly.Module.imports(module)
    .filter((i) => !(i.module === WASI_MODULE && i.kind === 'function' && PREVIEW1_FUNCTIONS.includes(i.name))
      && !(i.module === MEMORY_IMPORT.module && i.name === MEMORY_IMPORT.name && i.kind === 'memory')
      && !(i.module === INTERRUPT_IMPORT.module && i.name === INTERRUPT_IMPORT.name && i.kind === 'memory')
      && !(i.module === YIELD_IMPORT.module && i.name === YIELD_IMPORT.name && i.kind === 'function'))
    .map((i) => `${i.module}.${i.name}`);
  if (unknown.length > 0) {
    throw new NanovisorError('NV_MODULE_UNKNOWN_IMPORTS', `module imports what the nanovisor kernel does not provide: ${unknown.join(', ')}`, { details: { imports: unknown } });
  }
  return module;
}

/** Validates and compiles module bytes with the memory limit enforced by the engine. */
export function prepareModule(bytes: Uint8Array, memoryLimitBytes = DEFAULT_MEMORY_LIMIT, options: PrepareOptions = {}): PreparedModule {
  checkVmLimits({ memoryLimitBytes });
  checkMagic(bytes);
  if (isComponent(bytes)) {
    const store = options.shipped ?? options.cache;
    const component = prepareComponent(bytes, memoryLimitBytes, {
      ...(store === undefined ? {} : { store }), ...(options.identity === undefined ? {} : { identity: options.identity }),
    });
    return { module: component.cores.values().next().value!, memoryLimitBytes, hasStart: true, component };
  }
  // From the declaration alone, before the snapshot transform or the engine touch that memory.
  const declared = memoryLimitsOf(bytes);
  if (declared !== undefined) checkInitialMemory(declared.min, memoryLimitBytes);
  const wanted = process.env['NANOVISOR_SNAPSHOT'] === 'off' ? 'off' : options.snapshot ?? 'auto';
  return viaCache(bytes, memoryLimitBytes, wanted, options, () => deriveModule(bytes, memoryLimitBytes, wanted));
}

/** A module compiled here, with what it was compiled from. */
interface Derived extends DerivedModule {
  /** The compiled `module`, when deriving compiled it already (a cache miss). */
  readonly compiled?: WebAssembly.Module;
}

/** What prepareModule derives from raw module bytes: a snapshot module where it can, else the limited module. */
function deriveModule(bytes: Uint8Array, memoryLimitBytes: number, wanted: 'auto' | 'off'): Derived {
  if (wanted === 'auto') {
    let extracted: SnapshotModule | undefined;
    try {
      // Validate first: the transform trusts section contents it does not rewrite.
      compile(bytes);
      extracted = extractSnapshot(bytes);
    } catch (e) {
      if (!(e instanceof SnapshotUnsupported) && !(e instanceof WasmBinaryError)) throw e;
    }
    if (extracted !== undefined) return deriveSnapshot(extracted.module, extracted.snapshot);
  }
  const limited = applyMemoryLimit(bytes, memoryLimitBytes);
  const compiled = compile(limited);
  const hasStart = hasStartSection(limited);
  const instrumented = instrumentFresh(limited);
  if (instrumented !== undefined) {
    const limits = memoryLimitsOf(limited)!;
    return { ...instrumented, interruptible: true, hasStart, importedMemory: { initial: limits.min, maximum: limits.max ?? MAX_PAGES } };
  }
  const importsMemory = WebAssembly.Module.imports(compiled).some((i) => i.kind === 'memory');
  const limits = importsMemory ? memoryLimitsOf(limited) : undefined;
  return {
    module: limited, compiled, interruptible: false, hasStart,
    ...(limits === undefined ? {} : { importedMemory: { initial: limits.min, maximum: limits.max ?? MAX_PAGES } }),
  };
}

/**
 * A module instantiated afresh for every VM (no snapshot), with interrupt checks: its own
 * memory becomes an import so the checks' page can be imported beside it. Time limits then
 * never need node:vm's watchdog, whose termination of a guest on a JSPI stack can take the
 * whole process down (seen in CI: V8 reported the termination as an uncaught exception).
 * `limited` is valid (compiled already). Undefined when it cannot carry the checks.
 */
function instrumentFresh(limited: Uint8Array): { module: Uint8Array; compiled: WebAssembly.Module } | undefined {
  if (process.env['NANOVISOR_INTERRUPTS'] === 'off') return undefined;
  try {
    const module = instrumentInterrupts(importOwnMemory(limited) ?? limited);
    return { module, compiled: compile(module) };
  } catch (e) {
    // Never let the instrumentation be why a valid module cannot run.
    if (e instanceof SnapshotUnsupported || e instanceof NotInstrumentable || e instanceof WasmBinaryError || e instanceof NanovisorError) return undefined;
    throw e;
  }
}

/** A snapshot module with interrupt checks added (when it allows them), compiled. */
function deriveSnapshot(moduleBytes: Uint8Array, snapshot: Snapshot): Derived {
  let instrumented: Uint8Array | undefined;
  if (process.env['NANOVISOR_INTERRUPTS'] !== 'off') {
    try {
      instrumented = instrumentInterrupts(moduleBytes);
    } catch (e) {
      if (!(e instanceof NotInstrumentable)) throw e;
    }
  }
  let compiled: WebAssembly.Module;
  try {
    compiled = compile(instrumented ?? moduleBytes);
  } catch (e) {
    // Never let the instrumentation be why a valid module cannot run.
    if (instrumented === undefined) throw e;
    instrumented = undefined;
    compiled = compile(moduleBytes);
  }
  return { module: instrumented ?? moduleBytes, compiled, snapshot, interruptible: instrumented !== undefined, hasStart: hasStartSection(moduleBytes) };
}

/** Derives through `options.cache` when there is one: a hit is only compiled; a miss is derived and stored. */
function viaCache(bytes: Uint8Array, memoryLimitBytes: number, wanted: 'auto' | 'off', options: PrepareOptions, derive: () => Derived): PreparedModule {
  const cache = options.cache;
  let derived: Derived | undefined;
  let key: string | undefined;
  if (cache !== undefined) {
    key = PreparedCache.key({ identity: options.identity ?? identityOf(bytes), memoryLimitBytes, snapshot: wanted, interrupts: process.env['NANOVISOR_INTERRUPTS'] !== 'off' });
    derived = cache.get(key);
  }
  if (derived === undefined) {
    derived = derive();
    if (cache !== undefined) cache.put(key!, derived);
  }
  return fromDerived(derived, memoryLimitBytes, options.maxIdle);
}

/** The prepared module of a derivation: compiled (unless it is already), with its pool when it has a snapshot. */
function fromDerived(d: Derived, memoryLimitBytes: number, maxIdle: number | undefined): PreparedModule {
  const module = d.compiled ?? compile(d.module);
  if (d.snapshot === undefined) {
    return d.importedMemory === undefined
      ? { module, memoryLimitBytes, hasStart: d.hasStart, interruptible: d.interruptible }
      : { module, memoryLimitBytes, hasStart: d.hasStart, interruptible: d.interruptible, importedMemory: d.importedMemory };
  }
  const snapshot = d.snapshot;
  checkInitialMemory(snapshot.initialPages, memoryLimitBytes);
  const limitPages = Math.min(MAX_PAGES, Math.floor(memoryLimitBytes / WASM_PAGE));
  const maximumPages = Math.min(snapshot.maximumPages ?? MAX_PAGES, limitPages);
  return {
    module, memoryLimitBytes, snapshot, interruptible: d.interruptible, hasStart: d.hasStart,
    pool: new InstancePool(module, snapshot, maximumPages, maxIdle, d.interruptible ? interruptImports : undefined),
  };
}

/**
 * Prepares a snapshot module (memory imported, data in `snapshot`), e.g. from an image's
 * layers. It goes through `options.cache` only with `options.identity`, which must then
 * name the module and the snapshot both (e.g. their layer digests joined).
 */
export function prepareSnapshot(moduleBytes: Uint8Array, snapshot: Snapshot, memoryLimitBytes = DEFAULT_MEMORY_LIMIT, maxIdle?: number, options: PrepareOptions = {}): PreparedModule {
  checkVmLimits({ memoryLimitBytes });
  checkMagic(moduleBytes);
  checkInitialMemory(snapshot.initialPages, memoryLimitBytes);
  const o = maxIdle === undefined ? options : { ...options, maxIdle };
  const derive = (): Derived => deriveSnapshot(moduleBytes, snapshot);
  return o.identity === undefined ? fromDerived(derive(), memoryLimitBytes, o.maxIdle) : viaCache(moduleBytes, memoryLimitBytes, 'auto', o, derive);
}
