/** proc_exit, proc_raise, sched_yield. */
import { Errno } from '../abi.ts';
import type { Kernel } from '../kernel.ts';
import { ProcExit } from '../unwind.ts';

export const procCalls = {
  proc_exit: (_k: Kernel, code: number): void => {
    throw new ProcExit(code >>> 0);
  },
  /** Signals are not part of a Nano-VM; see unsupported.ts. */
  proc_raise: (_k: Kernel, _sig: number) => Errno.NOSYS,
  /** One guest per thread of control: yielding has nothing to give way to, so it succeeds at once. */
  sched_yield: (_k: Kernel) => Errno.SUCCESS,
};
