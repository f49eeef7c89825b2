/**
 * poll_oneoff: clock subscriptions (relative and absolute) and fd read/write readiness.
 * The synchronous kernel sleeps the thread until the earliest deadline or until an fd is
 * ready; it never sleeps past the VM's own deadline.
 */
import { ClockId, Errno, EventRwFlags, EventType, Layout, Rights, SubclockFlags } from '../abi.ts';
import type { Attempt } from '../blocking.ts';
import type { Readiness } from '../descriptor.ts';
import type { Kernel } from '../kernel.ts';
import { GuestFault, fault } from '../memory.ts';
import { sleepMs } from '../stdio.ts';
import { VmStop } from '../unwind.ts';
import { now } from './clock.ts';

interface ClockSub {
  readonly userdata: bigint;
  readonly kind: 'clock';
  /** Monotonic-time (hrtime) deadline in ns, or an errno for a bad subscription. */
  readonly deadline: bigint | number;
}

interface FdSub {
  readonly userdata: bigint;
  readonly kind: 'read' | 'write';
  readonly fd: number;
}

type Sub = ClockSub | FdSub;

interface Event {
  readonly userdata: bigint;
  readonly error: number;
  readonly type: number;
  readonly nbytes: bigint;
  readonly flags: number;
}

/** Longest single sleep while waiting for fds that may become ready. */
const FD_POLL_INTERVAL_MS = 1;

function readSubs(k: Kernel, ptr: number, n: number): Sub[] {
  const m = k.memory;
  m.checkAligned(ptr, n * Layout.SUBSCRIPTION_SIZE, 8);
  const subs: Sub[] = [];
  const nowMono = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const base = (ptr >>> 0) + i * Layout.SUBSCRIPTION_SIZE;
    const userdata = m.u64(base);
    const tag = m.u8(base + 8);
    if (tag === EventType.CLOCK) {
      const id = m.u32(base + 16);
      const timeout = m.u64(base + 24);
      const flags = m.u16(base + 40);
      subs.push({ userdata, kind: 'clock', deadline: clockDeadline(k, id, timeout, flags, nowMono) });
    } else if (tag === EventType.FD_READ || tag === EventType.FD_WRITE) {
      subs.push({ userdata, kind: tag === EventType.FD_READ ? 'read' : 'write', fd: m.u32(base + 16) });
    } else {
      fault(Errno.INVAL, `unknown subscription tag ${tag}`);
    }
  }
  return subs;
}

/** Converts a clock subscription into an hrtime deadline, or an errno for the event. */
function clockDeadline(k: Kernel, id: number, timeout: bigint, flags: number, nowMono: bigint): bigint | number {
  if ((flags & ~SubclockFlags.ABSTIME) !== 0) return Errno.INVAL;
  let current: bigint;
  try {
    current = now(k, id);
  } catch (e) {
    if (e instanceof GuestFault) return e.errno;
    throw e;
  }
  if ((flags & SubclockFlags.ABSTIME) === 0) return nowMono + timeout;
  const wait = timeout > current ? timeout - current : 0n;
  // CPU-time clocks cannot advance while we sleep; treat their deadlines as wall time.
  void ClockId;
  return nowMono + wait;
}

function fdReadiness(k: Kernel, sub: FdSub): Readiness {
  try {
    const d = k.fds.get(sub.fd);
    const need = sub.kind === 'read' ? Rights.FD_READ : Rights.FD_WRITE;
    if ((d.rightsBase & (need | Rights.POLL_FD_READWRITE)) === 0n) return { error: Errno.NOTCAPABLE };
    return sub.kind === 'read' ? d.pollRead() : d.pollWrite();
  } catch (e) {
    if (e instanceof GuestFault) return { error: e.errno };
    throw e;
  }
}

