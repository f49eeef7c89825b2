/**
 * How a system call waits. On the synchronous path the thread sleeps (Atomics.wait). On the
 * asynchronous path (WebAssembly JS Promise Integration) the call returns a promise instead,
 * the guest's stack is suspended, and other VMs run on the thread meanwhile; the host's
 * `AsyncWaiter` retries the call until it is done and resumes the guest with the result.
 */

/** One attempt of a blocking call: finished with an errno, or wait this long and try again. */
export type Attempt = { readonly done: number } | { readonly waitMs: number };

export interface AsyncWaiter {
  /**
   * Returns a promise the guest suspends on. After `waitMs`, `retry` runs; the guest is
   * resumed with `done` once an attempt finishes. Errors thrown by `retry` end the VM.
   */
  wait(waitMs: number, retry: () => Attempt): Promise<number>;
}

/** Preview1 calls that may suspend the guest on the asynchronous path. */
export const SUSPENDING_CALLS: ReadonlySet<string> = new Set(['poll_oneoff']);
