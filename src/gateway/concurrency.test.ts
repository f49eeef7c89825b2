// Exclusive-volume admission (VolumeLocks): one holder per volume, waiters in arrival order,
// several volumes taken in name order so two requests never wait on each other.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VolumeLocks } from './concurrency.ts';

test('one holder per volume; the next waiter in arrival order gets it at release', async () => {
  const locks = new VolumeLocks();
  assert.equal(locks.acquire(['a']), undefined, 'free: taken at once');
  const order: number[] = [];
  const waits = [1, 2, 3].map((n) => (locks.acquire(['a']) as Promise<void>).then(() => order.push(n)));
  assert.deepEqual(locks.queueDepth(), { a: 3 });
  assert.equal(locks.acquire(['b']), undefined, 'another volume is independent');
  for (let i = 0; i < 3; i++) {
    locks.release(['a']);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [1, 2, 3].slice(0, i + 1));
  }
  await Promise.all(waits);
  locks.release(['a']);
  locks.release(['b']);
  assert.deepEqual(locks.held(), []);
});

test('several volumes: taken in name order, so two requests that both need a and b never deadlock', async () => {
  const locks = new VolumeLocks();
  assert.equal(locks.acquire(['a', 'b']), undefined);
  const second = locks.acquire(['a', 'b']);
  const onlyB = locks.acquire(['b']);
  assert.ok(second instanceof Promise && onlyB instanceof Promise);
  let secondDone = false;
  void second.then(() => (secondDone = true));
  locks.release(['a', 'b']);
  // b went to the request that asked first (onlyB waited on b before second reached it).
  await onlyB;
  await new Promise((r) => setImmediate(r));
  assert.equal(secondDone, false, 'second holds a and waits for b');
  locks.release(['b']);
  await second;
  locks.release(['a', 'b']);
  assert.deepEqual(locks.held(), []);
});
