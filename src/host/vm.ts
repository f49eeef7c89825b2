/**
 * A Nano-VM: one WebAssembly instance, its own memory, its own kernel state and limits.
 * `NanoVm.create` wires the kernel (stdio, filesystem, args, env) to a compiled module;
 * `run` calls the entry point and reports how the guest ended.
 */
import { Kernel } from '../kernel/kernel.ts';
import { BufferInput, CaptureSink, HostFdInput, OutputBudget, OutputStream, hostFdSink, type OutputSink } from '../kernel/stdio.ts';
import { ListenerSocket, type ListenerBackend } from '../kernel/socket.ts';
import { ProcExit, VmStop } from '../kernel/unwind.ts';
import { createFileSystem, type ImageTree } from '../kernel/vfs/index.ts';
import { NanovisorError, isNanovisorError } from '../shared/errors.ts';
import { GuestTimeout, callWithTimeout } from './interrupt.ts';
import { MAX_PAGES, WASM_PAGE, applyMemoryLimit, memoryLimitsOf } from './memory-limit.ts';
import { InstancePool, type PooledInstance } from './pool.ts';
import { SnapshotUnsupported, extractSnapshot, type SnapshotModule } from './snapshot/transform.ts';
import { MEMORY_IMPORT, type Snapshot } from './snapshot/types.ts';
import { WasmBinaryError } from '../shared/wasm-binary.ts';

export const DEFAULT_MEMORY_LIMIT = 256 * 1024 * 1024;
export const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;
export const DEFAULT_WRITABLE_LAYER = 64 * 1024 * 1024;

/** Exit codes the host reports when the guest did not exit by itself (as shells do). */
export const EXIT_TRAP = 134;
export const EXIT_TIMEOUT = 124;
export const EXIT_OUTPUT_LIMIT = 125;

export interface Mount {
  /** Host directory; must exist. */
  hostPath: string;
  /** Where the guest sees it; also the preopen's name (may be relative, e.g. `scratch`). */
  guestPath: string;
  /** Default true: guests write only where a mount says so. */
  readonly?: boolean;
}

export type OutputTarget = 'capture' | 'inherit' | OutputSink;

/**
 * How to boot a VM. Every field is optional and the defaults are the secure ones:
 * no environment, no directories, no network, stdin empty, output captured with a
 * 16 MiB budget, 256 MiB of memory, a 64 MiB writable layer; no time limit unless given.
 *
 * @example
 * const r = await runWasm(bytes, { args: ['app', '--verbose'], env: { LANG: 'C' }, timeoutMs: 1000 });
 * console.log(r.exitCode, new TextDecoder().decode(r.stdout));
 */
export interface VmOptions {
  /** Full argv, argv[0] included. Default: `['main']`. */
  args?: readonly string[];
  /** Environment variables. Default: none. */
  env?: Readonly<Record<string, string>>;
  /** Bytes or text for stdin, or `'inherit'` for the host's own stdin. Default: empty. */
  stdin?: Uint8Array | string | 'inherit';
  stdout?: OutputTarget;
  stderr?: OutputTarget;
  /** Host directories the guest may see. Default: none. */
  mounts?: readonly Mount[];
  /** Listening sockets the guest gets as preopens (fd 3, 4, ... before directories). Default: none. */
  listeners?: readonly ListenerBackend[];
  /** The image's files as the read-only root (with a writable CoW layer per VM). */
  image?: ImageTree;
  /** Memory limit in bytes; growing past it fails inside the guest. */
  memoryLimitBytes?: number;
  /** Wall-clock limit in ms for the whole run. Default: none. */
  timeoutMs?: number;
  /** Budget for stdout + stderr together; the VM is stopped when it is spent. */
  maxOutputBytes?: number;
  /** Quota of the VM's writable filesystem layer. */
  writableLayerBytes?: number;
  /** Export to call. Default `_start`; reactors (`_initialize`) are initialised first. */
  entry?: string;
}

export type Outcome = 'exit' | 'trap' | 'timeout' | 'output-limit';

export interface RunResult {
  outcome: Outcome;
  /** The guest's exit code, or EXIT_TRAP / EXIT_TIMEOUT / EXIT_OUTPUT_LIMIT. */
  exitCode: number;
  /** Captured output (empty when the target was not `capture`). */
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** Why the guest did not exit by itself. */
  error?: NanovisorError;
  durationMs: number;
}

