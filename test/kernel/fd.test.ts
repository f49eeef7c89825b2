// fd_* calls: each C test program runs in a fresh writable scratch directory (argv[1]).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { passes, runGuest, assertPassed } from '../helpers.ts';

test('fd_advise: every advice accepted on a file, EINVAL for unknown advice, ENOTCAPABLE without the right', async () => {
  await passes('fd_advise');
});

test('fd_allocate: grows (zero-filled), never shrinks, does not move the offset', async () => {
  const r = await passes('fd_allocate');
  assert.equal(statSync(join(r.scratchHost!, 'f')).size, 200, 'the host file grew too');
});

test('fd_close: double close and use after close are EBADF; a closed preopen is gone', async () => {
  await passes('fd_close');
});

test('fd_datasync and fd_sync: succeed with the right, ENOTCAPABLE without', async () => {
  await passes('fd_datasync');
  await passes('fd_sync');
});

test('fd_fdstat_get: filetype, flags and rights of stdio, preopens, files and directories', async () => {
  await passes('fd_fdstat_get');
});

test('fd_fdstat_set_flags: APPEND set and cleared changes where writes go', async () => {
  const r = await passes('fd_fdstat_set_flags');
  assert.equal(readFileSync(join(r.scratchHost!, 'f'), 'utf8'), 'XY23456789ab');
});

test('fd_fdstat_set_rights: rights only drop, never grow back', async () => {
  await passes('fd_fdstat_set_rights');
});

test('fd_filestat_get: type, size, nlink, timestamps; same inode as path_filestat_get', async () => {
  await passes('fd_filestat_get');
});

test('fd_filestat_set_size: truncate and zero-filled extend, offset unchanged', async () => {
  await passes('fd_filestat_set_size');
});

test('fd_filestat_set_times: exact ns times, *_NOW, EINVAL for contradictory flags', async () => {
  const r = await passes('fd_filestat_set_times');
  const st = statSync(join(r.scratchHost!, 'f'), { bigint: true });
  assert.ok(st.atimeNs > 1_600_000_000_000_000_000n, 'atime on the host was set to now');
});

test('fd_pread: reads at an offset without moving it; 0 bytes past the end', async () => {
  await passes('fd_pread');
});

test('fd_pwrite: writes at an offset without moving it; zero-filled gap past the end', async () => {
  const r = await passes('fd_pwrite');
  assert.equal(readFileSync(join(r.scratchHost!, 'f')).subarray(0, 10).toString(), '01xy4ABCD9');
});

test('fd_prestat_get: the scratch preopen, and EBADF for anything that is not a preopen', async () => {
  await passes('fd_prestat_get');
  await passes('fd_prestat_get', { scratch: '/abs/scratch' });
});

test('fd_prestat_dir_name: the exact name, nothing written past it', async () => {
  await passes('fd_prestat_dir_name');
  await passes('fd_prestat_dir_name', { scratch: '/mnt/some-longer-name' });
});

test('fd_read: stdin as given, scatter reads, EOF, ENOTCAPABLE without fd_read', async () => {
  await passes('fd_read', { stdin: 'ping\n' });
  const wrong = await runGuest('c', 'fd_read', { scratch: true, stdin: 'pong\n' });
  assert.equal(wrong.exitCode, 1, 'the program checks what stdin held');
});

test('fd_write: stdout and stderr get exactly the bytes; gathers; APPEND writes at the end', async () => {
  const r = await passes('fd_write');
  assert.match(r.out, /^to stdout\n/m);
  assert.equal(r.err, 'to stderr\n');
  assert.equal(readFileSync(join(r.scratchHost!, 'f'), 'utf8'), 'aabcefdef');
});

test('fd_seek: SET/CUR/END, past the end, EINVAL for negative offsets and bad whence', async () => {
  await passes('fd_seek');
});

test('fd_tell: follows reads, writes, seeks and appends', async () => {
  await passes('fd_tell');
});

test('fd_renumber: the target takes over the source, which is closed', async () => {
  await passes('fd_renumber');
});

test('fd_readdir: packed dirents, resumable cookies, full short buffers, d_type', async () => {
  await passes('fd_readdir');
});

test('fd programs pass on a mount with an absolute guest path too', async () => {
  for (const name of ['fd_read', 'fd_write', 'fd_readdir', 'fd_seek']) {
    assertPassed(await runGuest('c', name, { scratch: '/data', stdin: 'ping\n' }));
  }
  assert.ok(!existsSync('/data/f'), 'nothing was written to the real /data');
});
