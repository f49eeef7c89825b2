/**
 * The watchdog thread: sleeps until the running slice is due — its deadline or, on the
 * asynchronous path, the end of its quantum — and, if that slice is still the one running
 * then, sets its interrupt bit, with a compare-and-swap on the generation, so a slice that
 * has already ended is never interrupted in its successor's place. The guest's next check
 * then calls the host (`nv.yield`), which tells a deadline from a quantum.
 *
 * Wake-ups: the host rings the doorbell only when a slice is due sooner than the watchdog's
 * next wake-up (WAKE_AT), and notifies the state word when it starts a slice after an
 * interrupted one (the only time this thread waits on it). Everything else is the tick:
 * every QUANTUM_MS while slices keep starting, every IDLE_MS when none did since the last
 * look. On a busy host a new slice's quantum therefore ends after WAKE_AT, and the host never
 * pays a notify per slice.
 */
import { workerData } from 'node:worker_threads';
import { DEADLINE, DOORBELL, INTERRUPT_BIT, QUANTUM_END, QUANTUM_MS, STATE, WAKE_AT } from './layout.ts';

const shared = (workerData as { buffer: SharedArrayBuffer }).buffer;
const words = new Int32Array(shared, 0, 4);
const wide = new BigInt64Array(shared, 0, 4);
/**
 * With no slice started since the last look, the watchdog still wakes this often. A slice
 * due later than the next wake-up never rings the doorbell.
 */
const IDLE_MS = 100;
const MS = 1_000_000n;

/** The sooner of two hrtime values where 0 means none. */
function sooner(a: bigint, b: bigint): bigint {
  return a === 0n ? b : b === 0n || a < b ? a : b;
}

let lastGen = 0;
for (;;) {
  // Read the bell before the state: a ring after this point makes the wait below return at once.
  const bell = Atomics.load(words, DOORBELL);
  const gen = Atomics.load(words, STATE);
  const deadline = Atomics.load(wide, DEADLINE);
  const quantumEnd = Atomics.load(wide, QUANTUM_END);
  const due = sooner(deadline, quantumEnd);
  const now = process.hrtime.bigint();
  if (gen > 0 && due !== 0n && now >= due) {
    if (Atomics.compareExchange(words, STATE, gen, gen | INTERRUPT_BIT) === gen) {
      // Until the host starts another slice (it changes the word and, seeing the interrupt
      // bit, notifies it): the interrupted slice needs no more watching.
      Atomics.wait(words, STATE, gen | INTERRUPT_BIT, IDLE_MS);
    }
    continue;
  }
  const tick = now + BigInt(gen !== lastGen ? QUANTUM_MS : IDLE_MS) * MS;
  lastGen = gen;
  const wakeAt = gen > 0 && due !== 0n && due < tick ? due : tick;
  Atomics.store(wide, WAKE_AT, wakeAt);
  // A slice that began between the reads above and the store: look again rather than sleep
  // on a stale wake-up time (the host compared its due time with the old WAKE_AT).
  if (Atomics.load(words, STATE) !== gen || Atomics.load(wide, DEADLINE) !== deadline || Atomics.load(wide, QUANTUM_END) !== quantumEnd) continue;
  Atomics.wait(words, DOORBELL, bell, Math.max(0, Number(wakeAt - now) / 1e6));
}