/**
 * A module compiled once with its limits applied; reusable for many VMs. With a snapshot,
 * VMs boot from the instance pool; without one, each VM instantiates the module afresh.
 */
export interface PreparedModule {
  readonly module: WebAssembly.Module;
  readonly memoryLimitBytes: number;
  readonly pool?: InstancePool;
  readonly snapshot?: Snapshot;
  /** For modules that import their memory (`env.memory`) but carry no snapshot: its limits. */
  readonly importedMemory?: { initial: number; maximum: number };
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

function checkMagic(bytes: Uint8Array): void {
  if (bytes.byteLength < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new NanovisorError('NV_MODULE_MALFORMED', 'not a WebAssembly module (bad magic number)');
  }
}

function compile(bytes: Uint8Array): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes);
  } catch (e) {
    throw new NanovisorError('NV_MODULE_MALFORMED', `invalid WebAssembly module: ${(e as Error).message}`, { cause: e });
  }
}

/** Validates and compiles module bytes with the memory limit enforced by the engine. */
export function prepareModule(bytes: Uint8Array, memoryLimitBytes = DEFAULT_MEMORY_LIMIT, options: PrepareOptions = {}): PreparedModule {
  checkMagic(bytes);
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
  return limits === undefined
    ? { module, memoryLimitBytes }
    : { module, memoryLimitBytes, importedMemory: { initial: limits.min, maximum: limits.max ?? MAX_PAGES } };
}

/** Prepares a snapshot module (memory imported, data in `snapshot`), e.g. from an image's layers. */
export function prepareSnapshot(moduleBytes: Uint8Array, snapshot: Snapshot, memoryLimitBytes = DEFAULT_MEMORY_LIMIT, maxIdle?: number): PreparedModule {
  checkMagic(moduleBytes);
  const limitPages = Math.min(MAX_PAGES, Math.floor(memoryLimitBytes / WASM_PAGE));
  if (snapshot.initialPages > limitPages) {
    throw new NanovisorError('NV_GUEST_MEMORY_LIMIT', `module needs ${snapshot.initialPages * 64} KiB of memory at start; the limit is ${limitPages * 64} KiB`);
  }
  const maximumPages = Math.min(snapshot.maximumPages ?? MAX_PAGES, limitPages);
  const module = compile(moduleBytes);
  return { module, memoryLimitBytes, snapshot, pool: new InstancePool(module, snapshot, maximumPages, maxIdle) };
}

function outputSink(target: OutputTarget | undefined, hostFd: number, capture: CaptureSink): OutputSink {
  if (target === undefined || target === 'capture') return capture.sink;
  if (target === 'inherit') return hostFdSink(hostFd);
  return target;
}

export class NanoVm {
  readonly kernel: Kernel;
  readonly instance: WebAssembly.Instance;
  readonly #options: VmOptions;
  readonly #stdout: CaptureSink;
  readonly #stderr: CaptureSink;
  readonly #startedAt: number;
  /** Set when the instance came from a pool; it goes back when the VM ends. */
  readonly #pooled: { pool: InstancePool; instance: PooledInstance } | undefined;

