/**
 * Preparing a component: transpile it once (core modules + glue), refuse what the kernel
 * cannot link by interface name, compile every core module with the memory limit applied,
 * and keep a function that instantiates a fresh copy of the whole component against one
 * VM's kernel. The glue is an ES module without imports; it is evaluated once as a function
 * body, so every VM gets its own resource tables and instances.
 */
import type { Kernel } from '../../kernel/kernel.ts';
import { PROVIDED_INTERFACES, componentImports, interfaceName } from '../../kernel/p2/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { MAX_PAGES, WASM_PAGE, applyMemoryLimit, checkInitialMemory } from '../memory-limit.ts';
import { NotInstrumentable, instrumentInterrupts } from '../interrupt/instrument.ts';
import { instrumentDirtyPages } from '../snapshot/dirty.ts';
import { SnapshotUnsupported, extractSnapshot } from '../snapshot/transform.ts';
import { SectionId, WasmBinaryError, readSections } from '../../shared/wasm-binary.ts';
import { CorePool, type PooledCore } from './core-pool.ts';
import { componentFromPayload, componentPayload, componentToolsVersion, type DerivedComponent, type DerivedCore } from './derived.ts';
import { PreparedCache, identityOf, type DerivedStore } from '../prepared-cache.ts';
import type { Snapshot } from '../snapshot/types.ts';
import { TRACKED_GLOBALS } from './host-writes.ts';
import { transpileComponent } from './transpile.ts';

/** Which world a component serves: a command (`wasi:cli/run`) or an HTTP handler. */
export type ComponentWorld = 'command' | 'http';

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, object>,
  instantiateCore?: (m: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance,
) => Record<string, Record<string, (...args: never[]) => unknown>>;

/**
 * How an http component's VM suspends on the asynchronous path (JSPI), given by the VM per
 * instance (src/host/vm.ts): the core modules' wasi:io waits (`poll`, `pollable.block`) go
 * through `wait` — a plain function that returns a promise when the guest must wait — made
 * a suspending import by `suspending`, and the core export of incoming-handler.handle runs
 * on a promising stack (`promising`).
 */
export interface ComponentSuspension {
  wait(fn: Function): Function;
  suspending(fn: Function): unknown;
  promising(fn: Function): Function;
}

/** A core import through which a guest waits (wasi:io poll, pollable.block), and so may suspend. */
function isWaitImport(module: string, name: string): boolean {
  return module.startsWith('wasi:io/poll@') && (name === 'poll' || name === '[method]pollable.block');
}

function withWaits(imports: WebAssembly.Imports | undefined, s: ComponentSuspension): WebAssembly.Imports | undefined {
  if (imports === undefined) return undefined;
  const out: WebAssembly.Imports = { ...imports };
  for (const [module, fns] of Object.entries(imports)) {
    if (!module.startsWith('wasi:io/poll@')) continue;
    const wrapped: Record<string, unknown> = { ...fns };
    for (const [name, fn] of Object.entries(fns)) {
      if (isWaitImport(module, name) && typeof fn === 'function') wrapped[name] = s.suspending(s.wait(fn));
    }
    out[module] = wrapped as Record<string, WebAssembly.ImportValue>;
  }
  return out;
}

