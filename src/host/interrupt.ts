/**
 * Runs a guest entry point with a wall-clock limit. V8 can only stop running WebAssembly
 * from outside via TerminateExecution, which node:vm's `timeout` drives from a watchdog
 * thread; a guest spinning in a loop is stopped there and the host carries on.
 */
import vm from 'node:vm';

type EntryContext = vm.Context & { call: (() => unknown) | undefined };
/** Made on first use (a context costs a few milliseconds of every start otherwise). */
let entry: { context: EntryContext; script: vm.Script } | undefined;

/** Thrown when the guest did not return within `timeoutMs`. */
export class GuestTimeout extends Error {}

export function callWithTimeout(fn: () => unknown, timeoutMs: number | undefined): void {
  if (timeoutMs === undefined) {
    fn();
    return;
  }
  entry ??= { context: vm.createContext({ call: undefined }) as EntryContext, script: new vm.Script('call()', { filename: 'nanovisor:guest-entry' }) };
  const { context, script } = entry;
  context.call = fn;
  try {
    script.runInContext(context, { timeout: Math.max(1, Math.ceil(timeoutMs)) });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new GuestTimeout(`guest ran past its ${timeoutMs} ms time limit`);
    }
    throw e;
  } finally {
    context.call = undefined;
  }
}
