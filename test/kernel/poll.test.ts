// poll_oneoff: clocks wait, files are ready at once, errors land in events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { passes } from '../helpers.ts';

test('poll_oneoff: relative and absolute clocks, earliest clock wins, fd_read/fd_write on files, EINVAL for none', async () => {
  const r = await passes('poll_oneoff');
  assert.ok(r.durationMs >= 60, `the clocks were really waited for (${r.durationMs.toFixed(1)} ms)`);
});
