/**
 * The realm where asynchronous (JSPI) guests run: a node:vm context whose microtasks run
 * inside `runInContext`. Resuming a suspended guest is a microtask, so running the resume
 * through `runInContext` with a timeout puts the guest's resumed code under the same
 * wall-clock limit as its first slice: a guest that spins after waiting is still stopped.
 */
import vm from 'node:vm';
import type { AsyncWaiter, Attempt } from '../kernel/blocking.ts';

interface Deferred {
  promise: Promise<number>;
  resolve(value: number): void;
}

interface RealmHelpers {
  suspending(fn: (...args: never[]) => unknown): unknown;
  promising(fn: Function): () => Promise<unknown>;
  instantiate(module: WebAssembly.Module, imports: WebAssembly.Imports): WebAssembly.Instance;
  deferred(): Deferred;
  /**
   * A component trampoline that may suspend (wasi:io poll / pollable.block): runs it armed;
   * when it left pollables pending, returns a promise (of this realm, so its continuation runs
   * under the slice's time limit) that waits for them and runs it again, until none is left.
   */
  retrying(fn: Function, state: { armed: boolean; pending: unknown }, wait: (pending: unknown) => Promise<unknown>): (...args: unknown[]) => unknown;
}

type RealmContext = vm.Context & { pending: (() => void) | undefined };

/**
 * Made on first use: a context costs a few milliseconds, and most one-shot runs (synchronous
 * guests) never enter it (start-up of `run`, docs/performance.md).
 */
let made: { context: RealmContext; helpers: RealmHelpers; runPending: vm.Script } | undefined;

function realmParts(): NonNullable<typeof made> {
  if (made !== undefined) return made;
  const context = vm.createContext({ pending: undefined }, {
    name: 'nanovisor-guests',
    microtaskMode: 'afterEvaluate',
  }) as RealmContext;
  const helpers = vm.runInContext(`({
  suspending: (fn) => new WebAssembly.Suspending(fn),
  promising: (fn) => WebAssembly.promising(fn),
  instantiate: (module, imports) => new WebAssembly.Instance(module, imports),
  deferred: () => {
    let resolve;
    const promise = new Promise((r) => { resolve = r; });
    return { promise, resolve };
  },
  retrying: (fn, state, wait) => (...args) => {
    const once = () => {
      state.pending = undefined;
      state.armed = true;
      try { fn(...args); } finally { state.armed = false; }
      return state.pending;
    };
    if (once() === undefined) return undefined;
    return (async () => {
      for (let p = state.pending; p !== undefined; p = once()) await wait(p);
    })();
  },
})`, context) as RealmHelpers;
  made = { context, helpers, runPending: new vm.Script('pending()', { filename: 'nanovisor:guest-resume' }) };
  return made;
}

export const realm: RealmHelpers = {
  suspending: (fn) => realmParts().helpers.suspending(fn),
  promising: (fn) => realmParts().helpers.promising(fn),
  instantiate: (module, imports) => realmParts().helpers.instantiate(module, imports),
  deferred: () => realmParts().helpers.deferred(),
  retrying: (fn, state, wait) => realmParts().helpers.retrying(fn, state, wait),
};

/** Thrown when a guest slice ran past the time it had left. */
export class SliceTimeout extends Error {}

/**
 * Runs `fn` inside the realm — and with it every guest continuation it resolves — under a
 * wall-clock limit of `timeoutMs` (none when undefined).
 */
export function runInRealm(fn: () => void, timeoutMs: number | undefined): void {
  const { context, runPending } = realmParts();
  context.pending = fn;
  try {
    if (timeoutMs === undefined) runPending.runInContext(context);
    else runPending.runInContext(context, { timeout: Math.max(1, Math.ceil(timeoutMs)) });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new SliceTimeout('guest ran past its time limit');
    throw e;
  } finally {
    context.pending = undefined;
  }
}

/** The waiter of one asynchronous VM: timers for its blocked calls, resumption under its deadline. */
export class RealmWaiter implements AsyncWaiter {
  readonly #runSlice: (fn: () => void) => void;
  readonly #fail: (e: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #retryNow: (() => void) | undefined;
  #stopped = false;

  /** `runSlice` resumes the guest inside the realm under its time limit (see runInRealm). */
  constructor(runSlice: (fn: () => void) => void, fail: (e: unknown) => void) {
    this.#runSlice = runSlice;
    this.#fail = fail;
  }

  wait(waitMs: number, retry: () => Attempt): Promise<number> {
    const d = realm.deferred();
    const step = (): void => {
      this.#timer = undefined;
      this.#retryNow = undefined;
      if (this.#stopped) return;
      let r: Attempt;
      try {
        r = retry();
      } catch (e) {
        this.#fail(e);
        return;
      }
      if ('done' in r) {
        const value = r.done;
        try {
          this.#runSlice(() => d.resolve(value));
        } catch (e) {
          this.#fail(e);
        }
      } else {
        this.#timer = setTimeout(step, r.waitMs);
        this.#retryNow = step;
      }
    };
    this.#timer = setTimeout(step, waitMs);
    this.#retryNow = step;
    return d.promise;
  }

  /** Something the guest waits on may be ready: retry now instead of at the next timer. */
  poke(): void {
    const step = this.#retryNow;
    if (step === undefined || this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(step, 0);
  }

  /**
   * Returns a promise the guest suspends on until the next turn of the event loop (after the
   * I/O, timers and other guests' turns already queued), then resumes it in a new slice with
   * `value()` (computed in that slice).
   */
  yieldSlice(value: () => number): Promise<number> {
    const d = realm.deferred();
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      if (this.#stopped) return;
      try {
        this.#runSlice(() => d.resolve(value()));
      } catch (e) {
        this.#fail(e);
      }
    });
    return d.promise;
  }

  /** Cancels any pending wake-up (the VM ended). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
  }
}
