/**
 * The host imports of an instrumented module: the shared interrupt page (`nv.interrupt`)
 * and `nv.yield`, which a flagged check calls. `nv.yield` asks the VM the instance is serving
 * right now (its slot, as for the kernel's imports) and returns what it answers: 0 to carry
 * on, 1 to stop (the guest then traps), or on the asynchronous path a promise of either, on
 * which JSPI suspends the guest.
 */
import { realm } from '../async-realm.ts';
import { INTERRUPT_IMPORT, YIELD_IMPORT } from './instrument.ts';
import { watchdog } from './watchdog.ts';

/** What an interrupt check reaches: set by the VM the instance serves, cleared when it ends. */
export interface InterruptSlot {
  onInterrupt: (() => number | Promise<number>) | undefined;
}

/** `nv.interrupt` and `nv.yield` for one instance; `async`: the instance runs on the JSPI path. */
export function interruptImports(slot: InterruptSlot, async: boolean): WebAssembly.Imports {
  // An instance serving no VM runs no guest code; if it ever did, stop it.
  const call = (): number | Promise<number> => slot.onInterrupt?.() ?? 1;
  return {
    [INTERRUPT_IMPORT.module]: {
      [INTERRUPT_IMPORT.name]: watchdog().memory,
      [YIELD_IMPORT.name]: (async ? realm.suspending(call) : call) as WebAssembly.ImportValue,
    },
  };
}
