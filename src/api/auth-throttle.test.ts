import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNanovisorError } from '../shared/errors.ts';
import { AUTH_FAILURE_BURST, AUTH_FAILURE_REFILL_MS, AuthThrottle } from './auth-throttle.ts';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function refusal(fn: () => void): number {
  try {
    fn();
  } catch (e) {
    assert.ok(isNanovisorError(e) && e.code === 'NV_API_THROTTLED', String(e));
    return e.details['retryAfterSeconds'] as number;
  }
  assert.fail('not throttled');
}

test('a burst of wrong tokens, then one per refill interval; a right token resets the address', () => {
  const c = clock();
  const t = new AuthThrottle({ now: c.now });
  for (let i = 0; i < AUTH_FAILURE_BURST; i++) {
    t.check('10.0.0.1');
    t.failed('10.0.0.1');
  }
  assert.equal(refusal(() => t.check('10.0.0.1')), AUTH_FAILURE_REFILL_MS / 1000);
  t.check('10.0.0.2'); // another address is not slowed down
  c.advance(AUTH_FAILURE_REFILL_MS / 2);
  assert.equal(refusal(() => t.check('10.0.0.1')), AUTH_FAILURE_REFILL_MS / 2000);
  c.advance(AUTH_FAILURE_REFILL_MS / 2);
  t.check('10.0.0.1'); // one more attempt
  t.failed('10.0.0.1');
  refusal(() => t.check('10.0.0.1'));
  c.advance(AUTH_FAILURE_REFILL_MS);
  t.check('10.0.0.1');
  t.succeeded('10.0.0.1');
  for (let i = 0; i < AUTH_FAILURE_BURST; i++) t.check('10.0.0.1'); // the whole burst again
  assert.equal(t.size, 0);
  t.check(undefined); // in process: never throttled
  t.failed(undefined);
  assert.equal(t.size, 0);
});

test('at most maxAddresses are tracked, the least recently seen dropped first', () => {
  const t = new AuthThrottle({ maxAddresses: 3, burst: 1 });
  for (const a of ['a', 'b', 'c']) t.failed(a);
  t.failed('a'); // seen again: now the most recent
  t.failed('d'); // drops b
  assert.equal(t.size, 3);
  t.check('b');
  refusal(() => t.check('a'));
  refusal(() => t.check('c'));
  refusal(() => t.check('d'));
});
