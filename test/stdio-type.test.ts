// What a guest is told its stdin, stdout and stderr are (issue 11): the guest program
// `stdio_type` prints wasi-libc's isatty() and the fdstat filetype of fds 0-2. Captured
// stdio is a pipe-like `unknown` stream, never a terminal; `nanovisor run` reports the host
// fd's real type: a file, and a terminal only when it is one; a pipe or socket is `unknown`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../src/image/testing.ts';
import { describeRun, guestWasm, runGuest } from './helpers.ts';

const cli = fileURLToPath(new URL('../bin/nanovisor.js', import.meta.url));
const wasm = guestWasm('c', 'stdio_type');
const UNKNOWN = 0, CHARACTER_DEVICE = 2, REGULAR_FILE = 4;

/** Parses `fd=N tty=T type=F seek=S` lines into one record per fd. */
function parse(out: string): { tty: number; type: number; seek: number }[] {
  const rows = [...out.matchAll(/^fd=(\d) tty=(-?\d+) type=(-?\d+) seek=(-?\d+)$/gm)];
  assert.equal(rows.length, 3, `three lines expected, got:\n${out}`);
  return rows.map((m) => ({ tty: Number(m[2]), type: Number(m[3]), seek: Number(m[4]) }));
}

test('stdio_type: captured stdio (library default, Uint8Array stdin, sinks) is not a terminal', async () => {
  for (const opts of [{}, { stdin: new Uint8Array([1, 2]) }, { stdin: 'text', stderr: () => {} }] as const) {
    const r = await runGuest('c', 'stdio_type', opts);
    assert.equal(r.exitCode, 0, describeRun(r));
    for (const fd of parse(r.out)) assert.deepEqual(fd, { tty: 0, type: UNKNOWN, seek: 0 }, r.out);
  }
});

test('stdio_type: nanovisor run reports a file as a file, a pipe and a socket as unknown', () => {
  using tmp = tempDir('nv-stdio-');
  const outFile = join(tmp.path, 'out.txt');
  // stdout to a file, stdin from a real pipe, stderr a socket pair (node's 'pipe').
  const r = spawnSync('sh', ['-c', `echo hi | "${process.execPath}" "${cli}" run "${wasm}" > "${outFile}"`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [stdin, stdout, stderr] = parse(readFileSync(outFile, 'utf8'));
  assert.deepEqual(stdin, { tty: 0, type: UNKNOWN, seek: 0 });
  assert.deepEqual(stdout, { tty: 0, type: REGULAR_FILE, seek: 0 });
  // A host socket is not offered as socket_stream: sock_* work only on preopened sockets.
  assert.deepEqual(stderr, { tty: 0, type: UNKNOWN, seek: 0 });

  // stdin from a file, stdout to a pipe.
  const inFd = openSync(outFile, 'r');
  try {
    const p = spawnSync(process.execPath, [cli, 'run', wasm], { stdio: [inFd, 'pipe', 'pipe'], encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    const [i, o] = parse(p.stdout);
    assert.deepEqual(i, { tty: 0, type: REGULAR_FILE, seek: 0 });
    assert.equal(o!.tty, 0);
  } finally {
    closeSync(inFd);
  }
});

test('stdio_type: a terminal is still a terminal (character device, no seek)', (t) => {
  const probe = spawnSync('script', ['-qec', 'true', '/dev/null'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('script(1) is not available to give the guest a terminal');
    return;
  }
  const r = spawnSync('script', ['-qec', `"${process.execPath}" "${cli}" run "${wasm}"`, '/dev/null'], { encoding: 'utf8', input: '' });
  assert.equal(r.status, 0, r.stderr);
  const rows = parse(r.stdout.replace(/\r/g, ''));
  for (const fd of rows) assert.deepEqual(fd, { tty: 1, type: CHARACTER_DEVICE, seek: 0 });
});
