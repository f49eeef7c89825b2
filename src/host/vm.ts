/**
 * A Nano-VM: one WebAssembly instance, its own memory, its own kernel state and limits.
 * `NanoVm.create` boots one for the synchronous path (`run`); `NanoVm.createAsync` boots one
 * whose blocking calls suspend the guest through JSPI (`runAsync`), so many VMs can wait on
 * the same thread. Either way the guest's behaviour never throws out of `run`: it is
 * reported in the RunResult.
 */
import { Kernel } from '../kernel/kernel.ts';
import { blockingOf, httpInterfaces, readyOf, serveIncoming, type Pollable } from '../kernel/p2/index.ts';
import type { ComponentSuspension } from './component/index.ts';
import { ListenerSocket } from '../kernel/socket.ts';
import { FileType } from '../kernel/abi.ts';
import { BufferInput, CaptureSink, HostFdInput, OutputBudget, OutputStream, hostFdSink, hostFileType, type OutputSink } from '../kernel/stdio.ts';
import { ProcExit, VmStop } from '../kernel/unwind.ts';
import { createFileSystem, type MountUsage } from '../kernel/vfs/index.ts';
import { NanovisorError, isNanovisorError } from '../shared/errors.ts';
import { RealmWaiter, SliceTimeout, realm, runInRealm } from './async-realm.ts';
import { GuestTimeout, callWithTimeout } from './interrupt.ts';
import { watchdog } from './interrupt/watchdog.ts';
import { interruptImports } from './interrupt/imports.ts';
import { START_EXPORT } from './interrupt/instrument.ts';
import {
  DEFAULT_MAX_OUTPUT, DEFAULT_WRITABLE_LAYER, EXIT_OUTPUT_LIMIT, EXIT_TIMEOUT, EXIT_TRAP, checkVmLimits,
  type Outcome, type OutputTarget, type RunResult, type VmOptions,
} from './options.ts';
import type { InstancePool, PoolMode, PooledInstance } from './pool.ts';
import type { PreparedModule } from './prepare.ts';
import { MEMORY_IMPORT } from './snapshot/types.ts';

function outputSink(target: OutputTarget | undefined, hostFd: number, capture: CaptureSink): OutputSink {
  if (target === undefined || target === 'capture') return capture.sink;
  if (target === 'inherit') return hostFdSink(hostFd);
  return target;
}

/** What the guest is told its stdout/stderr is: the host fd's real type when inherited. */
function outputType(target: OutputTarget | undefined, hostFd: number): FileType {
  return target === 'inherit' ? hostFileType(hostFd) : FileType.UNKNOWN;
}

interface Booted {
  kernel: Kernel;
  stdout: CaptureSink;
  stderr: CaptureSink;
  mountUsage: () => MountUsage[];
  waiter?: RealmWaiter;
}