function withHandler(exports: WebAssembly.Exports, s: ComponentSuspension): WebAssembly.Exports {
  const name = Object.keys(exports).find((k) => /^wasi:http\/incoming-handler@[^#]+#handle$/.test(k));
  if (name === undefined) return exports;
  return { ...exports, [name]: s.promising(exports[name] as Function) as WebAssembly.ExportValue };
}

export type ComponentExports = Record<string, Record<string, (...args: never[]) => unknown>>;

/** One VM's instance of a component: its exports, and how to give back what it borrowed from the pool. */
export interface ComponentInstance {
  readonly exports: ComponentExports;
  /** Ends the instance; `reusable` false when its guest may have been stopped mid-flight. */
  release(reusable: boolean): void;
}

export interface PreparedComponent {
  readonly world: ComponentWorld;
  /** Interfaces it imports, without versions. */
  readonly imports: readonly string[];
  readonly exports: readonly string[];
  /** Core modules by glue name, compiled with the memory limit. */
  readonly cores: ReadonlyMap<string, WebAssembly.Module>;
  /**
   * The pool of the main core module's instances (snapshot + dirty-page reset), when the
   * component allows it; undefined: every VM instantiates the whole component afresh.
   */
  readonly pool: CorePool | undefined;
  /** True when the pooled core module carries interrupt checks (time limits without node:vm). */
  readonly interruptible: boolean;
  /**
   * An instance of the whole component against `kernel`: fresh glue (resource tables,
   * trampolines) and small core modules, the main core module from the pool when there is one.
   * `onInterrupt` is what the pooled module's interrupt checks call; `suspension` lets an
   * http component's waits suspend the guest (asynchronous path).
   */
  instantiate(kernel: Kernel, extra?: Record<string, object>, onInterrupt?: () => number | Promise<number>, suspension?: ComponentSuspension): ComponentInstance;
}

/** Interfaces the kernel provides, plus those a world adds (wasi:http for serve). */
export function unknownImports(imports: readonly string[], extra: readonly string[] = []): string[] {
  const known = new Set([...PROVIDED_INTERFACES, ...extra]);
  return imports.map(interfaceName).filter((i) => !known.has(i));
}

function worldOf(exports: readonly string[]): ComponentWorld {
  const names = exports.map(interfaceName);
  if (names.includes('wasi:cli/run')) return 'command';
  if (names.includes('wasi:http/incoming-handler')) return 'http';
  throw new NanovisorError('NV_COMPONENT_NO_WORLD', `component exports neither wasi:cli/run nor wasi:http/incoming-handler (it exports: ${exports.join(', ') || 'nothing'})`, { details: { exports } });
}

function evaluateGlue(glue: string): Instantiate {
  // The glue of instantiation mode has no imports and exports only `instantiate` (and an
  // empty `_util`): strip the keywords and evaluate it as a function body.
  const body = glue.replace(/^export function instantiate\(/m, 'function instantiate(').replace(/^export const _util\b/m, 'const _util');
  if (/^\s*(export|import)\s/m.test(body) || !body.includes('function instantiate(')) {
    throw new NanovisorError('NV_HOST_FAULT', 'unexpected shape of the jco glue (one exported instantiate function expected)');
  }
  // DataView and the typed arrays are the tracked ones, so what the glue writes into a pooled
  // memory is marked (host-writes.ts). Its globalThis has no `process`: the glue's debug log
  // reads process.env.JCO_DEBUG (a getenv) on every call it traces.
  const glueGlobal = Object.freeze({ WebAssembly });
  const names = [...Object.keys(TRACKED_GLOBALS), 'globalThis'];
  return new Function(...names, `${body}\nreturn instantiate;`)(...Object.values(TRACKED_GLOBALS), glueGlobal) as Instantiate;
}

/** Interfaces beyond the kernel's own that some entry point adds (the gateway's wasi:http). */
export const HTTP_INTERFACES: readonly string[] = ['wasi:http/types', 'wasi:http/outgoing-handler'];

/** Where a component's derivation may come from and go to (prepared-cache.ts), with what identifies its bytes. */
export interface ComponentPrepareOptions {
  /** False (a build's check of a component that is not kept): no pool, so no instrumentation. */
  pool?: boolean;
  /** The prepared-module cache, or an entry shipped with the image: on a hit, only compiling is left. */
  store?: DerivedStore;
  /** `sha256:<hex>` of the bytes when known (an image's verified layer digest). */
  identity?: string;
}

/**
 * Prepares component bytes for many VMs. NV_COMPONENT_UNKNOWN_IMPORTS names every interface
 * the kernel does not provide; NV_COMPONENT_NO_WORLD when it is neither a command nor an
 * HTTP handler. Unless `pool` is false, the main core module is instrumented and pooled
 * (core-pool.ts) when the component allows it. With `store`, what is derived before
 * compiling (derived.ts) is taken from it or put there.
 */
export function prepareComponent(bytes: Uint8Array, memoryLimitBytes: number, options: ComponentPrepareOptions = {}): PreparedComponent {
  const pool = !(process.env['NANOVISOR_SNAPSHOT'] === 'off' || options.pool === false);
  const store = options.store;
  const key = store === undefined ? undefined : componentKey(options.identity ?? identityOf(bytes), memoryLimitBytes, pool);
  let derived: Derived | undefined;
  const payload = key === undefined ? undefined : store!.getPayload(key);
  if (payload !== undefined) {
    try {
      derived = componentFromPayload(payload);
    } catch {
      derived = undefined;
    }
  }
  if (derived === undefined) {
    derived = deriveComponent(bytes, memoryLimitBytes, pool);
    if (key !== undefined) store!.putPayload(key, componentPayload(derived));
  }
  return fromDerived(derived, memoryLimitBytes, bytes);
}

/**
 * The cache key of a component prepared with these options, by this build, this engine and
 * this transpiler; `pool` by default as a host prepares it (NANOVISOR_SNAPSHOT=off: none).
 */
export function componentKey(identity: string, memoryLimitBytes: number, pool = process.env['NANOVISOR_SNAPSHOT'] !== 'off'): string {
  return PreparedCache.key({ identity, memoryLimitBytes, snapshot: pool ? 'auto' : 'off', interrupts: pool, tools: componentToolsVersion() });
}

/** A derivation, with the main module compiled already when deriving did (a miss). */
interface Derived extends DerivedComponent {
  readonly compiledMain?: WebAssembly.Module;
}

/** Transpiles, checks imports and world, and rewrites the core modules (derived.ts). */
function deriveComponent(bytes: Uint8Array, memoryLimitBytes: number, pool: boolean): Derived {
  const t = transpileComponent(bytes);
  checkLinkable(t.imports, t.exports);
  // No pool (a build's check) skips the instrumentation, seconds for a JS engine.
  const pooled = pool ? poolable(t.cores, memoryLimitBytes) : undefined;
  const cores: DerivedCore[] = [...t.cores].map(([name, core]) => {
    if (pooled?.main.name === name) return { name, role: 'main', bytes: pooled.main.bytes };
    const tracked = pooled?.tracked.get(name);
    if (tracked !== undefined) return { name, role: 'tracked', bytes: tracked };
    try {
      return { name, role: 'plain', bytes: applyMemoryLimit(core, memoryLimitBytes) };
    } catch (e) {
      if ((e as { code?: unknown }).code === 'NV_GUEST_MEMORY_LIMIT') throw e;
      throw new NanovisorError('NV_COMPONENT_MALFORMED', `invalid core module ${name} in the component: ${(e as Error).message}`, { cause: e });
    }
  });
  return {
    glue: t.glue, imports: t.imports, exports: t.exports, cores,
    ...(pooled === undefined ? {} : { pool: { snapshot: pooled.snapshot, mutatesTables: pooled.mutatesTables }, compiledMain: pooled.main.module }),
  };
}

/** NV_COMPONENT_UNKNOWN_IMPORTS / NV_COMPONENT_NO_WORLD; imports first: a component for another world is also told what it lacks here. */
function checkLinkable(imports: readonly string[], exports: readonly string[]): ComponentWorld {
  const isHttp = exports.some((e) => interfaceName(e) === 'wasi:http/incoming-handler');
  const missing = unknownImports(imports, isHttp ? HTTP_INTERFACES : []);
  if (missing.length > 0) {
    throw new NanovisorError('NV_COMPONENT_UNKNOWN_IMPORTS', `component imports what the nanovisor kernel does not provide: ${missing.join(', ')}`, { details: { imports: missing } });
  }
  return worldOf(exports);
}

/** The prepared component of a derivation: its core modules compiled, its pool made. */
function fromDerived(d: Derived, memoryLimitBytes: number, bytes: Uint8Array): PreparedComponent {
  const world = checkLinkable(d.imports, d.exports);
  const cores = new Map<string, WebAssembly.Module>();
  for (const c of d.cores) {
    if (c.role === 'main' && d.compiledMain !== undefined) { cores.set(c.name, d.compiledMain); continue; }
    try {
      cores.set(c.name, new WebAssembly.Module(c.bytes));
    } catch (e) {
      throw new NanovisorError('NV_COMPONENT_MALFORMED', `invalid core module ${c.name} in the component: ${(e as Error).message}`, { cause: e });
    }
  }
  const main = d.cores.find((c) => c.role === 'main');
  let pool: CorePool | undefined;
  if (main !== undefined && d.pool !== undefined) {
    const snapshot = d.pool.snapshot;
    checkInitialMemory(snapshot.initialPages, memoryLimitBytes);
    const limitPages = Math.min(MAX_PAGES, Math.floor(memoryLimitBytes / WASM_PAGE));
    const maximumPages = Math.min(snapshot.maximumPages ?? MAX_PAGES, limitPages);
    pool = new CorePool(cores.get(main.name)!, snapshot, maximumPages, d.pool.mutatesTables);
  }
  const instantiate = evaluateGlue(d.glue);
  const getCore = (name: string): WebAssembly.Module => {
    const m = cores.get(name);
    if (m === undefined) throw new NanovisorError('NV_HOST_FAULT', `component glue asked for an unknown core module ${name}`);
    return m;
  };
  // The uninstrumented core modules, for VMs that may suspend; compiled at the first such VM.
  // The derivation keeps only the instrumented forms of the pooled and tracked modules: their
  // plain forms come from transpiling the bytes again (~1 s, once), the others are the same.
  let freshCores: Map<string, WebAssembly.Module> | undefined;
  const getFreshCore = (name: string): WebAssembly.Module => {
    freshCores ??= freshModules(bytes, d, cores, memoryLimitBytes);
    const m = freshCores.get(name);
    if (m === undefined) throw new NanovisorError('NV_HOST_FAULT', `component glue asked for an unknown core module ${name}`);
    return m;
  };
  const mainModule = main === undefined ? undefined : cores.get(main.name);
  const trackedModules = new Set(d.cores.filter((c) => c.role === 'tracked').map((c) => cores.get(c.name)!));
  return {
    world,
    imports: d.imports.map(interfaceName),
    exports: d.exports,
    cores,
    pool,
    interruptible: pool !== undefined,
    instantiate: (kernel, extra, onInterrupt, suspension) => {
      const imports = { ...componentImports(kernel), ...extra };
      if (suspension !== undefined) {
        // A VM that may suspend is a fresh, uninstrumented instance: the pooled module's
        // imports are JS forwarders, and JSPI cannot suspend through a JS frame.
        const fresh = (m: WebAssembly.Module, coreImports: WebAssembly.Imports | undefined): WebAssembly.Instance => {
          const instance = new WebAssembly.Instance(m, withWaits(coreImports, suspension));
          return { exports: withHandler(instance.exports, suspension) } as unknown as WebAssembly.Instance;
        };
        return { exports: instantiate(pool === undefined ? getCore : getFreshCore, imports, fresh), release: () => {} };
      }
      if (pool === undefined) return { exports: instantiate(getCore, imports), release: () => {} };
      const core = pool.acquire(onInterrupt);
      let exports: ComponentExports;
      try {
        exports = instantiate(getCore, imports, (m, coreImports) => instantiateCore(m, coreImports, core, pool, mainModule!, trackedModules));
      } catch (e) {
        pool.release(core, true);
        throw e;
      }
      let released = false;
      return {
        exports,
        release: (reusable) => {
          if (released) return;
          released = true;
          pool.release(core, reusable);
        },
      };
    },
  };
}

/** Every core module as jco made it, memory limit applied, compiled: a derivation's plain ones as they are, the rest transpiled again. */
function freshModules(bytes: Uint8Array, d: DerivedComponent, compiled: ReadonlyMap<string, WebAssembly.Module>, memoryLimitBytes: number): Map<string, WebAssembly.Module> {
  const raw = d.cores.some((c) => c.role !== 'plain') ? transpileComponent(bytes).cores : undefined;
  return new Map(d.cores.map((c) => [c.name, c.role === 'plain' ? compiled.get(c.name)! : new WebAssembly.Module(applyMemoryLimit(raw!.get(c.name)!, memoryLimitBytes))]));
}

/**
 * How the glue's instances are made when the main module is pooled: the main module is the
 * pooled instance with its imports pointed at this VM's glue; the modules that write its
 * memory get its dirty map; the rest are instantiated as usual.
 */
function instantiateCore(
  m: WebAssembly.Module, imports: WebAssembly.Imports | undefined, core: PooledCore, pool: CorePool,
  main: WebAssembly.Module, tracked: ReadonlySet<WebAssembly.Module>,
): WebAssembly.Instance {
  if (m === main) {
    pool.bind(core, imports as Record<string, Record<string, unknown>> | undefined);
    return core.instance;
  }
  if (!tracked.has(m)) return new WebAssembly.Instance(m, imports);
  return new WebAssembly.Instance(m, { ...imports, nv: { dirty: core.mapMemory } });
}

interface Poolable {
  /** The main module, rewritten and compiled (compiling also validates the rewrite). */
  readonly main: { name: string; bytes: Uint8Array; module: WebAssembly.Module };
  /** The other core modules that import a memory, instrumented to mark what they write. */
  readonly tracked: Map<string, Uint8Array>;
  readonly snapshot: Snapshot;
  readonly mutatesTables: boolean;
}

/**
 * Whether the component's main core module can be pooled, and its pool: exactly one core
 * module defines a memory, its state is all in that memory, its globals and tables (the
 * snapshot transform says so), and it and every other module that imports a memory take
 * the dirty-page and interrupt instrumentation. Otherwise undefined: VMs instantiate afresh.
 */
function poolable(raw: ReadonlyMap<string, Uint8Array>, memoryLimitBytes: number): Poolable | undefined {
  const definesMemory = (b: Uint8Array): boolean => readSections(b).some((s) => s.id === SectionId.MEMORY);
  try {
    const owners = [...raw].filter(([, b]) => definesMemory(b));
    if (owners.length !== 1) return undefined;
    const [name, bytes] = owners[0]!;
    const extracted = extractSnapshot(bytes);
    if (!extracted.snapshot.reusable) return undefined;
    checkInitialMemory(extracted.snapshot.initialPages, memoryLimitBytes);
    const dirty = instrumentDirtyPages(instrumentInterrupts(extracted.module));
    const tracked = new Map<string, Uint8Array>();
    for (const [other, b] of raw) {
      if (other === name || !WebAssembly.Module.imports(new WebAssembly.Module(b)).some((i) => i.kind === 'memory')) continue;
      tracked.set(other, instrumentDirtyPages(applyMemoryLimit(b, memoryLimitBytes)).module);
    }
    const module = new WebAssembly.Module(dirty.module);
    return { main: { name, bytes: dirty.module, module }, tracked, snapshot: extracted.snapshot, mutatesTables: dirty.mutatesTables };
  } catch (e) {
    if ((e as { code?: unknown }).code === 'NV_GUEST_MEMORY_LIMIT') throw e;
    if (e instanceof SnapshotUnsupported || e instanceof NotInstrumentable || e instanceof WasmBinaryError || e instanceof WebAssembly.CompileError) return undefined;
    throw e;
  }
}
