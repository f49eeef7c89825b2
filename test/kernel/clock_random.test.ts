// clock_*, random_get and sched_yield.
import { test } from 'node:test';
import { assertPassed, runGuest } from '../helpers.ts';

test('clock_res_get: resolutions of every clock, EINVAL for unknown ids', async () => {
  assertPassed(await runGuest('c', 'clock_res_get'));
});

test('clock_time_get: realtime is the epoch clock, monotonic never goes back, EINVAL for unknown ids', async () => {
  assertPassed(await runGuest('c', 'clock_time_get'));
});

test('random_get: random, evenly spread bytes; zero length writes nothing', async () => {
  assertPassed(await runGuest('c', 'random_get'));
});

test('sched_yield: always succeeds', async () => {
  assertPassed(await runGuest('c', 'sched_yield'));
});