function bootKernel(options: VmOptions, waiter?: () => RealmWaiter): Booted {
  const budget = new OutputBudget(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const stdout = new CaptureSink();
  const stderr = new CaptureSink();
  const stdin = options.stdin === 'inherit'
    ? new HostFdInput(0)
    : new BufferInput(typeof options.stdin === 'string' ? new TextEncoder().encode(options.stdin) : options.stdin ?? new Uint8Array());
  const fs = createFileSystem({
    ...(options.image === undefined ? {} : { image: options.image }),
    mounts: (options.mounts ?? []).map((m) => ({ hostPath: m.hostPath, guestPath: m.guestPath, readonly: m.readonly ?? true, ...(m.quota === undefined ? {} : { quota: m.quota }) })),
    writableLayerBytes: options.writableLayerBytes ?? DEFAULT_WRITABLE_LAYER,
  });
  const deadlineNs = options.timeoutMs === undefined ? undefined : process.hrtime.bigint() + BigInt(Math.ceil(options.timeoutMs * 1e6));
  const w = waiter?.();
  const kernel = new Kernel({
    args: options.args ?? ['main'],
    env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
    stdio: [
      stdin,
      new OutputStream(outputSink(options.stdout, 1, stdout), budget, outputType(options.stdout, 1)),
      new OutputStream(outputSink(options.stderr, 2, stderr), budget, outputType(options.stderr, 2)),
    ],
    preopens: [...(options.listeners ?? []).map((l) => new ListenerSocket(l)), ...fs.preopens],
    ...(deadlineNs === undefined ? {} : { deadlineNs }),
    ...(w === undefined ? {} : { waiter: w }),
  });
  return { kernel, stdout, stderr, mountUsage: fs.mountUsage, ...(w === undefined ? {} : { waiter: w }) };
}

/** Milliseconds the VM has left, or undefined without a time limit. */
function remainingMs(k: Kernel): number | undefined {
  return k.deadlineNs === undefined ? undefined : Math.max(1, Number(k.deadlineNs - process.hrtime.bigint()) / 1e6);
}

/** Time-limited synchronous slices this process has run before its watchdog thread was up. */
let syncDeadlineSlices = 0;

export class NanoVm {
  readonly kernel: Kernel;
  readonly #options: VmOptions;
  readonly #booted: Booted;
  readonly #startedAt: number;
  readonly #mode: PoolMode;
  readonly #interruptible: boolean;
  readonly #waiter: RealmWaiter | undefined;
  #instance: WebAssembly.Instance | undefined;
  /** Set when the instance came from a pool; it goes back when the VM ends. */
  #pooled: { pool: InstancePool; instance: PooledInstance } | undefined;
  /** Why instantiation failed (a start section that trapped or ran past the time limit); `run` reports it. */
  #bootFailure: { error: unknown } | undefined;
  #ran = false;
  /** Set when an interrupt check found the deadline passed: the guest's trap that follows is a timeout. */
  #timedOut = false;
  /** An instrumented module's former start function, still to run (see PooledInstance.start). */
  #start: Function | undefined;
  /** A component's exports (its instance is the glue's, not one WebAssembly.Instance). */
  #component: Record<string, Record<string, (...args: never[]) => unknown>> | undefined;
  /** Gives the component's pooled core instance back (a no-op when it has none). */
  #releaseComponent: ((reusable: boolean) => void) | undefined;
  #componentWorld: 'command' | 'http' | undefined;

  private constructor(booted: Booted, options: VmOptions, startedAt: number, mode: PoolMode, interruptible: boolean) {
    this.#interruptible = interruptible;
    this.kernel = booted.kernel;
    this.#booted = booted;
    this.#options = options;
    this.#startedAt = startedAt;
    this.#mode = mode;
    this.#waiter = booted.waiter;
  }

  /** Boots a VM for the synchronous path (the guest has not run yet, but for its start section). */
  static create(prepared: PreparedModule, options: VmOptions = {}): NanoVm {
    return NanoVm.#boot(prepared, options, 'sync');
  }

  /**
   * Boots a VM for the asynchronous path: its blocking calls (poll_oneoff) suspend the guest
   * with JSPI, so other VMs run on this thread while it waits. Run it with `runAsync`.
   */
  static createAsync(prepared: PreparedModule, options: VmOptions = {}): NanoVm {
    // Checked here, not at the first suspension: an engine without JSPI would throw a raw TypeError deep in the boot.
    const wasm = WebAssembly as unknown as { Suspending?: unknown; promising?: unknown };
    if (typeof wasm.Suspending !== 'function' || typeof wasm.promising !== 'function') {
      throw new NanovisorError('NV_HOST_NO_JSPI', `this engine (Node ${process.versions.node}) has no WebAssembly JS Promise Integration (WebAssembly.Suspending / promising), which the asynchronous path needs`);
    }
    return NanoVm.#boot(prepared, options, 'async');
  }

  /**
   * Boots the kernel and instantiates the module. Instantiation runs the module's start
   * section, which is guest code: it runs as the run's first slice, under the same time
   * limit, and a trap or timeout there is kept for `run` to report like any other.
   */
  static #boot(prepared: PreparedModule, options: VmOptions, mode: PoolMode): NanoVm {
    checkVmLimits(options);
    const startedAt = performance.now();
    let vm: NanoVm | undefined;
    const makeWaiter = mode === 'async'
      ? () => new RealmWaiter((fn) => vm!.#runSlice(fn, true, true), (e) => { if (vm !== undefined) vm.#failAsync(e); })
      : undefined;
    const booted = bootKernel(options, makeWaiter);
    const interruptible = prepared.component !== undefined ? prepared.component.interruptible : prepared.interruptible === true;
    vm = new NanoVm(booted, options, startedAt, mode, interruptible);
    const created = vm;
    try {
      if (prepared.hasStart === false) created.#instantiate(prepared);
      else created.#runSlice(() => created.#instantiate(prepared), mode === 'async');
    } catch (e) {
      if (isNanovisorError(e) && e.code === 'NV_MODULE_BAD_MEMORY') throw e;
      created.#bootFailure = { error: instantiationError(e) };
    }
    return created;
  }

  /** Takes an instance from the pool, or instantiates the module afresh. */
  #instantiate(prepared: PreparedModule): void {
    const { kernel } = this;
    if (prepared.component !== undefined) {
      const http = prepared.component.world === 'http';
      const waiter = this.#waiter;
      // Only a VM that may make a call needs to wait for one (and so a fresh, unpooled instance).
      const suspension = http && this.#mode === 'async' && waiter !== undefined && this.#options.outbound?.mayConnect === true ? this.#suspension(waiter) : undefined;
      const instance = prepared.component.instantiate(
        kernel,
        http ? httpInterfaces(kernel, blockingOf(kernel), this.#options.outbound, suspension !== undefined, waiter === undefined ? undefined : () => waiter.poke()) : undefined,
        () => this.#onInterrupt(),
        suspension,
      );
      this.#component = instance.exports;
      this.#releaseComponent = instance.release;
      this.#componentWorld = prepared.component.world;
      return;
    }
    if (prepared.pool !== undefined) {
      const pooled = prepared.pool.acquire(this.#mode, kernel, () => this.#onInterrupt());
      this.#pooled = { pool: prepared.pool, instance: pooled };
      this.#instance = pooled.instance;
      // The start section, taken out by the instrumentation: part of instantiation on the
      // synchronous path; on the asynchronous one it must run on a promising stack (runAsync).
      if (pooled.start !== undefined && this.#mode === 'sync') pooled.start();
      else this.#start = pooled.start;
      return;
    }
    const imports = this.#mode === 'async' ? kernel.imports(realm.suspending) : kernel.imports();
    let memory: WebAssembly.ExportValue | undefined;
    if (prepared.importedMemory !== undefined) {
      memory = new WebAssembly.Memory(prepared.importedMemory);
      imports[MEMORY_IMPORT.module] = { [MEMORY_IMPORT.name]: memory };
      kernel.bindMemory(memory);
    }
    if (prepared.interruptible === true) Object.assign(imports, interruptImports({ onInterrupt: () => this.#onInterrupt() }, this.#mode === 'async'));
    const instance = this.#mode === 'async'
      ? realm.instantiate(prepared.module, imports as WebAssembly.Imports)
      : new WebAssembly.Instance(prepared.module, imports as WebAssembly.Imports);
    // The start section, taken out by the instrumentation: as for pooled instances (above).
    const start = instance.exports[START_EXPORT];
    if (typeof start === 'function') {
      if (this.#mode === 'sync') start();
      else this.#start = start;
    }
    memory ??= instance.exports['memory'];
    // Memories from the guest realm are not instances of this realm's class: test by shape.
    if (typeof (memory as WebAssembly.Memory | undefined)?.grow !== 'function') {
      throw new NanovisorError('NV_MODULE_BAD_MEMORY', 'module does not export its memory as "memory"');
    }
    if (prepared.importedMemory === undefined) kernel.bindMemory(memory as WebAssembly.Memory);
    this.#instance = instance;
  }

  /**
   * How this component VM suspends (JSPI): a wait that finds nothing ready returns a promise
   * its waiter resolves once a pollable is ready (retried at the next clock time, every few ms
   * for descriptors, at once when poked by an arriving response), never past the deadline.
   */
  #suspension(waiter: RealmWaiter): ComponentSuspension {
    const state = blockingOf(this.kernel).suspend!;
    const deadline = this.kernel.deadlineNs;
    const wait = (pending: unknown): Promise<number> => {
      const list = pending as readonly Pollable[];
      const attempt = () => {
        if (readyOf(list).length > 0) return { done: 0 };
        const now = process.hrtime.bigint();
        if (deadline !== undefined && now >= deadline) throw new VmStop('timeout', 'guest ran past its time limit while waiting in wasi:io/poll');
        let wake = deadline ?? now + 1_000_000_000n;
        let other = false;
        for (const p of list) {
          if (p.at === undefined) other = true;
          else if (p.at < wake) wake = p.at;
        }
        const ms = Math.max(0, Number(wake - now) / 1e6);
        return { waitMs: other ? Math.min(ms, 5) : ms };
      };
      return waiter.wait(0, attempt);
    };
    return {
      wait: (fn) => realm.retrying(fn, state, wait),
      suspending: (fn) => realm.suspending(fn as (...args: never[]) => unknown),
      promising: (fn) => {
        const run = realm.promising(fn);
        return (...args: unknown[]) => {
          this.#handlerCall = (run as (...a: unknown[]) => Promise<unknown>)(...args);
        };
      },
    };
  }

  /** The pending call of a suspending component's handler (see #suspension). */
  #handlerCall: Promise<unknown> | undefined;

  /** The guest's WebAssembly instance. Throws when instantiation failed (run() reports why). */
  get instance(): WebAssembly.Instance {
    if (this.#instance === undefined) throw new NanovisorError('NV_HOST_FAULT', 'this Nano-VM failed to instantiate; run() reports why');
    return this.#instance;
  }

  #entries(): { init: Function | undefined; entry: Function } {
    if (this.#component !== undefined) {
      return { init: undefined, entry: this.#componentWorld === 'http' ? httpEntry(this.#component, this.kernel, () => this.#handlerCall) : commandEntry(this.#component) };
    }
    const exports = this.instance.exports;
    const entryName = this.#options.entry ?? '_start';
    const entry = exports[entryName];
    if (typeof entry !== 'function') {
      throw new NanovisorError('NV_MODULE_NO_ENTRY', `module has no exported function "${entryName}"`);
    }
    const init = exports['_initialize'];
    return { init: typeof init === 'function' && entryName !== '_start' ? init : undefined, entry };
  }

  #result(outcome: Outcome, exitCode: number, error?: NanovisorError): RunResult {
    const usage = this.#booted.mountUsage();
    return {
      outcome,
      exitCode,
      stdout: this.#booted.stdout.bytes(),
      stderr: this.#booted.stderr.bytes(),
      ...(error === undefined ? {} : { error }),
      durationMs: performance.now() - this.#startedAt,
      ...(usage.length === 0 ? {} : { mounts: usage }),
    };
  }

  /** Tears the VM down; the instance goes back to its pool unless it may be mid-flight. */
  #teardown(reusable: boolean): void {
    this.#waiter?.stop();
    this.kernel.shutdown();
    this.#releaseComponent?.(reusable);
    if (this.#pooled === undefined) return;
    if (reusable) this.#pooled.pool.release(this.#pooled.instance);
    else this.#pooled.pool.discard(this.#pooled.instance);
  }

  #claim(mode: PoolMode): void {
    if (this.#mode !== mode) {
      throw new NanovisorError('NV_HOST_FAULT', mode === 'sync' ? 'this VM was booted with createAsync: use runAsync()' : 'this VM was booted with create: use run()');
    }
    if (this.#ran) throw new NanovisorError('NV_HOST_FAULT', 'a Nano-VM runs once; boot a new one');
    this.#ran = true;
  }

  /**
   * Runs one slice of the guest under its time limit: through interrupt checks in the code
   * when the module has them (no per-call cost), else through a node:vm watchdog.
   * `preemptible`: the guest runs on a promising stack (asynchronous path), so a check may
   * suspend it when the slice has used its quantum (QUANTUM_MS); interrupt checks only.
   */
  #runSlice(fn: () => void, inRealm: boolean, preemptible = false): void {
    if (this.#interruptible && this.#watchdogServes(preemptible)) {
      const wd = watchdog();
      wd.begin(this.kernel.deadlineNs, preemptible);
      try {
        if (inRealm) runInRealm(fn, undefined);
        else fn();
      } finally {
        // Whether the guest was stopped is recorded by nv.yield when it decides (#onInterrupt),
        // never read back from the shared state word, which the next slice may own by then.
        wd.end();
      }
      return;
    }
    const ms = remainingMs(this.kernel);
    if (inRealm) runInRealm(fn, ms);
    else callWithTimeout(fn, ms);
  }

  /**
   * Whether this slice's limits go through the interrupt checks. A synchronous slice with a
   * deadline needs the watchdog thread, whose boot (a worker isolate, ~tens of ms) would be
   * most of a one-shot `nanovisor run`: until the thread is up, such a slice runs under
   * node:vm's timeout (a native thread, no isolate) and the second one starts the thread,
   * so a process that keeps running VMs soon has it (docs/performance.md, start-up).
   */
  #watchdogServes(preemptible: boolean): boolean {
    if (preemptible || this.kernel.deadlineNs === undefined) return true;
    const wd = watchdog();
    if (wd.ready) return true;
    if (syncDeadlineSlices++ > 0) wd.start();
    return false;
  }

  /**
   * What a flagged interrupt check gets (`nv.yield`): 1 to stop the guest when its deadline
   * has passed; on the asynchronous path, otherwise, a promise that resumes it in a new slice
   * on the next turn of the event loop (its quantum is used up: other guests, timers and I/O
   * run meanwhile). The synchronous path cannot yield; its slices have no quantum.
   */
  #onInterrupt(): number | Promise<number> {
    if (this.#pastDeadline()) return this.#stopForTimeout();
    if (this.#mode === 'async' && this.#waiter !== undefined) {
      return this.#waiter.yieldSlice(() => (this.#pastDeadline() ? this.#stopForTimeout() : 0));
    }
    watchdog().dismiss();
    return 0;
  }

  #pastDeadline(): boolean {
    const d = this.kernel.deadlineNs;
    return d !== undefined && process.hrtime.bigint() >= d;
  }

  #stopForTimeout(): number {
    this.#timedOut = true;
    return 1;
  }

  /** Whether an interrupt check stopped the guest at its deadline (its trap is a timeout). */
  get interrupted(): boolean {
    return this.#timedOut;
  }

  /** Runs the guest to completion and tears the VM down. Never throws for guest behaviour. */
  run(): RunResult {
    this.#claim('sync');
    try {
      if (this.#bootFailure !== undefined) throw this.#bootFailure.error;
      const { init, entry } = this.#entries();
      this.#runSlice(() => {
        if (init !== undefined) init();
        entry();
      }, false);
      return this.#result('exit', 0);
    } catch (e) {
      return classify(e, this);
    } finally {
      this.#teardown(true);
    }
  }

  #settleAsync: ((r: RunResult) => void) | undefined;

  /** Ends an asynchronous run from outside the guest's stack (a blocked call failed or timed out). */
  #failAsync(e: unknown): void {
    const settle = this.#settleAsync;
    if (settle === undefined) return;
    this.#settleAsync = undefined;
    this.#teardown(false);
    settle(classify(e, this));
  }

  /** Runs the guest on the asynchronous path; resolves when it ends. Never rejects for guest behaviour. */
  runAsync(): Promise<RunResult> {
    this.#claim('async');
    return new Promise<RunResult>((resolve) => {
      this.#settleAsync = resolve;
      const finish = (e: unknown | undefined): void => {
        const settle = this.#settleAsync;
        if (settle === undefined) return;
        this.#settleAsync = undefined;
        const result = e === undefined ? this.#result('exit', 0) : classify(e, this);
        this.#teardown(result.outcome !== 'timeout');
        settle(result);
      };
      try {
        if (this.#bootFailure !== undefined) throw this.#bootFailure.error;
        const { init, entry } = this.#entries();
        if (this.#component !== undefined) {
          // In the realm, so the guest's resumed code (after a suspended wait) runs under the
          // time limit too. A component whose waits cannot suspend runs in this one slice.
          this.#runSlice(() => {
            const pending = (entry as () => Promise<unknown> | undefined)();
            if (pending === undefined) finish(undefined);
            else pending.then(() => finish(undefined), (e: unknown) => finish(e));
          }, true);
          return;
        }
        const steps = [this.#start, init, entry].filter((f) => f !== undefined).map((f) => realm.promising(f));
        this.#start = undefined;
        // Each step (start function, _initialize, entry) starts in a slice of its own, from the
        // host's microtask queue: a promising call started from the realm's microtask queue
        // (a `.then` of the previous step) whose guest throws (proc_exit) crashes the process
        // with an uncatchable exception (V8/Node 24, vm context with its own microtask queue).
        const step = (k: number): void => {
          try {
            this.#runSlice(() => {
              steps[k]!().then(
                () => (k + 1 < steps.length ? queueMicrotask(() => step(k + 1)) : finish(undefined)),
                (e: unknown) => finish(e),
              );
            }, true, true);
          } catch (e) {
            finish(e);
          }
        };
        step(0);
      } catch (e) {
        finish(e);
      }
    });
  }

  /** For classify(): the options the VM was booted with. */
  get options(): VmOptions {
    return this.#options;
  }

  /** For classify(): builds the result. */
  result(outcome: Outcome, exitCode: number, error?: NanovisorError): RunResult {
    return this.#result(outcome, exitCode, error);
  }
}

