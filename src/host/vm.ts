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
import { applyMemoryLimit } from './memory-limit.ts';

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

/** A module compiled once with its limits applied; reusable for many VMs. */
export interface PreparedModule {
  readonly module: WebAssembly.Module;
  readonly memoryLimitBytes: number;
}

/** Validates and compiles module bytes with the memory limit enforced by the engine. */
export function prepareModule(bytes: Uint8Array, memoryLimitBytes = DEFAULT_MEMORY_LIMIT): PreparedModule {
  if (bytes.byteLength < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new NanovisorError('NV_MODULE_MALFORMED', 'not a WebAssembly module (bad magic number)');
  }
  const limited = applyMemoryLimit(bytes, memoryLimitBytes);
  try {
    return { module: new WebAssembly.Module(limited), memoryLimitBytes };
  } catch (e) {
    throw new NanovisorError('NV_MODULE_MALFORMED', `invalid WebAssembly module: ${(e as Error).message}`, { cause: e });
  }
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

  private constructor(kernel: Kernel, instance: WebAssembly.Instance, options: VmOptions, captures: [CaptureSink, CaptureSink], startedAt: number) {
    this.kernel = kernel;
    this.instance = instance;
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
    const instance = new WebAssembly.Instance(prepared.module, kernel.imports() as WebAssembly.Imports);
    const memory = instance.exports['memory'];
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
