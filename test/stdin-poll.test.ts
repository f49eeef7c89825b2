// poll_oneoff on an inherited stdin (issue 11): `nanovisor run` with stdin on a real pipe that
// has no data yet must wait for data or the timeout, as the peers do, not report it readable
// at once. The guest `stdin_poll` polls fd 0 with the timeouts it is given.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../src/image/testing.ts';
import { guestWasm, runGuest } from './helpers.ts';

const cli = fileURLToPath(new URL('../bin/nanovisor.js', import.meta.url));
const wasm = guestWasm('c', 'stdin_poll');

test('stdin_poll: a pipe with no data times out; data written later makes it ready and is read', async () => {
  using tmp = tempDir('nv-poll-');
  const fifo = join(tmp.path, 'in');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  // Read-write so that opening does not wait for a reader; we stay a writer throughout.
  const fd = openSync(fifo, 'r+');
  try {
    const child = spawn(process.execPath, [cli, 'run', wasm, '200', '60000'], { stdio: [fd, 'pipe', 'pipe'] });
    const { stdout, stderr } = child;
    assert.ok(stdout !== null && stderr !== null);
    let out = '';
    let err = '';
    stderr.on('data', (c: Buffer) => { err += c.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let written = false;
    await new Promise<void>((resolve, reject) => {
      stdout.on('data', (c: Buffer) => {
        out += c.toString();
        // The guest reported its first poll: only now does data arrive (once).
        if (!written && out.includes('first=')) {
          written = true;
          writeSync(fd, 'late\n');
          resolve();
        }
      });
      child.on('close', () => reject(new Error(`exited early: ${out}${err}`)));
    });
    assert.equal(await exited, 0, err);
    assert.equal(out, 'first=timeout\nsecond=ready data=late\n');
  } finally {
    closeSync(fd);
  }
});

test('stdin_poll: a pipe with data or at end of file is ready at once', () => {
  const data = spawnSync('sh', ['-c', `printf 'hi\\n' | "${process.execPath}" "${cli}" run "${wasm}" 60000 60000`], { encoding: 'utf8' });
  assert.equal(data.status, 0, data.stderr);
  assert.equal(data.stdout, 'first=ready\nsecond=ready data=hi\n');
  const eof = spawnSync('sh', ['-c', `true | "${process.execPath}" "${cli}" run "${wasm}" 60000 60000`], { encoding: 'utf8' });
  assert.equal(eof.status, 0, eof.stderr);
  assert.equal(eof.stdout, 'first=ready\nsecond=eof\n');
});

test('stdin_poll: captured stdin is ready at once (its bytes, or end of file)', async () => {
  const r = await runGuest('c', 'stdin_poll', { args: ['60000', '60000'], stdin: 'buf\n' });
  assert.equal(r.out, 'first=ready\nsecond=ready data=buf\n');
  const e = await runGuest('c', 'stdin_poll', { args: ['60000', '60000'] });
  assert.equal(e.out, 'first=ready\nsecond=eof\n');
});
