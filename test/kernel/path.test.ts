// path_* calls: each C test program runs in a fresh writable scratch directory (argv[1]); the
// host side is checked where the effect must be visible on the mounted directory.
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { passes } from '../helpers.ts';

test('path_create_directory: EEXIST, ENOENT, ENOTDIR; trailing slash; .. inside the preopen', async () => {
  const r = await passes('path_create_directory');
  assert.deepEqual(readdirSync(r.scratchHost!).sort(), ['d', 'f', 'trail']);
  assert.deepEqual(readdirSync(join(r.scratchHost!, 'd')).sort(), ['e', 'g']);
});

test('path_filestat_get: follows a final symlink only when asked', async () => {
  await passes('path_filestat_get');
});

test('path_filestat_set_times: by path, through symlinks, EINVAL for contradictory flags', async () => {
  await passes('path_filestat_set_times');
});

test('path_link: hard links share the inode; EEXIST, ENOENT, EPERM for directories', async () => {
  const r = await passes('path_link');
  assert.equal(lstatSync(join(r.scratchHost!, 'g')).ino, lstatSync(join(r.scratchHost!, 'd', 'h')).ino);
});

test('path_open: CREAT, EXCL, TRUNC, DIRECTORY, APPEND, symlink following, rights', async () => {
  const r = await passes('path_open');
  assert.equal(readFileSync(join(r.scratchHost!, 'log'), 'utf8'), 'abc');
});

test('path_readlink: contents verbatim, EINVAL on a non-symlink', async () => {
  await passes('path_readlink');
});

test('path_remove_directory: only empty directories; ENOTEMPTY, ENOTDIR, ENOENT', async () => {
  const r = await passes('path_remove_directory');
  assert.deepEqual(readdirSync(r.scratchHost!).sort(), ['full', 'ltarget', 'target']);
});

test('path_rename: replaces files and empty directories; ENOTEMPTY, EISDIR, ENOTDIR, EINVAL', async () => {
  const r = await passes('path_rename');
  assert.deepEqual(readdirSync(r.scratchHost!).sort(), ['empty', 'lt2', 'other', 't']);
  assert.equal(readFileSync(join(r.scratchHost!, 'other', 'moved'), 'utf8'), 'CCCCC');
});

test('path_symlink: relative and dangling targets, EEXIST, ENOENT', async () => {
  const r = await passes('path_symlink');
  assert.equal(readlinkSync(join(r.scratchHost!, 'd', 'up')), '../f');
});

test('path_unlink_file: files and symlinks, never directories; open files stay readable', async () => {
  const r = await passes('path_unlink_file');
  assert.deepEqual(readdirSync(r.scratchHost!).sort(), ['d', 't']);
});
