/**
 * The guest kernel: per-VM state (args, env, fd table, clocks) and the import object
 * `wasi_snapshot_preview1` built from one file per system-call family.
 *
 * Guest mistakes become errno values (GuestFault); only `proc_exit`, a VM stop (timeout,
 * output limit) or a host bug unwinds the guest.
 */
import { Errno, PREVIEW1_FUNCTIONS, WASI_MODULE } from './abi.ts';
import { SUSPENDING_CALLS, type AsyncWaiter } from './blocking.ts';
import type { Descriptor } from './descriptor.ts';
import { FdTable } from './fd-table.ts';
import { GuestFault, GuestMemory, encodeUtf8 } from './memory.ts';
import { SYSCALLS } from './syscalls/index.ts';

export { ProcExit, VmStop } from './unwind.ts';

export interface KernelOptions {
  /** Full argv, argv[0] included. */
  args: readonly string[];
  /** Environment as `KEY=VALUE` pairs, in order. */
  env: readonly string[];
  /** Descriptors 0, 1, 2. */
  stdio: readonly [Descriptor, Descriptor, Descriptor];
  /** Preopened directories and sockets, given fds 3, 4, ... in order. */
  preopens: readonly Descriptor[];
  maxFds?: number;
  /** process.hrtime.bigint() value at which the VM must stop; blocking calls never sleep past it. */
  deadlineNs?: bigint;
  /** Present on the asynchronous path: blocking calls suspend the guest through it. */
  waiter?: AsyncWaiter;
}

/** A system call: receives the kernel and the raw wasm arguments, returns an errno (or, on the asynchronous path, a promise of one). */
export type Syscall = (k: Kernel, ...args: never[]) => number | void | Promise<number>;

/** The import object shape: preview1 functions by name. */
export type ImportTable = Record<string, Record<string, unknown>>;

export class Kernel {
  readonly #argStrings: readonly string[];
  readonly #envStrings: readonly string[];
  #args: StringBlock | undefined;
  #env: StringBlock | undefined;
  readonly fds: FdTable;
  #memory: GuestMemory | undefined;
  /** Monotonic clock origin, so guests see small, increasing values. */
  readonly startNs: bigint;
  readonly deadlineNs: bigint | undefined;
  readonly waiter: AsyncWaiter | undefined;

  constructor(options: KernelOptions) {
    this.#argStrings = options.args;
    this.#envStrings = options.env;
    this.fds = new FdTable(options.maxFds);
    for (const d of options.stdio) this.fds.insert(d);
    for (const d of options.preopens) this.fds.insert(d);
    this.startNs = process.hrtime.bigint();
    this.deadlineNs = options.deadlineNs;
    this.waiter = options.waiter;
  }

  /** argv as one NUL-separated UTF-8 block, encoded on first use (many guests never ask). */
  get args(): StringBlock {
    return (this.#args ??= stringBlock(this.#argStrings));
  }

  /** The environment (`KEY=VALUE` strings) as one NUL-separated UTF-8 block, encoded on first use. */
  get env(): StringBlock {
    return (this.#env ??= stringBlock(this.#envStrings));
  }

  /** argv as given (the WASI 0.2 kernel hands it over as a list of strings). */
  get argStrings(): readonly string[] {
    return this.#argStrings;
  }

  /** The environment as `KEY=VALUE` strings, as given. */
  get envStrings(): readonly string[] {
    return this.#envStrings;
  }

  /** The guest's memory; bound after instantiation, before the guest runs. */
  get memory(): GuestMemory {
    if (this.#memory === undefined) throw new Error('kernel used before its memory was bound');
    return this.#memory;
  }

  bindMemory(memory: WebAssembly.Memory): void {
    this.#memory = new GuestMemory(memory);
  }

  /** The import object for `WebAssembly.instantiate`, bound to this kernel. */
  imports(suspending?: (fn: (...args: never[]) => unknown) => unknown): ImportTable {
    return slotImports({ kernel: this }, suspending);
  }

  /** Closes every descriptor; called when the VM is destroyed. */
  shutdown(): void {
    this.fds.closeAll();
  }
}

/**
 * A list of strings as the guest receives it: every string UTF-8 encoded and NUL-terminated,
 * back to back, and where each starts. One encode per list instead of one per string: a CGI
 * request carries a few dozen environment variables.
 */
export interface StringBlock {
  readonly bytes: Uint8Array;
  readonly starts: readonly number[];
}

function stringBlock(list: readonly string[]): StringBlock {
  const bytes = encodeUtf8(list.length === 0 ? '' : `${list.join('\0')}\0`);
  const starts: number[] = [];
  let at = 0;
  for (const s of list) {
    starts.push(at);
    // Lengths, not NUL positions: a string holding a NUL keeps the next string's start exact.
    at += Buffer.byteLength(s, 'utf8') + 1;
  }
  return { bytes, starts };
}

/**
 * Where a pooled instance finds the kernel of the VM it is serving right now: an instance's
 * imports are fixed at instantiation, while each VM that reuses it has its own kernel.
 */
export interface KernelSlot {
  kernel: Kernel | undefined;
}

/**
 * The preview1 import object, dispatching every call to `slot.kernel`. With `suspending`
 * (the asynchronous path), the calls that may block are wrapped by it — typically
 * `(fn) => new WebAssembly.Suspending(fn)` from the realm the guest runs in — and only
 * those: a suspending import costs far more per call than a plain one.
 */
export function slotImports(slot: KernelSlot, suspending?: (fn: (...args: never[]) => unknown) => unknown): ImportTable {
  const table: Record<string, unknown> = {};
  for (const name of PREVIEW1_FUNCTIONS) {
    const call = SYSCALLS[name];
    if (call === undefined) throw new Error(`kernel has no implementation of ${name}`);
    const bound = bindSyscall(slot, call as (k: Kernel, ...a: never[]) => number | void | Promise<number>);
    table[name] = suspending !== undefined && SUSPENDING_CALLS.has(name) ? suspending(bound) : bound;
  }
  return { [WASI_MODULE]: table };
}

function bindSyscall(slot: KernelSlot, call: (k: Kernel, ...a: never[]) => number | void | Promise<number>): (...args: never[]) => number | void | Promise<number> {
  return (...args: never[]) => {
    const k = slot.kernel;
    if (k === undefined) throw new Error('system call from an instance that is not serving a VM');
    try {
      return call(k, ...args) ?? Errno.SUCCESS;
    } catch (e) {
      if (e instanceof GuestFault) return e.errno;
      throw e;
    }
  };
}