function collect(k: Kernel, subs: readonly Sub[], nowMono: bigint): Event[] {
  const events: Event[] = [];
  for (const s of subs) {
    if (s.kind === 'clock') {
      if (typeof s.deadline === 'number') {
        events.push({ userdata: s.userdata, error: s.deadline, type: EventType.CLOCK, nbytes: 0n, flags: 0 });
      } else if (s.deadline <= nowMono) {
        events.push({ userdata: s.userdata, error: 0, type: EventType.CLOCK, nbytes: 0n, flags: 0 });
      }
      continue;
    }
    const type = s.kind === 'read' ? EventType.FD_READ : EventType.FD_WRITE;
    const r = fdReadiness(k, s);
    if ('error' in r) {
      events.push({ userdata: s.userdata, error: r.error, type, nbytes: 0n, flags: 0 });
    } else if (r.ready) {
      const flags = r.hangup === true ? EventRwFlags.FD_READWRITE_HANGUP : 0;
      events.push({ userdata: s.userdata, error: 0, type, nbytes: r.nbytes, flags });
    }
  }
  return events;
}

function writeEvents(k: Kernel, out: number, events: readonly Event[], neventsPtr: number): void {
  const m = k.memory;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const base = (out >>> 0) + i * Layout.EVENT_SIZE;
    m.zero(base, Layout.EVENT_SIZE);
    m.setU64(base, e.userdata);
    m.setU16(base + 8, e.error);
    m.setU8(base + 10, e.type);
    m.setU64(base + 16, e.nbytes);
    m.setU16(base + 24, e.flags);
  }
  m.setU32(neventsPtr, events.length);
}

/** One look at the subscriptions: events written (done), or how long to wait before the next look. */
function attempt(k: Kernel, subs: readonly Sub[], earliest: bigint | undefined, outPtr: number, neventsPtr: number): Attempt {
  const hasFds = subs.some((s) => s.kind !== 'clock');
  const t = process.hrtime.bigint();
  const events = collect(k, subs, t);
  if (events.length > 0) {
    writeEvents(k, outPtr, events, neventsPtr);
    return { done: Errno.SUCCESS };
  }
  if (k.deadlineNs !== undefined && t >= k.deadlineNs) {
    throw new VmStop('timeout', 'guest ran past its time limit while blocked in poll_oneoff');
  }
  // Nothing ready: wait until the earliest clock, the VM deadline, or the next fd check.
  let wakeAt = earliest ?? (k.deadlineNs ?? t + 1_000_000_000n);
  if (k.deadlineNs !== undefined && k.deadlineNs < wakeAt) wakeAt = k.deadlineNs;
  let ms = Number(wakeAt - t) / 1e6;
  if (hasFds) ms = Math.min(ms, FD_POLL_INTERVAL_MS);
  return { waitMs: Math.max(0, ms) };
}

export const pollCalls = {
  poll_oneoff: (k: Kernel, inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): number | Promise<number> => {
    const n = nsubs >>> 0;
    if (n === 0) return Errno.INVAL;
    const m = k.memory;
    m.checkAligned(outPtr, n * Layout.EVENT_SIZE, 8);
    m.checkAligned(neventsPtr, 4, 4);
    const subs = readSubs(k, inPtr, n);
    let earliest: bigint | undefined;
    for (const s of subs) {
      if (s.kind === 'clock' && typeof s.deadline === 'bigint') {
        earliest = earliest === undefined || s.deadline < earliest ? s.deadline : earliest;
      }
    }
    const once = (): Attempt => {
      try {
        return attempt(k, subs, earliest, outPtr, neventsPtr);
      } catch (e) {
        if (e instanceof GuestFault) return { done: e.errno };
        throw e;
      }
    };
    let r = once();
    if (k.waiter !== undefined) {
      // Asynchronous path: suspend the guest; other VMs run while it waits.
      return 'done' in r ? r.done : k.waiter.wait(r.waitMs, once);
    }
    while (!('done' in r)) {
      if (r.waitMs > 0) sleepMs(r.waitMs);
      r = once();
    }
    return r.done;
  },
};