/**
 * `wasi:cli/run.run` of a component. An `err` result without an exit call is exit code 1,
 * as wasmtime reports it.
 */
function commandEntry(exports: Record<string, Record<string, (...args: never[]) => unknown>>): () => void {
  const run = (exports['wasi:cli/run'] ?? Object.entries(exports).find(([k]) => k.startsWith('wasi:cli/run@'))?.[1] ?? exports['run'])?.['run'];
  if (typeof run !== 'function') throw new NanovisorError('NV_COMPONENT_NO_WORLD', 'component does not export wasi:cli/run');
  return () => {
    try {
      run();
    } catch (e) {
      if (e instanceof Error || (typeof e === 'object' && e !== null && 'name' in e)) throw e;
      throw new ProcExit(1);
    }
  };
}

/** `wasi:http/incoming-handler.handle` for the request in the VM's CGI environment (src/kernel/p2/http.ts). */
function httpEntry(exports: Record<string, Record<string, (...args: never[]) => unknown>>, kernel: Kernel, completion: () => Promise<unknown> | undefined): () => Promise<void> | undefined {
  const iface = exports['wasi:http/incoming-handler'] ?? Object.entries(exports).find(([k]) => k.startsWith('wasi:http/incoming-handler@'))?.[1] ?? exports['incomingHandler'];
  const handle = iface?.['handle'];
  if (typeof handle !== 'function') throw new NanovisorError('NV_COMPONENT_NO_WORLD', 'component does not export wasi:http/incoming-handler');
  return () => serveIncoming(kernel, handle as (req: unknown, out: unknown) => unknown, completion);
}

