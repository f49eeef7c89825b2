/** clock_res_get, clock_time_get: realtime, monotonic, process and thread CPU time in ns. */
import { ClockId, Errno } from '../abi.ts';
import type { Kernel } from '../kernel.ts';
import { fault } from '../memory.ts';

/** Nanoseconds of the given clock; EINVAL for an unknown clock id. */
export function now(k: Kernel, id: number): bigint {
  switch (id) {
    case ClockId.REALTIME:
      return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
    case ClockId.MONOTONIC:
      return process.hrtime.bigint() - k.startNs + 1n;
    case ClockId.PROCESS_CPUTIME_ID: {
      const u = process.cpuUsage();
      return BigInt(u.user + u.system) * 1000n;
    }
    case ClockId.THREAD_CPUTIME_ID: {
      const u = process.threadCpuUsage();
      return BigInt(u.user + u.system) * 1000n;
    }
    default:
      return fault(Errno.INVAL, `unknown clock ${id}`);
  }
}

/** Resolution in ns: CPU clocks come from getrusage-style microseconds. */
export function resolution(id: number): bigint {
  switch (id) {
    case ClockId.REALTIME:
      return 1000n;
    case ClockId.MONOTONIC:
      return 1n;
    case ClockId.PROCESS_CPUTIME_ID:
    case ClockId.THREAD_CPUTIME_ID:
      return 1000n;
    default:
      return fault(Errno.INVAL, `unknown clock ${id}`);
  }
}

export const clockCalls = {
  clock_res_get: (k: Kernel, id: number, out: number) => {
    const r = resolution(id);
    k.memory.checkAligned(out, 8, 8);
    k.memory.setU64(out, r);
  },
  clock_time_get: (k: Kernel, id: number, _precision: bigint, out: number) => {
    const t = now(k, id);
    k.memory.checkAligned(out, 8, 8);
    k.memory.setU64(out, t);
  },
};
