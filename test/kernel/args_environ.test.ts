// args_* and environ_*: the guest sees exactly the argv and environment the host gave.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertPassed, describeRun, runGuest } from '../helpers.ts';

test('args_get: argv strings verbatim (spaces, UTF-8, empty, =)', async () => {
  const r = await runGuest('c', 'args_get', { args: ['alpha', 'with space', 'ünïcode ✓', '', '--flag=a=b'] });
  assertPassed(r);
});

test('args_sizes_get: count and buffer size, with and without arguments', async () => {
  assertPassed(await runGuest('c', 'args_sizes_get', { args: ['a', 'bc', 'def'] }));
  assertPassed(await runGuest('c', 'args_sizes_get', { argv0: 'only-argv0' }));
});

test('environ_get: every variable as KEY=VALUE (empty values, = in values, UTF-8)', async () => {
  const r = await runGuest('c', 'environ_get', { env: { A: '1', EMPTY: '', WITH_EQ: 'a=b', UNI: 'é✓' } });
  assertPassed(r);
});

test('environ_sizes_get: empty by default, exact sizes when given', async () => {
  assertPassed(await runGuest('c', 'environ_sizes_get', { args: ['none'] }));
  assertPassed(await runGuest('c', 'environ_sizes_get', { args: ['two'], env: { X: '1', LONGER_NAME: 'value' } }));
  const wrong = await runGuest('c', 'environ_sizes_get', { args: ['none'], env: { LEAK: '1' } });
  assert.equal(wrong.exitCode, 1, `the program must notice an unexpected variable\n${describeRun(wrong)}`);
  assert.match(wrong.err, /FAIL environ_sizes_get: no variables by default/);
});
