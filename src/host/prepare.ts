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
import { SnapshotUnsupported, extractSnapshot, type SnapshotModule } from './snapshot/transform.ts';
import { MEMORY_IMPORT, type Snapshot } from './snapshot/types.ts';

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
    const component = prepareComponent(bytes, memoryLimitBytes);
    return { module: component.cores.values().next().value!, memoryLimitBytes, hasStart: true, component };
  }
  // From the declaration alone, before the snapshot transform or the engine touch that memory.
  const declared = memoryLimitsOf(bytes);
  if (declared !== undefined) checkInitialMemory(declared.min, memoryLimitBytes);
  const wanted = process.env['NANOVISOR_SNAPSHOT'] === 'off' ? 'off' : options.snapshot ?? 'auto';
  if (wanted === 'auto') {
    let extracted: SnapshotModule | undefined;
    try {
      // Validate first: the transform trusts section contents it does not rewrite.
      compile(bytes);
      extracted = extractSnapshot(bytes);
    } catch (e) {
      if (!(e instanceof SnapshotUnsupported) && !(e instanceof WasmBinaryError)) throw e;
    }
    if (extracted !== undefined) return prepareSnapshot(extracted.module, extracted.snapshot, memoryLimitBytes, options.maxIdle);
  }
  const limited = applyMemoryLimit(bytes, memoryLimitBytes);
  const module = compile(limited);
  const importsMemory = WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
  const limits = importsMemory ? memoryLimitsOf(limited) : undefined;
  const hasStart = hasStartSection(limited);
  return limits === undefined
    ? { module, memoryLimitBytes, hasStart }
    : { module, memoryLimitBytes, hasStart, importedMemory: { initial: limits.min, maximum: limits.max ?? MAX_PAGES } };
}

/** Prepares a snapshot module (memory imported, data in `snapshot`), e.g. from an image's layers. */
export function prepareSnapshot(moduleBytes: Uint8Array, snapshot: Snapshot, memoryLimitBytes = DEFAULT_MEMORY_LIMIT, maxIdle?: number): PreparedModule {
  checkVmLimits({ memoryLimitBytes });
  checkMagic(moduleBytes);
  checkInitialMemory(snapshot.initialPages, memoryLimitBytes);
  const limitPages = Math.min(MAX_PAGES, Math.floor(memoryLimitBytes / WASM_PAGE));
  const maximumPages = Math.min(snapshot.maximumPages ?? MAX_PAGES, limitPages);
  let instrumented: Uint8Array | undefined;
  if (process.env['NANOVISOR_INTERRUPTS'] !== 'off') {
    try {
      instrumented = instrumentInterrupts(moduleBytes);
    } catch (e) {
      if (!(e instanceof NotInstrumentable)) throw e;
    }
  }
  let module: WebAssembly.Module;
  try {
    module = compile(instrumented ?? moduleBytes);
  } catch (e) {
    // Never let the instrumentation be why a valid module cannot run.
    if (instrumented === undefined) throw e;
    instrumented = undefined;
    module = compile(moduleBytes);
  }
  return {
    module, memoryLimitBytes, snapshot, interruptible: instrumented !== undefined, hasStart: hasStartSection(moduleBytes),
    pool: new InstancePool(module, snapshot, maximumPages, maxIdle, instrumented === undefined ? undefined : interruptImports),
  };
}