/** Errors from the guest's realm are not instances of this realm's classes: match by name. */
function errorName(e: unknown): string {
  return typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : '';
}

/**
 * A segment that does not fit its memory or table fails instantiation (the spec's
 * "instantiation error"): the module's fault, NV_MODULE_INVALID, not a guest trap or a host
 * fault. Other errors pass unchanged.
 */
function instantiationError(e: unknown): unknown {
  const message = String((e as { message?: unknown })?.message ?? '');
  const name = errorName(e);
  if ((name === 'RuntimeError' || name === 'RangeError' || name === 'LinkError') && /segment.*out of bounds/i.test(message)) {
    return new NanovisorError('NV_MODULE_INVALID', `module cannot be instantiated: ${message.replace(/^WebAssembly\.Instance\(\): /, '')}`, { cause: e });
  }
  return e;
}

function classify(e: unknown, vm: NanoVm): RunResult {
  const o = vm.options;
  if (e instanceof ProcExit) return vm.result('exit', e.exitCode);
  if (e instanceof GuestTimeout || e instanceof SliceTimeout || (e instanceof VmStop && e.reason === 'timeout') || vm.interrupted) {
    return vm.result('timeout', EXIT_TIMEOUT, new NanovisorError('NV_GUEST_TIMEOUT', `guest ran past its ${o.timeoutMs} ms time limit and was stopped`));
  }
  if (e instanceof VmStop && e.reason === 'output-limit') {
    const limit = o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    return vm.result('output-limit', EXIT_OUTPUT_LIMIT, new NanovisorError('NV_GUEST_OUTPUT_LIMIT', `guest wrote more than ${limit} bytes of output and was stopped`));
  }
  const name = errorName(e);
  const message = (e as { message?: unknown })?.message;
  if (name === 'RuntimeError' || name === 'SuspendError' || (name === 'RangeError' && /call stack/i.test(String(message)))) {
    return vm.result('trap', EXIT_TRAP, new NanovisorError('NV_GUEST_TRAP', `guest trapped: ${String(message)}`, { cause: e }));
  }
  if (isNanovisorError(e)) return vm.result('trap', EXIT_TRAP, e);
  return vm.result('trap', EXIT_TRAP, new NanovisorError('NV_HOST_FAULT', `host fault while running the guest: ${String(message ?? e)}`, { cause: e }));
}
