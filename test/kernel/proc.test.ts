// proc_exit and proc_raise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertPassed, describeRun, runGuest } from '../helpers.ts';

test('proc_exit: ends the guest at once with its code', async () => {
  for (const code of [0, 1, 42, 255]) {
    const r = await runGuest('c', 'proc_exit', { args: [String(code)] });
    assert.equal(r.outcome, 'exit', describeRun(r));
    assert.equal(r.exitCode, code, describeRun(r));
    assert.equal(r.out, `exiting with ${code}\n`);
    assert.equal(r.err, '', 'nothing after proc_exit ran');
  }
});

test('proc_raise: an errno (ENOSYS), never a signal or a trap', async () => {
  const r = await runGuest('c', 'proc_raise');
  assertPassed(r);
  assert.match(r.out, /proc_raise\(SIGTERM\) -> ENOSYS/);
});
