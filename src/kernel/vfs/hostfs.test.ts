/**
 * Host-directory mounts: reading and writing through node:fs, confinement against
 * host-side symlinks and `..`, read-only mounts, cross-device renames, mounts grafted
 * into the image root, and mount validation.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Errno, FileType, OFlags, Rights } from '../abi.ts';
import { isNanovisorError } from '../../shared/errors.ts';
import { buildImageTree, createFileSystem, type MountSpec } from './index.ts';
import { FIRST_PREOPEN, Guest } from './testing.ts';

let tmp: string;
let outside: string;
let secret: string;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nv-vfs-'));
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  secret = path.join(outside, 'secret.txt');
  fs.writeFileSync(secret, 'TOP SECRET');
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
/** A fresh host dir with a file and a subdir; returns its path. */
function hostDir(): string {
  const d = path.join(tmp, `m${n++}`);
  fs.mkdirSync(path.join(d, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(d, 'hello.txt'), 'hello host');
  fs.writeFileSync(path.join(d, 'sub', 'inner.txt'), 'inner');
  return d;
}

function mountVm(mounts: MountSpec[], image = false): Guest {
  return new Guest(createFileSystem({
    ...(image ? { image: buildImageTree([{ path: '/etc/motd', kind: 'file', data: new TextEncoder().encode('img'), mode: 0o644 }]) } : {}),
    mounts,
    writableLayerBytes: 1 << 20,
  }));
}

function readAll(g: Guest, dirfd: number, p: string): string {
  const fd = g.openOk(dirfd, p, { base: Rights.FD_READ });
  const r = g.read(fd, 65536);
  g.close(fd);
  assert.equal(r.errno, 0);
  return r.data;
}

const M = FIRST_PREOPEN;

describe('read-write host mount', () => {
  it('reads, creates, writes, lists, renames, links and removes', () => {
    const dir = hostDir();
    const g = mountVm([{ hostPath: dir, guestPath: 'fs-tests.dir', readonly: false }]);
    assert.equal(readAll(g, M, 'hello.txt'), 'hello host');
    const fd = g.openOk(M, 'new.txt', { oflags: OFlags.CREAT | OFlags.EXCL });
    assert.equal(g.write(fd, 'abc').n, 3);
    assert.equal(g.pwrite(fd, 'Z', 5n).n, 1);
    g.close(fd);
    assert.equal(fs.readFileSync(path.join(dir, 'new.txt'), 'latin1'), 'abc\0\0Z');
    assert.equal(g.open(M, 'new.txt', { oflags: OFlags.CREAT | OFlags.EXCL }).errno, Errno.EXIST);
    assert.equal(g.mkdir(M, 'made'), 0);
    assert.ok(fs.statSync(path.join(dir, 'made')).isDirectory());
    assert.equal(g.rename(M, 'new.txt', M, 'made/renamed.txt'), 0);
    assert.equal(g.link(M, 'made/renamed.txt', M, 'hard.txt'), 0);
    assert.equal(g.stat(M, 'hard.txt').stat!.nlink, 2n);
    assert.equal(g.symlink('sub/inner.txt', M, 'ln'), 0);
    assert.equal(fs.readlinkSync(path.join(dir, 'ln')), 'sub/inner.txt');
    assert.equal(readAll(g, M, 'ln'), 'inner');
    assert.equal(g.readlink(M, 'ln').target, 'sub/inner.txt');
    const d = g.openOk(M, '.', { oflags: OFlags.DIRECTORY });
    const names = g.readdir(d, 50).entries.map((e) => e.name);
    assert.deepEqual(names, ['.', '..', 'hard.txt', 'hello.txt', 'ln', 'made', 'sub']);
    assert.equal(g.rmdir(M, 'made'), Errno.NOTEMPTY);
    assert.equal(g.unlink(M, 'made/renamed.txt'), 0);
    assert.equal(g.rmdir(M, 'made'), 0);
    assert.equal(g.unlink(M, 'sub'), Errno.ISDIR);
    assert.equal(g.rename(M, 'sub', M, 'sub/x'), Errno.INVAL);
    assert.equal(g.stat(M, 'hello.txt').stat!.filetype, FileType.REGULAR_FILE);
    assert.equal(g.stat(M, 'ln', false).stat!.filetype, FileType.SYMBOLIC_LINK);
    const [p, len] = g.put('hello.txt');
    assert.equal(g.call('path_filestat_set_times', M, 0, p, len, 5_000_000_000n, 7_000_000_000n, 1 | 4), 0);
    assert.equal(fs.statSync(path.join(dir, 'hello.txt')).mtimeMs, 7000);
  });

  it('keeps timestamps exact to the nanosecond', () => {
    const g = mountVm([{ hostPath: hostDir(), guestPath: 'm', readonly: false }]);
    const before = g.stat(M, 'hello.txt').stat!;
    const mtim = before.mtim - 100n;
    const [p, len] = g.put('hello.txt');
    assert.equal(g.call('path_filestat_set_times', M, 0, p, len, 0n, mtim, 4), 0);
    const after = g.stat(M, 'hello.txt').stat!;
    assert.equal(after.mtim, mtim);
    assert.equal(after.atim, before.atim);
    const fd = g.openOk(M, 'hello.txt', { base: Rights.FD_READ | Rights.FD_FILESTAT_SET_TIMES | Rights.FD_FILESTAT_GET });
    assert.equal(g.call('fd_filestat_set_times', fd, 123_456_789_123n, 0n, 1), 0);
    assert.equal(g.fstat(fd).stat!.atim, 123_456_789_123n);
    assert.equal(g.fstat(fd).stat!.mtim, mtim);
  });

  it('names the preopen exactly as its guestPath', () => {
    const g = mountVm([{ hostPath: hostDir(), guestPath: 'fs-tests.dir', readonly: false }]);
    const out = g.alloc(8);
    assert.equal(g.call('fd_prestat_get', M, out), 0);
    assert.equal(g.u32(out + 4), 'fs-tests.dir'.length);
  });
});

describe('confinement of host mounts', () => {
  it('refuses .. from the mount root and absolute paths', () => {
    const g = mountVm([{ hostPath: hostDir(), guestPath: '/data', readonly: false }]);
    assert.equal(g.open(M, '..').errno, Errno.NOTCAPABLE);
    assert.equal(g.open(M, '../outside/secret.txt').errno, Errno.NOTCAPABLE);
    assert.equal(g.open(M, 'sub/../../outside/secret.txt').errno, Errno.NOTCAPABLE);
    assert.equal(g.open(M, secret).errno, Errno.NOTCAPABLE);
  });

  it('never follows host-side symlinks out of the mount', () => {
    const dir = hostDir();
    fs.symlinkSync(secret, path.join(dir, 'abs-out'));
    fs.symlinkSync('../outside/secret.txt', path.join(dir, 'rel-out'));
    fs.symlinkSync(outside, path.join(dir, 'dir-out'));
    fs.symlinkSync('../../outside', path.join(dir, 'sub', 'deep-out'));
    fs.symlinkSync('loop2', path.join(dir, 'loop1'));
    fs.symlinkSync('loop1', path.join(dir, 'loop2'));
    const g = mountVm([{ hostPath: dir, guestPath: 'm', readonly: false }]);
    assert.equal(g.open(M, 'abs-out').errno, Errno.NOTCAPABLE);
    assert.equal(g.open(M, 'rel-out').errno, Errno.NOTCAPABLE);
    assert.equal(g.open(M, 'dir-out/secret.txt').errno, Errno.NOTCAPABLE);
    assert.equal(g.open(M, 'sub/deep-out/secret.txt').errno, Errno.NOTCAPABLE);
    assert.equal(g.stat(M, 'abs-out').errno, Errno.NOTCAPABLE);
    assert.equal(g.stat(M, 'dir-out/secret.txt', false).errno, Errno.NOTCAPABLE);
    assert.equal(g.open(M, 'loop1').errno, Errno.LOOP);
    // Without follow, the final symlink is not opened (O_NOFOLLOW), only stat'ed.
    assert.equal(g.open(M, 'abs-out', { follow: false }).errno, Errno.LOOP);
    assert.equal(g.stat(M, 'abs-out', false).stat!.filetype, FileType.SYMBOLIC_LINK);
    // Creating through an escaping symlink fails and writes nothing outside.
    assert.equal(g.open(M, 'dir-out/planted', { oflags: OFlags.CREAT }).errno, Errno.NOTCAPABLE);
    assert.equal(g.mkdir(M, 'dir-out/planted'), Errno.NOTCAPABLE);
    assert.equal(g.rename(M, 'hello.txt', M, 'dir-out/stolen'), Errno.NOTCAPABLE);
    assert.equal(g.link(M, 'hello.txt', M, 'dir-out/stolen'), Errno.NOTCAPABLE);
    assert.equal(g.link(M, 'abs-out', M, 'l', true), Errno.NOTCAPABLE);
    // Removing or renaming the symlink itself affects only the link.
    assert.equal(g.rename(M, 'abs-out', M, 'renamed-link'), 0);
    assert.equal(g.unlink(M, 'renamed-link'), 0);
    assert.deepEqual(fs.readdirSync(outside), ['secret.txt']);
    assert.equal(fs.readFileSync(secret, 'utf8'), 'TOP SECRET');
  });

  it('a directory fd whose ancestor was swapped for a symlink does not follow it', () => {
    const dir = hostDir();
    fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
    fs.mkdirSync(path.join(outside, 'b'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'b', 'loot'), 'LOOT');
    const g = mountVm([{ hostPath: dir, guestPath: 'm', readonly: false }]);
    const b = g.openOk(M, 'a/b', { oflags: OFlags.DIRECTORY });
    assert.equal(g.open(b, 'loot').errno, Errno.NOENT);
    // Move a away and put a symlink (relative, so allowed) where it was.
    assert.equal(g.rename(M, 'a', M, 'moved'), 0);
    const rel = path.relative(dir, outside);
    assert.equal(g.symlink(rel, M, 'a'), 0);
    assert.equal(g.open(b, 'loot').errno, Errno.NOENT);
    assert.equal(g.stat(b, '.').errno, Errno.NOENT);
    assert.equal(g.fstat(b).errno, Errno.NOENT);
    assert.equal(g.readdir(b).errno, Errno.NOENT);
    assert.equal(g.open(b, 'new', { oflags: OFlags.CREAT }).errno, Errno.NOENT);
    assert.deepEqual(fs.readdirSync(path.join(outside, 'b')), ['loot']);
    fs.rmSync(path.join(outside, 'b'), { recursive: true });
  });

  it('does not plant absolute symlinks on the host', () => {
    const dir = hostDir();
    const g = mountVm([{ hostPath: dir, guestPath: 'm', readonly: false }]);
    assert.equal(g.symlink(secret, M, 'abs'), Errno.NOTCAPABLE);
    assert.equal(fs.existsSync(path.join(dir, 'abs')), false);
  });

  it('refuses renames and links out of a mount with EXDEV', () => {
    const a = hostDir();
    const b = hostDir();
    const g = mountVm([
      { hostPath: a, guestPath: '/a', readonly: false },
      { hostPath: b, guestPath: '/b', readonly: false },
    ], true);
    const ROOT = 3, A = 4, B = 5;
    assert.equal(g.rename(A, 'hello.txt', B, 'moved'), Errno.XDEV);
    assert.equal(g.link(A, 'hello.txt', B, 'moved'), Errno.XDEV);
    assert.equal(g.rename(A, 'hello.txt', ROOT, 'moved'), Errno.XDEV);
    assert.equal(g.rename(ROOT, 'etc/motd', A, 'moved'), Errno.XDEV);
    // Through the grafted paths of the root too.
    assert.equal(g.rename(ROOT, 'a/hello.txt', ROOT, 'b/moved'), Errno.XDEV);
    assert.equal(g.rename(ROOT, 'a/hello.txt', ROOT, 'moved'), Errno.XDEV);
    assert.equal(fs.existsSync(path.join(a, 'hello.txt')), true);
    assert.equal(fs.existsSync(path.join(b, 'moved')), false);
  });

  it('refuses FIFOs instead of blocking the host', { skip: process.platform === 'win32' }, () => {
    const dir = hostDir();
    try {
      execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    } catch {
      return;
    }
    const g = mountVm([{ hostPath: dir, guestPath: 'm', readonly: false }]);
    assert.equal(g.open(M, 'fifo', { base: Rights.FD_READ }).errno, Errno.NOTSUP);
  });
});

describe('read-only host mount', () => {
  it('answers EROFS to every modification and still reads', () => {
    const dir = hostDir();
    const g = mountVm([{ hostPath: dir, guestPath: '/ro', readonly: true }]);
    assert.equal(readAll(g, M, 'hello.txt'), 'hello host');
    assert.equal(g.open(M, 'hello.txt', { base: Rights.FD_READ | Rights.FD_WRITE }).errno, Errno.ROFS);
    assert.equal(g.open(M, 'hello.txt', { base: Rights.FD_READ, oflags: OFlags.TRUNC }).errno, Errno.ROFS);
    assert.equal(g.open(M, 'new', { oflags: OFlags.CREAT }).errno, Errno.ROFS);
    assert.equal(g.mkdir(M, 'd'), Errno.ROFS);
    assert.equal(g.unlink(M, 'hello.txt'), Errno.ROFS);
    assert.equal(g.rmdir(M, 'sub/'), Errno.NOTEMPTY);
    assert.equal(g.rename(M, 'hello.txt', M, 'x'), Errno.ROFS);
    assert.equal(g.symlink('hello.txt', M, 'l'), Errno.ROFS);
    assert.equal(g.link(M, 'hello.txt', M, 'l'), Errno.ROFS);
    const [p, len] = g.put('hello.txt');
    assert.equal(g.call('path_filestat_set_times', M, 0, p, len, 0n, 0n, 2), Errno.ROFS);
    // A read fd holding set_size rights still cannot change the file.
    const fd = g.openOk(M, 'hello.txt', { base: Rights.FD_READ | Rights.FD_FILESTAT_SET_SIZE });
    assert.equal(g.call('fd_filestat_set_size', fd, 0n), Errno.ROFS);
    assert.equal(fs.readFileSync(path.join(dir, 'hello.txt'), 'utf8'), 'hello host');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['hello.txt', 'sub']);
  });
});

