/**
 * The watchdog thread: sleeps until the running slice's deadline and, if that slice is still
 * the one running then, sets its interrupt bit — with a compare-and-swap on the generation,
 * so a slice that has already ended is never interrupted in its successor's place.
 *
 * Wake-ups: the host rings the doorbell only when a slice's deadline is sooner than the
 * watchdog's next wake-up (WAKE_AT), and notifies the state word when it starts a slice after
 * an interrupted one (the only time this thread waits on it). Everything else is the idle
 * tick, so the host never pays a notify per slice.
 */
import { workerData } from 'node:worker_threads';
import { DEADLINE, DOORBELL, INTERRUPT_BIT, STATE, WAKE_AT } from './layout.ts';

const shared = (workerData as { buffer: SharedArrayBuffer }).buffer;
const words = new Int32Array(shared, 0, 4);
const wide = new BigInt64Array(shared, 0, 4);
/**
 * With no slice to watch, the watchdog still wakes this often. A slice whose deadline is
 * later than the next wake-up never rings the doorbell, so a busy host (thousands of slices a
 * second, each with a deadline seconds away) costs this thread ten wake-ups a second, not one
 * per slice.
 */
const IDLE_MS = 100;

for (;;) {
  // Read the bell before the state: a ring after this point makes the wait below return at once.
  const bell = Atomics.load(words, DOORBELL);
  const gen = Atomics.load(words, STATE);
  const deadline = Atomics.load(wide, DEADLINE);
  const now = process.hrtime.bigint();
  if (gen > 0 && deadline !== 0n && now >= deadline) {
    if (Atomics.compareExchange(words, STATE, gen, gen | INTERRUPT_BIT) === gen) {
      // Until the host starts another slice (it changes the word and, seeing the interrupt
      // bit, notifies it): the interrupted slice needs no more watching.
      Atomics.wait(words, STATE, gen | INTERRUPT_BIT, IDLE_MS);
    }
    continue;
  }
  const wakeAt = gen > 0 && deadline !== 0n ? deadline : now + BigInt(IDLE_MS) * 1_000_000n;
  Atomics.store(wide, WAKE_AT, wakeAt);
  // A slice that began between the reads above and the store: look again rather than sleep
  // on a stale wake-up time (the host compared its deadline with the old WAKE_AT).
  if (Atomics.load(words, STATE) !== gen || Atomics.load(wide, DEADLINE) !== deadline) continue;
  Atomics.wait(words, DOORBELL, bell, Math.max(0, Number(wakeAt - now) / 1e6));
}
