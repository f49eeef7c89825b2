/**
 * The watchdog thread: sleeps until the running slice's deadline and, if that slice is still
 * the one running then, sets its interrupt bit — with a compare-and-swap on the generation,
 * so a slice that has already ended is never interrupted in its successor's place.
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
  const gen = Atomics.load(words, STATE);
  const deadline = Atomics.load(wide, DEADLINE);
  const now = process.hrtime.bigint();
  if (gen > 0 && deadline !== 0n && now >= deadline) {
    Atomics.compareExchange(words, STATE, gen, gen | INTERRUPT_BIT);
    // Wait for the host to start another slice (it changes the word), checking now and then.
    Atomics.wait(words, STATE, gen | INTERRUPT_BIT, 1000);
    continue;
  }
  const bell = Atomics.load(words, DOORBELL);
  const wakeAt = gen > 0 && deadline !== 0n ? deadline : now + BigInt(IDLE_MS) * 1_000_000n;
  Atomics.store(wide, WAKE_AT, wakeAt);
  const ms = Number(wakeAt - now) / 1e6;
  Atomics.wait(words, DOORBELL, bell, Math.max(0, ms));
}
