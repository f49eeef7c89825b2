// Guests written in other languages than C, each through its own runtime library: Rust std
// (wasm32-wasi), C++ with libc++, AssemblyScript with our small WASI binding, plus the plain C
// hello world.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { describeRun, runGuest, type GuestRun } from '../helpers.ts';

function exitedOk(r: GuestRun): void {
  assert.equal(r.outcome, 'exit', describeRun(r));
  assert.equal(r.exitCode, 0, describeRun(r));
}

test('c/hello: wasi-libc stdio', async () => {
  const r = await runGuest('c', 'hello');
  exitedOk(r);
  assert.equal(r.out, 'hello from C\n');
});

test('cpp/fstream_roundtrip: libc++ fstreams, containers and iostream in a scratch preopen', async () => {
  const r = await runGuest('cpp', 'fstream_roundtrip', { scratch: true });
  exitedOk(r);
  assert.match(r.out, /^PASS fstream_roundtrip$/m);
  assert.deepEqual(readdirSync(r.scratchHost!), [], 'the file was removed on the host too');
});

test('rust/fs_roundtrip: std::fs in a scratch preopen (relative and absolute guest paths)', async () => {
  for (const scratch of ['scratch', '/data/scratch']) {
    const r = await runGuest('rust', 'fs_roundtrip', { scratch });
    exitedOk(r);
    assert.match(r.out, /^PASS fs_roundtrip$/m);
    assert.deepEqual(readdirSync(`${r.scratchHost}/work`).sort(), ['hello.txt'], 'the host sees what the guest left');
  }
});

test('rust/env_args: std::env sees argv and the environment exactly', async () => {
  const r = await runGuest('rust', 'env_args', { args: ['one', 'two words', ''], env: { ZED: 'last', ALPHA: 'first', EQ: 'a=b' } });
  exitedOk(r);
  assert.equal(r.out, 'args:\nenv_args\none\ntwo words\n\nenv:\nALPHA=first\nEQ=a=b\nZED=last\n');
  const bare = await runGuest('rust', 'env_args');
  assert.equal(bare.out, 'args:\nenv_args\nenv:\n', 'no environment by default');
  const code = await runGuest('rust', 'env_args', { env: { NV_EXIT: '2' } });
  assert.equal(code.exitCode, 2, 'std::process::exit reaches the host');
});

test('rust/clock_sleep: thread::sleep waits (poll_oneoff), SystemTime is real time', async () => {
  const r = await runGuest('rust', 'clock_sleep');
  exitedOk(r);
  assert.match(r.out, /PASS clock_sleep/);
  assert.ok(r.durationMs >= 50, `ran ${r.durationMs.toFixed(1)} ms`);
});

test('rust/stdin_upper: std::io stdin lines to stdout, counts to stderr', async () => {
  const r = await runGuest('rust', 'stdin_upper', { stdin: 'hello\nwörld\n' });
  exitedOk(r);
  assert.equal(r.out, 'HELLO\nWÖRLD\n');
  assert.equal(r.err, '2 lines, 13 bytes\n');
});

test('rust/rust_panic: a panic traps the guest, the host reports it', async () => {
  const r = await runGuest('rust', 'rust_panic');
  assert.equal(r.outcome, 'trap', describeRun(r));
  assert.equal(r.error?.code, 'NV_GUEST_TRAP');
  assert.equal(r.out, 'about to panic\n');
  assert.match(r.err, /panicked at .*index out of bounds/);
});

test('as/hello: AssemblyScript through the repo\'s WASI binding', async () => {
  const r = await runGuest('as', 'hello');
  exitedOk(r);
  assert.equal(r.out, 'hello from AssemblyScript\n');
});

test('as/args_env: the same argv/env view as Rust', async () => {
  const opts = { args: ['one', 'two words'], env: { B: '2', A: '1' } };
  const r = await runGuest('as', 'args_env', opts);
  exitedOk(r);
  assert.equal(r.out, 'args:\nargs_env\none\ntwo words\nenv:\nA=1\nB=2\n');
});

test('as/random: random_get and the monotonic clock from AssemblyScript', async () => {
  const r = await runGuest('as', 'random');
  exitedOk(r);
  assert.match(r.out, /PASS random/);
});

test('as/as_abort: an assertion reports file and line and exits 134', async () => {
  const r = await runGuest('as', 'as_abort');
  assert.equal(r.outcome, 'exit', describeRun(r));
  assert.equal(r.exitCode, 134);
  assert.equal(r.out, 'before the assertion\n');
  assert.match(r.err, /^abort: argc must be 99 at test\/guests\/as\/as_abort\.ts:\d+:\d+\n$/);
});
