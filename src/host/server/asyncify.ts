/**
 * The build-time rewrite that lets a wasi server sleep: Binaryen's asyncify pass
 * (https://github.com/WebAssembly/binaryen/blob/main/src/passes/Asyncify.cpp), limited to
 * the one import that may unwind, `wasi_snapshot_preview1.sock_accept`. Only the functions
 * that can reach it are instrumented (they save their locals and resume where they were);
 * the rest of the module is unchanged. Binaryen is loaded only when a server image is built.
 */
import { NanovisorError } from '../../shared/errors.ts';

export const ASYNCIFY_EXPORTS = {
  startUnwind: 'asyncify_start_unwind',
  stopUnwind: 'asyncify_stop_unwind',
  startRewind: 'asyncify_start_rewind',
  stopRewind: 'asyncify_stop_rewind',
} as const;

/**
 * Room for the guest's unwound stack (its instrumented frames' locals), in one page the host
 * grows at the first park. A server whose stack at sock_accept needs more traps at the park
 * (the VM ends as a crash, with the reason in the log).
 */
export const ASYNCIFY_DATA_BYTES = 65536;

/** The import whose blocking call parks the server. */
export const PARK_IMPORT = 'wasi_snapshot_preview1.sock_accept';

/** Whether a module already carries the asyncify exports (an image built for a server). */
export function hasAsyncify(exports: readonly string[]): boolean {
  return Object.values(ASYNCIFY_EXPORTS).every((e) => exports.includes(e));
}

type Binaryen = typeof import('binaryen').default;
let binaryen: Binaryen | undefined;

/** Loads Binaryen (~0.6 s, once per process); building a server image needs it. */
export async function loadServerTools(): Promise<void> {
  binaryen ??= (await import('binaryen')).default;
}

export function serverToolsLoaded(): boolean {
  return binaryen !== undefined;
}

/** Rewrites a module so that its sock_accept can unwind and rewind the stack (after loadServerTools). */
export function asyncifyServer(bytes: Uint8Array): Uint8Array {
  if (binaryen === undefined) throw new Error('asyncifyServer before loadServerTools');
  let m: ReturnType<Binaryen['readBinary']>;
  try {
    m = binaryen.readBinary(bytes);
  } catch (e) {
    throw new NanovisorError('NV_MODULE_INVALID', `the server module cannot be read for its sleep rewrite: ${(e as Error).message}`, { cause: e });
  }
  try {
    m.setFeatures(binaryen.Features.All);
    binaryen.setOptimizeLevel(1);
    binaryen.setShrinkLevel(0);
    binaryen.setPassArgument('asyncify-imports', PARK_IMPORT);
    m.runPasses(['asyncify']);
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}