  private constructor(kernel: Kernel, instance: WebAssembly.Instance, options: VmOptions, captures: [CaptureSink, CaptureSink], startedAt: number, pooled?: { pool: InstancePool; instance: PooledInstance }) {
    this.kernel = kernel;
    this.instance = instance;
    this.#pooled = pooled;
    this.#options = options;
    [this.#stdout, this.#stderr] = captures;
    this.#startedAt = startedAt;
  }

  /** Boots a VM from a prepared module (instantiation included; the guest has not run yet). */
  static create(prepared: PreparedModule, options: VmOptions = {}): NanoVm {
    const startedAt = performance.now();
    const budget = new OutputBudget(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
    const stdoutCapture = new CaptureSink();
    const stderrCapture = new CaptureSink();
    const stdin = options.stdin === 'inherit'
      ? new HostFdInput(0)
      : new BufferInput(typeof options.stdin === 'string' ? new TextEncoder().encode(options.stdin) : options.stdin ?? new Uint8Array());
    const fs = createFileSystem({
      ...(options.image === undefined ? {} : { image: options.image }),
      mounts: (options.mounts ?? []).map((m) => ({ hostPath: m.hostPath, guestPath: m.guestPath, readonly: m.readonly ?? true })),
      writableLayerBytes: options.writableLayerBytes ?? DEFAULT_WRITABLE_LAYER,
    });
    const deadlineNs = options.timeoutMs === undefined ? undefined : process.hrtime.bigint() + BigInt(Math.ceil(options.timeoutMs * 1e6));
    const kernel = new Kernel({
      args: options.args ?? ['main'],
      env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
      stdio: [
        stdin,
        new OutputStream(outputSink(options.stdout, 1, stdoutCapture), budget),
        new OutputStream(outputSink(options.stderr, 2, stderrCapture), budget),
      ],
      preopens: [...(options.listeners ?? []).map((l) => new ListenerSocket(l)), ...fs.preopens],
      ...(deadlineNs === undefined ? {} : { deadlineNs }),
    });
    if (prepared.pool !== undefined) {
      const pooled = prepared.pool.acquire();
      pooled.slot.kernel = kernel;
      kernel.bindMemory(pooled.memory);
      return new NanoVm(kernel, pooled.instance, options, [stdoutCapture, stderrCapture], startedAt, { pool: prepared.pool, instance: pooled });
    }
    const imports = kernel.imports() as WebAssembly.Imports;
    let memory: WebAssembly.ExportValue | undefined;
    if (prepared.importedMemory !== undefined) {
      memory = new WebAssembly.Memory(prepared.importedMemory);
      imports[MEMORY_IMPORT.module] = { [MEMORY_IMPORT.name]: memory };
    }
    const instance = new WebAssembly.Instance(prepared.module, imports);
    memory ??= instance.exports['memory'];
    if (!(memory instanceof WebAssembly.Memory)) {
      throw new NanovisorError('NV_MODULE_BAD_MEMORY', 'module does not export its memory as "memory"');
    }
    kernel.bindMemory(memory);
    return new NanoVm(kernel, instance, options, [stdoutCapture, stderrCapture], startedAt);
  }

  /** Runs the guest to completion and tears the VM down. Never throws for guest behaviour. */
  run(): RunResult {
    const out = this.#stdout;
    const err = this.#stderr;
    const entryName = this.#options.entry ?? '_start';
    const exports = this.instance.exports;
    const result = (outcome: Outcome, exitCode: number, error?: NanovisorError): RunResult => ({
      outcome,
      exitCode,
      stdout: out.bytes(),
      stderr: err.bytes(),
      ...(error === undefined ? {} : { error }),
      durationMs: performance.now() - this.#startedAt,
    });
    try {
      const init = exports['_initialize'];
      const entry = exports[entryName];
      if (typeof entry !== 'function') {
        throw new NanovisorError('NV_MODULE_NO_ENTRY', `module has no exported function "${entryName}"`);
      }
      const remaining = this.kernel.deadlineNs === undefined
        ? undefined
        : Math.max(1, Number(this.kernel.deadlineNs - process.hrtime.bigint()) / 1e6);
      callWithTimeout(() => {
        if (typeof init === 'function' && entryName !== '_start') (init as () => void)();
        (entry as () => void)();
      }, remaining);
      return result('exit', 0);
    } catch (e) {
      return classify(e, result, this.#options);
    } finally {
      this.kernel.shutdown();
      if (this.#pooled !== undefined) this.#pooled.pool.release(this.#pooled.instance);
    }
  }
}

function classify(e: unknown, result: (o: Outcome, code: number, err?: NanovisorError) => RunResult, o: VmOptions): RunResult {
  if (e instanceof ProcExit) return result('exit', e.exitCode);
  if (e instanceof GuestTimeout || (e instanceof VmStop && e.reason === 'timeout')) {
    return result('timeout', EXIT_TIMEOUT, new NanovisorError('NV_GUEST_TIMEOUT', `guest ran past its ${o.timeoutMs} ms time limit and was stopped`));
  }
  if (e instanceof VmStop && e.reason === 'output-limit') {
    const limit = o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    return result('output-limit', EXIT_OUTPUT_LIMIT, new NanovisorError('NV_GUEST_OUTPUT_LIMIT', `guest wrote more than ${limit} bytes of output and was stopped`));
  }
  if (e instanceof WebAssembly.RuntimeError || (e instanceof RangeError && /call stack/i.test(e.message))) {
    return result('trap', EXIT_TRAP, new NanovisorError('NV_GUEST_TRAP', `guest trapped: ${e.message}`, { cause: e }));
  }
  if (isNanovisorError(e)) return result('trap', EXIT_TRAP, e);
  return result('trap', EXIT_TRAP, new NanovisorError('NV_HOST_FAULT', `host fault while running the guest: ${(e as Error)?.message ?? String(e)}`, { cause: e }));
}
