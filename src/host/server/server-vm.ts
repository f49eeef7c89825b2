/**
 * A long-running wasi server VM that can sleep and wake. The server accepts connections on
 * the listening socket preopened as fd 3. Its module was rewritten at build time by
 * Binaryen's asyncify pass (asyncify.ts): whenever the guest blocks in sock_accept with no
 * connection waiting, the call unwinds the guest's whole stack into a buffer in its own
 * memory and `_start` returns. The VM is then *parked*: all of its state is its memory, its
 * mutable globals (exported by the snapshot transform) and its kernel (fds), and nothing of
 * it is on any stack. A connection rewinds it (`_start` again, in rewind mode), and the
 * guest's sock_accept returns that connection as if it had blocked all along.
 *
 * Sleeping is a checkpoint of a parked VM: its memory's non-zero runs and its globals are
 * copied out, and the instance and memory are dropped (the kernel stays: its descriptors are
 * host state, a few objects). Waking instantiates the compiled module against a fresh memory
 * filled from the checkpoint, sets the globals, and rewinds: the state after the wake is the
 * state at the checkpoint, byte for byte.
 *
 * Between accepts the guest runs on the asynchronous (JSPI) path, as every VM of a shard
 * does: a guest waiting in poll_oneoff is suspended while others run. Each slice of guest
 * code runs under the deadline of the exchanges it is serving; a guest that spins past it is
 * stopped and the VM ends (`timeout`).
 */
import { FdFlags } from '../../kernel/abi.ts';
import { Kernel, slotImports, type KernelSlot } from '../../kernel/kernel.ts';
import { ListenerSocket } from '../../kernel/socket.ts';
import { BufferInput, OutputBudget, OutputStream } from '../../kernel/stdio.ts';
import { ProcExit } from '../../kernel/unwind.ts';
import { createFileSystem, type ImageTree } from '../../kernel/vfs/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { RealmWaiter, SliceTimeout, realm, runInRealm } from '../async-realm.ts';
import { interruptImports, type InterruptSlot } from '../interrupt/imports.ts';
import { watchdog } from '../interrupt/watchdog.ts';
import { DEFAULT_WRITABLE_LAYER, type Mount } from '../options.ts';
import { PAGE, nonZeroRuns } from '../snapshot/transform.ts';
import { MEMORY_IMPORT, type Snapshot, type SnapshotSegment } from '../snapshot/types.ts';
import { ASYNCIFY_DATA_BYTES, ASYNCIFY_EXPORTS } from './asyncify.ts';
import { ExchangeConnection, ExchangeListener } from './exchange-socket.ts';

export interface ServerVmOptions {
  /** Full argv, argv[0] included. */
  args: readonly string[];
  env?: Readonly<Record<string, string>>;
  mounts?: readonly Mount[];
  image?: ImageTree;
  writableLayerBytes?: number;
  /** Longest time from start to the first wait in sock_accept. */
  readyTimeoutMs: number;
  /** Told each chunk of the server's stdout/stderr (a server's output is its log, not a response). */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

/** How a server VM ended. */
export interface ServerEnd {
  reason: 'exit' | 'trap' | 'timeout' | 'stopped';
  exitCode?: number;
  message: string;
}

export type ServerVmState = 'starting' | 'parked' | 'running' | 'sleeping' | 'ended';

interface Checkpoint {
  pages: number;
  runs: SnapshotSegment[];
  globals: (number | bigint)[];
}

/** What a compiled server module needs to boot: the module (memory imported) and its boot snapshot. */
export interface ServerModule {
  module: WebAssembly.Module;
  snapshot: Snapshot;
  maximumPages: number;
  /** The module carries interrupt checks (src/host/interrupt): slices are bounded by the shared watchdog, not a node:vm timer each. */
  interruptible: boolean;
}

interface Asyncify {
  start_unwind(addr: number): void;
  stop_unwind(): void;
  start_rewind(addr: number): void;
  stop_rewind(): void;
}

export class ServerVm {
  readonly #m: ServerModule;
  readonly #o: ServerVmOptions;
  readonly #slot: KernelSlot & InterruptSlot;
  readonly #waiter: RealmWaiter;
  /** An interrupt check found the deadline passed: the trap that follows is a timeout. */
  #timedOut = false;
  readonly #kernel: Kernel;
  readonly #listener = new ExchangeListener();
  readonly #listenerFd: number;
  #instance: WebAssembly.Instance | undefined;
  #imports: Record<string, Record<string, unknown>> | undefined;
  #memory: WebAssembly.Memory | undefined;
  #asyncify: Asyncify | undefined;
  /** Where the unwound stack is kept in the guest's memory (a page the host grew at the first park). */
  #dataAddr = 0;
  #state: ServerVmState = 'starting';
  #unwinding = false;
  #rewinding = false;
  #checkpoint: Checkpoint | undefined;
  /** Deadlines (hrtime ns) of the exchanges in flight: a slice may run until the earliest. */
  readonly #deadlines = new Map<ExchangeConnection, bigint>();
  #startDeadline: bigint;
  #ready: { resolve(): void; reject(e: Error): void } | undefined;
  #end: ServerEnd | undefined;
  readonly #ended: Promise<ServerEnd>;
  #resolveEnded!: (e: ServerEnd) => void;
  /** Whole-VM counters, for the instance's metrics. */
  readonly counters = { wakes: 0, sleeps: 0, exchanges: 0, checkpointBytes: 0 };