describe('mounts grafted into the image root', () => {
  it('makes /data/x reachable through / and lists the mount point', () => {
    const dir = hostDir();
    const g = mountVm([{ hostPath: dir, guestPath: '/srv/data', readonly: false }], true);
    const ROOT = 3, DATA = 4;
    assert.equal(readAll(g, ROOT, 'srv/data/hello.txt'), 'hello host');
    assert.equal(readAll(g, DATA, 'hello.txt'), 'hello host');
    assert.equal(readAll(g, ROOT, 'srv/data/../../etc/motd'), 'img');
    const fd = g.openOk(ROOT, 'srv/data/via-root', { oflags: OFlags.CREAT });
    g.write(fd, 'x');
    assert.equal(fs.readFileSync(path.join(dir, 'via-root'), 'utf8'), 'x');
    const srv = g.openOk(ROOT, 'srv', { oflags: OFlags.DIRECTORY });
    const names = g.readdir(srv).entries.map((e) => [e.name, e.type]);
    assert.deepEqual(names.slice(2), [['data', FileType.DIRECTORY]]);
    // The mount point and its parents cannot be removed or renamed away.
    assert.equal(g.rmdir(ROOT, 'srv/data'), Errno.NOTEMPTY);
    assert.equal(g.rename(ROOT, 'srv/data', ROOT, 'elsewhere'), Errno.BUSY);
    assert.equal(g.rename(ROOT, 'srv', ROOT, 'elsewhere'), Errno.BUSY);
    assert.equal(g.mkdir(ROOT, 'srv/data'), Errno.EXIST);
    // .. from the mount's own preopen still stops at its root.
    assert.equal(g.open(DATA, '../etc/motd').errno, Errno.NOTCAPABLE);
  });

  it('validates mounts with NV_MOUNT_INVALID', () => {
    const bad = (m: MountSpec, image = false) => assert.throws(
      () => createFileSystem({ ...(image ? { image: buildImageTree([{ path: '/f', kind: 'file', mode: 0 }]) } : {}), mounts: [m], writableLayerBytes: 1 }),
      (e) => isNanovisorError(e, 'NV_MOUNT_INVALID'),
    );
    bad({ hostPath: path.join(tmp, 'does-not-exist'), guestPath: '/x', readonly: true });
    bad({ hostPath: secret, guestPath: '/x', readonly: true });
    bad({ hostPath: outside, guestPath: '', readonly: true });
    bad({ hostPath: outside, guestPath: '/', readonly: true }, true);
    bad({ hostPath: outside, guestPath: '/f/x', readonly: true }, true);
    bad({ hostPath: outside, guestPath: '/a/../b', readonly: true }, true);
  });
});

