// Hostile guests: wild pointers, escapes from the preopen, symlink loops, an infinite loop, a
// memory bomb, an output flood, descriptor exhaustion. The host never crashes; guest mistakes
// are errnos; limits stop what only limits can stop.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeRun, makeScratch, passes, runGuest } from '../helpers.ts';

test('hostile_pointers: every wild pointer or huge length is EFAULT/EINVAL, memory untouched', async () => {
  await passes('hostile_pointers', { env: { SOME: 'variable' } });
});

test('hostile_escape: .., absolute paths and symlinks cannot leave the preopen; loops are ELOOP', async () => {
  const parent = makeScratch();
  const scratch = join(parent, 'scratch');
  mkdirSync(scratch);
  writeFileSync(join(parent, 'secret'), 'top secret');
  const before = statSync(join(parent, 'secret'));
  await passes('hostile_escape', { scratchHostPath: scratch });
  assert.deepEqual(readdirSync(parent), ['scratch', 'secret'].sort(), 'nothing was created next to the scratch dir');
  assert.equal(readFileSync(join(parent, 'secret'), 'utf8'), 'top secret');
  assert.equal(statSync(join(parent, 'secret')).mtimeMs, before.mtimeMs, 'the secret was not touched');
});

test('hostile_escape: the same through an absolute guest mount path', async () => {
  await passes('hostile_escape', { scratch: '/sandbox/scratch' });
});

test('hostile_spin: an infinite loop is stopped by the time limit', async () => {
  const r = await runGuest('c', 'hostile_spin', { timeoutMs: 300 });
  assert.equal(r.outcome, 'timeout', describeRun(r));
  assert.equal(r.error?.code, 'NV_GUEST_TIMEOUT');
  assert.equal(r.out, 'spinning\n');
  assert.ok(r.durationMs < 5000, `stopped promptly (${r.durationMs.toFixed(0)} ms)`);
});

test('hostile_membomb: malloc fails inside the guest at the memory limit', async () => {
  const limit = 32 << 20;
  const r = await runGuest('c', 'hostile_membomb', { memoryLimitBytes: limit });
  assert.equal(r.outcome, 'exit', describeRun(r));
  assert.equal(r.exitCode, 0, describeRun(r));
  const m = /malloc failed after (\d+) MiB/.exec(r.out);
  assert.ok(m, describeRun(r));
  const mib = Number(m[1]);
  assert.ok(mib > 8 && mib <= 32, `got ${mib} MiB under a 32 MiB limit`);
});

test('hostile_flood: endless output is stopped by the output budget', async () => {
  const budget = 1 << 20;
  const r = await runGuest('c', 'hostile_flood', { maxOutputBytes: budget });
  assert.equal(r.outcome, 'output-limit', describeRun(r));
  assert.equal(r.error?.code, 'NV_GUEST_OUTPUT_LIMIT');
  assert.ok(r.stdout.byteLength <= budget, `captured ${r.stdout.byteLength} bytes, budget ${budget}`);
});

test('hostile_fd_exhaust: a bounded descriptor table answers EMFILE/ENFILE and recovers', async () => {
  const r = await passes('hostile_fd_exhaust');
  assert.match(r.out, /opened \d+ descriptors before E(MFILE|NFILE|NOMEM)/);
});