  constructor(m: ServerModule, o: ServerVmOptions) {
    this.#m = m;
    this.#o = o;
    this.#slot = { kernel: undefined, onInterrupt: () => this.#onInterrupt() };
    const fs = createFileSystem({
      ...(o.image === undefined ? {} : { image: o.image }),
      mounts: (o.mounts ?? []).map((mt) => ({ hostPath: mt.hostPath, guestPath: mt.guestPath, readonly: mt.readonly ?? true, ...(mt.quota === undefined ? {} : { quota: mt.quota }) })),
      writableLayerBytes: o.writableLayerBytes ?? DEFAULT_WRITABLE_LAYER,
    });
    // A server's output is its log: never a budget that would stop it.
    const budget = new OutputBudget(Number.MAX_SAFE_INTEGER);
    const out = (stream: 'stdout' | 'stderr') => (chunk: Uint8Array): void => o.onOutput?.(stream, Buffer.from(chunk).toString('utf8'));
    const waiter = new RealmWaiter((fn) => this.#slice(fn), (e) => this.#fail(e));
    this.#waiter = waiter;
    this.#kernel = new Kernel({
      args: o.args,
      env: Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`),
      stdio: [new BufferInput(new Uint8Array()), new OutputStream(out('stdout'), budget), new OutputStream(out('stderr'), budget)],
      preopens: [new ListenerSocket(this.#listener), ...fs.preopens],
      waiter,
    });
    this.#listenerFd = 3;
    this.#slot.kernel = this.#kernel;
    this.#startDeadline = process.hrtime.bigint() + BigInt(Math.ceil(o.readyTimeoutMs * 1e6));
    this.#ended = new Promise((resolve) => (this.#resolveEnded = resolve));
  }

  get state(): ServerVmState {
    return this.#state;
  }

  /** Resolves when the VM ends, however it ends. */
  get ended(): Promise<ServerEnd> {
    return this.#ended;
  }

  /** A copy of the VM's whole state outside its kernel, its memory and mutable globals (undefined while asleep): for tests. */
  stateImage(): { memory: Uint8Array; globals: (number | bigint)[] } | undefined {
    if (this.#memory === undefined || this.#instance === undefined) return undefined;
    const ex = this.#instance.exports;
    return { memory: new Uint8Array(this.#memory.buffer).slice(), globals: this.#m.snapshot.globals.map((g) => (ex[g.exportName] as WebAssembly.Global).value as number | bigint) };
  }

  /** Bytes of memory the VM holds now (0 while it sleeps), and of its checkpoint. */
  get memoryBytes(): number {
    return this.#memory?.buffer.byteLength ?? 0;
  }

  /**
   * Boots the server and resolves once it first waits in sock_accept (it is ready); rejects
   * when it ends first or is not ready within `readyTimeoutMs`.
   */
  start(): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => (this.#ready = { resolve, reject }));
    // Slices stop at the deadline; a start-up that waits (poll_oneoff) past it is stopped here.
    const timer = setTimeout(() => {
      if (this.#ready !== undefined) this.#finish({ reason: 'timeout', message: `the server was not ready within ${this.#o.readyTimeoutMs} ms` });
    }, this.#o.readyTimeoutMs);
    void ready.then(() => clearTimeout(timer), () => clearTimeout(timer));
    try {
      this.#boot(this.#m.snapshot.initialPages, this.#m.snapshot.segments, this.#m.snapshot.globals.map((g) => (g.type === 'i64' ? BigInt(g.value) : Number(g.value))));
      this.#run();
    } catch (e) {
      this.#fail(e);
    }
    return ready;
  }

  /**
   * Hands the VM one connection carrying `request` and resolves with what the guest sent on
   * it. A parked VM is rewound at once, a sleeping one woken first. Rejects with
   * NV_GUEST_TIMEOUT past `timeoutMs`, NV_GUEST_OUTPUT_LIMIT past `maxResponseBytes`, and
   * NV_INSTANCE_UNAVAILABLE when the VM ends (or has ended) before answering.
   */
  exchange(request: Uint8Array, o: { timeoutMs: number; maxResponseBytes: number }): Promise<Uint8Array> {
    if (this.#state === 'ended') return Promise.reject(this.#unavailable());
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.abandon();
        this.#deadlines.delete(conn);
        reject(new NanovisorError('NV_GUEST_TIMEOUT', `the server did not answer within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
      const conn = new ExchangeConnection(request, o.maxResponseBytes, (r) => {
        clearTimeout(timer);
        this.#deadlines.delete(conn);
        if ('response' in r) resolve(r.response);
        else if (r.error === 'too-large') reject(new NanovisorError('NV_GUEST_OUTPUT_LIMIT', `the server's response is larger than ${o.maxResponseBytes} bytes`));
        else if (r.error === 'timeout') reject(new NanovisorError('NV_GUEST_TIMEOUT', `the server ran past the ${o.timeoutMs} ms limit of a request and was stopped`));
        else reject(this.#unavailable());
      });
      this.counters.exchanges++;
      this.#deadlines.set(conn, process.hrtime.bigint() + BigInt(Math.ceil(o.timeoutMs * 1e6)));
      this.#listener.push(conn);
      try {
        if (this.#state === 'sleeping') this.#wake();
        else if (this.#state === 'parked') this.#rewind();
      } catch (e) {
        this.#fail(e);
      }
    });
  }

  /**
   * Puts a parked VM to sleep: checkpoints its memory and globals and drops the instance.
   * Returns false (and does nothing) unless it is parked with no connection waiting.
   */
  sleep(): boolean {
    if (this.#state !== 'parked' || this.#listener.pending()) return false;
    const memory = this.#memory!;
    const exports = this.#instance!.exports;
    const runs = nonZeroRuns(new Uint8Array(memory.buffer));
    this.#checkpoint = {
      pages: memory.buffer.byteLength / PAGE,
      runs,
      globals: this.#m.snapshot.globals.map((g) => (exports[g.exportName] as WebAssembly.Global).value as number | bigint),
    };
    this.counters.checkpointBytes = runs.reduce((n, r) => n + r.bytes.byteLength, 0);
    this.counters.sleeps++;
    this.#instance = undefined;
    this.#memory = undefined;
    this.#asyncify = undefined;
    this.#state = 'sleeping';
    return true;
  }

  /**
   * Wakes a sleeping VM without a connection: restores its checkpoint, and it is parked in
   * sock_accept again, as when it slept (the next exchange rewinds it). False when it was not asleep.
   */
  restore(): boolean {
    if (this.#state !== 'sleeping') return false;
    const c = this.#checkpoint!;
    this.#checkpoint = undefined;
    this.counters.wakes++;
    this.#boot(c.pages, c.runs, c.globals);
    this.#state = 'parked';
    if (this.#listener.pending()) this.#rewind();
    return true;
  }

  /** Ends the VM (shutdown, a replaced version); connections still open fail. */
  stop(): void {
    this.#finish({ reason: 'stopped', message: 'the server instance was stopped' });
  }

  #unavailable(): NanovisorError {
    const e = this.#end;
    return new NanovisorError('NV_INSTANCE_UNAVAILABLE', e === undefined ? 'the server instance ended' : `the server instance ended: ${e.message}`);
  }

  #wake(): void {
    const c = this.#checkpoint!;
    this.#checkpoint = undefined;
    this.counters.wakes++;
    this.#boot(c.pages, c.runs, c.globals);
    this.#rewind();
  }

  /** A fresh instance over a fresh memory holding `runs`, its globals set to `globals`. */
  #boot(pages: number, runs: readonly SnapshotSegment[], globals: readonly (number | bigint)[]): void {
    const memory = new WebAssembly.Memory({ initial: pages, maximum: Math.max(pages, this.#m.maximumPages) });
    const view = new Uint8Array(memory.buffer);
    for (const r of runs) view.set(r.bytes, r.offset);
    const imports = this.#imports ??= this.#importTable();
    imports[MEMORY_IMPORT.module] = { [MEMORY_IMPORT.name]: memory };
    const instance = realm.instantiate(this.#m.module, imports as WebAssembly.Imports);
    const ex = instance.exports;
    this.#m.snapshot.globals.forEach((g, i) => {
      (ex[g.exportName] as WebAssembly.Global).value = globals[i]!;
    });
    this.#asyncify = {
      start_unwind: ex[ASYNCIFY_EXPORTS.startUnwind] as (a: number) => void,
      stop_unwind: ex[ASYNCIFY_EXPORTS.stopUnwind] as () => void,
      start_rewind: ex[ASYNCIFY_EXPORTS.startRewind] as (a: number) => void,
      stop_rewind: ex[ASYNCIFY_EXPORTS.stopRewind] as () => void,
    };
    this.#kernel.bindMemory(memory);
    this.#instance = instance;
    this.#memory = memory;
  }

  /** The kernel's imports (bound to this VM's slot, so one table serves every boot), sock_accept parking. */
  #importTable(): Record<string, Record<string, unknown>> {
    const imports = slotImports(this.#slot, realm.suspending);
    const wasi = imports['wasi_snapshot_preview1']!;
    const accept = wasi['sock_accept'] as (fd: number, flags: number, out: number) => number;
    wasi['sock_accept'] = (fd: number, flags: number, out: number): number => this.#accept(accept, fd, flags, out);
    if (this.#m.interruptible) Object.assign(imports, interruptImports(this.#slot, true));
    return imports;
  }

  /**
   * sock_accept as the guest sees it. Blocking on the listener with nothing waiting parks
   * the VM (unwinds); the call made again while rewinding ends the rewind and accepts.
   */
  #accept(accept: (fd: number, flags: number, out: number) => number, fd: number, flags: number, out: number): number {
    if (this.#rewinding) {
      this.#rewinding = false;
      this.#asyncify!.stop_rewind();
      return accept(fd, flags, out);
    }
    const blocking = (fd >>> 0) === this.#listenerFd && this.#kernel.fds.has(fd) && (this.#kernel.fds.get(fd).fdflags & FdFlags.NONBLOCK) === 0;
    if (!blocking || this.#listener.pending()) return accept(fd, flags, out);
    if (this.#dataAddr === 0) {
      const pages = ASYNCIFY_DATA_BYTES / PAGE;
      const at = this.#memory!.grow(pages);
      this.#dataAddr = at * PAGE;
    }
    // The asyncify data header: where the saved stack goes next, and where the buffer ends.
    const header = new DataView(this.#memory!.buffer, this.#dataAddr, 8);
    header.setUint32(0, this.#dataAddr + 8, true);
    header.setUint32(4, this.#dataAddr + ASYNCIFY_DATA_BYTES, true);
    this.#unwinding = true;
    this.#asyncify!.start_unwind(this.#dataAddr);
    return 0;
  }

  /** Runs `_start` (first boot, or a rewind) on a promising stack. */
  #run(): void {
    const start = realm.promising(this.#instance!.exports['_start'] as Function);
    this.#slice(() => {
      start().then(() => this.#returned(), (e: unknown) => this.#fail(e));
    });
  }

  #rewind(): void {
    this.#state = 'running';
    this.#rewinding = true;
    this.#asyncify!.start_rewind(this.#dataAddr);
    this.#run();
  }

  /** `_start` returned: either the guest parked in sock_accept, or main returned without exit. */
  #returned(): void {
    if (this.#state === 'ended') return;
    if (!this.#unwinding) {
      this.#finish({ reason: 'exit', exitCode: 0, message: 'the server returned from _start' });
      return;
    }
    this.#unwinding = false;
    this.#asyncify!.stop_unwind();
    this.#state = 'parked';
    const ready = this.#ready;
    this.#ready = undefined;
    ready?.resolve();
    // Connections that came while it ran: serve the next one now.
    if (this.#listener.pending()) queueMicrotask(() => {
      try {
        if (this.#state === 'parked' && this.#listener.pending()) this.#rewind();
      } catch (e) {
        this.#fail(e);
      }
    });
  }

  /** The earliest deadline the guest's code now serves (start-up, or the exchanges in flight). */
  #deadline(): bigint | undefined {
    let deadline: bigint | undefined = this.#ready === undefined ? undefined : this.#startDeadline;
    for (const d of this.#deadlines.values()) if (deadline === undefined || d < deadline) deadline = d;
    return deadline;
  }

  /**
   * One slice of guest code, under the earliest deadline it serves: through the module's
   * interrupt checks and the shared watchdog (preemptible: a slice that used its quantum
   * yields to other guests), else through a node:vm timeout (~0.5 ms per slice).
   */
  #slice(fn: () => void): void {
    const deadline = this.#deadline();
    if (this.#m.interruptible) {
      const wd = watchdog();
      wd.begin(deadline, true);
      try {
        runInRealm(fn, undefined);
      } finally {
        wd.end();
      }
      return;
    }
    runInRealm(fn, deadline === undefined ? undefined : Math.max(1, Number(deadline - process.hrtime.bigint()) / 1e6));
  }

  /** What a flagged interrupt check gets: 1 (stop) past the deadline, else a yield to the event loop. */
  #onInterrupt(): number | Promise<number> {
    const past = (): boolean => {
      const d = this.#deadline();
      return d !== undefined && process.hrtime.bigint() >= d;
    };
    if (past()) {
      this.#timedOut = true;
      return 1;
    }
    return this.#waiter.yieldSlice(() => (past() ? ((this.#timedOut = true), 1) : 0));
  }

  #fail(e: unknown): void {
    if (e instanceof ProcExit) {
      this.#finish({ reason: 'exit', exitCode: e.exitCode, message: `the server exited with code ${e.exitCode}` });
    } else if (e instanceof SliceTimeout || this.#timedOut) {
      this.#finish({ reason: 'timeout', message: this.#ready === undefined ? 'the server ran past the time limit of a request and was stopped' : `the server was not ready within ${this.#o.readyTimeoutMs} ms` });
    } else {
      const message = String((e as { message?: unknown })?.message ?? e);
      this.#finish({ reason: 'trap', message: `the server trapped: ${message}` });
    }
  }

  #finish(end: ServerEnd): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#end = end;
    this.#instance = undefined;
    this.#memory = undefined;
    this.#checkpoint = undefined;
    this.#waiter.stop();
    this.#slot.onInterrupt = undefined;
    this.#listener.failAll(end.reason === 'timeout');
    this.#kernel.shutdown();
    const ready = this.#ready;
    this.#ready = undefined;
    ready?.reject(new NanovisorError(end.reason === 'timeout' ? 'NV_GUEST_TIMEOUT' : 'NV_GUEST_EXIT', `${end.message} before it was ready`));
    this.#resolveEnded(end);
  }
}
