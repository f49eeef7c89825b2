/**
 * The interrupt page shared by the host thread, its watchdog thread and every instrumented
 * guest: Int32 word 0 is the running slice's generation, with the top bit set by the
 * watchdog to interrupt it (guests test `word0 < 0`); word 1 is a doorbell the host rings
 * when the watchdog must look again sooner; BigInt64 slot 1 is the slice's deadline
 * (hrtime ns, 0 for none); slot 2 is when the watchdog will next wake; slot 3 is when the
 * slice's quantum ends (hrtime ns, 0 when the slice cannot yield).
 */
export const STATE = 0;
export const DOORBELL = 1;
export const DEADLINE = 1;
export const WAKE_AT = 2;
export const QUANTUM_END = 3;
export const INTERRUPT_BIT = 0x8000_0000 | 0;
export const GEN_MASK = 0x7fff_ffff;
/**
 * How long a guest slice on the asynchronous path runs before the watchdog flags it to
 * yield (`nv.yield` suspends it until the next turn of the event loop). 10 ms, like a
 * classic scheduler tick: short enough that a request to another app waits at most a few
 * quanta behind spinning guests, long enough that the suspend/resume (~µs) is noise.
 */
export const QUANTUM_MS = 10;