describe('a volume mount with a quota (MountBudget)', () => {
  /** A mount with room for `bytes` and `files`; returns the guest, the host dir and the usage report. */
  function budgeted(bytes: number, files: number) {
    const dir = fs.mkdtempSync(path.join(tmp, 'q'));
    const fsys = createFileSystem({ mounts: [{ hostPath: dir, guestPath: '/v', readonly: false, quota: { bytes, files } }], writableLayerBytes: 1 << 20 });
    return { g: new Guest(fsys), dir, usage: () => fsys.mountUsage()[0]! };
  }

  it('a write past the quota is ENOSPC and writes nothing: never a short write', () => {
    const { g, dir, usage } = budgeted(10, 5);
    const fd = g.openOk(M, 'a', { oflags: OFlags.CREAT });
    assert.equal(g.write(fd, '123456').n, 6);
    assert.equal(g.write(fd, '12345').errno, Errno.NOSPC);
    assert.equal(fs.readFileSync(path.join(dir, 'a'), 'latin1'), '123456', 'nothing of the refused write');
    // Overwriting inside the file costs nothing; growing to exactly the quota is fine.
    assert.equal(g.pwrite(fd, 'abcdef', 0n).n, 6);
    assert.equal(g.write(fd, '7890').n, 4);
    assert.equal(g.call('fd_filestat_set_size', fd, 11n), Errno.NOSPC);
    assert.equal(g.call('fd_filestat_set_size', fd, 2n), 0, 'shrinking frees room');
    assert.deepEqual({ bytes: usage().bytes, files: usage().files }, { bytes: 2, files: 1 });
    assert.equal(g.call('fd_sync', fd), 0);
    assert.equal(usage().syncs, 1);
    g.close(fd);
  });

  it('entries count against the file quota; removing and replacing give room back', () => {
    const { g, usage } = budgeted(100, 2);
    assert.equal(g.mkdir(M, 'd'), 0);
    const fd = g.openOk(M, 'f', { oflags: OFlags.CREAT });
    assert.equal(g.write(fd, 'xxxx').n, 4);
    g.close(fd);
    assert.equal(g.open(M, 'g', { oflags: OFlags.CREAT }).errno, Errno.NOSPC);
    assert.equal(g.symlink('f', M, 's'), Errno.NOSPC);
    assert.equal(g.rmdir(M, 'd'), 0);
    const fd2 = g.openOk(M, 'g', { oflags: OFlags.CREAT });
    assert.equal(g.write(fd2, 'yy').n, 2);
    g.close(fd2);
    // g replaces f: f's entry and bytes stop counting.
    assert.equal(g.rename(M, 'g', M, 'f'), 0);
    assert.deepEqual({ bytes: usage().bytes, files: usage().files }, { bytes: 2, files: 1 });
    assert.equal(g.unlink(M, 'f'), 0);
    assert.deepEqual({ bytes: usage().bytes, files: usage().files }, { bytes: 0, files: 0 });
  });

  it('fd_sync of a directory succeeds (it syncs the entries the VM changed)', () => {
    const { g } = budgeted(100, 10);
    const fd = g.openOk(M, 'n', { oflags: OFlags.CREAT });
    g.close(fd);
    const dirfd = g.openOk(M, '.', { oflags: OFlags.DIRECTORY, base: Rights.FD_SYNC | Rights.FD_READDIR });
    assert.equal(g.call('fd_sync', dirfd), 0);
    assert.equal(g.call('fd_datasync', M), 0);
  });
});
