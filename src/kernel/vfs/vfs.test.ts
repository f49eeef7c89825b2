/**
 * The image lower layer, the per-VM CoW layer, path resolution and the path_* / fd_*
 * calls on it, driven through a real Kernel as a guest would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno, FdFlags, FileType, OFlags, RIGHTS_ALL, Rights, Whence } from '../abi.ts';
import { isNanovisorError } from '../../shared/errors.ts';
import { buildImageTree, createFileSystem, type ImageFile } from './index.ts';
import { ENTRY_COST } from './memfs.ts';
import { FIRST_PREOPEN as ROOT, Guest } from './testing.ts';

const enc = (s: string) => new TextEncoder().encode(s);

const FILES: ImageFile[] = [
  { path: '/etc', kind: 'dir', mode: 0o755 },
  { path: '/etc/motd', kind: 'file', data: enc('hello from the image\n'), mode: 0o644 },
  { path: '/app/main.txt', kind: 'file', data: enc('0123456789'), mode: 0o644 },
  { path: '/app/sub/deep.txt', kind: 'file', data: enc('deep'), mode: 0o644 },
  { path: '/app/link-rel', kind: 'symlink', target: 'main.txt', mode: 0o777 },
  { path: '/app/link-abs', kind: 'symlink', target: '/etc/motd', mode: 0o777 },
  { path: '/app/link-up', kind: 'symlink', target: '../etc/motd', mode: 0o777 },
  { path: '/app/link-escape', kind: 'symlink', target: '../../etc/motd', mode: 0o777 },
  { path: '/app/loop-a', kind: 'symlink', target: 'loop-b', mode: 0o777 },
  { path: '/app/loop-b', kind: 'symlink', target: 'loop-a', mode: 0o777 },
  { path: '/app/chain1', kind: 'symlink', target: 'chain2', mode: 0o777 },
  { path: '/app/chain2', kind: 'symlink', target: 'sub/../link-rel', mode: 0o777 },
  { path: '/app/dirlink', kind: 'symlink', target: 'sub', mode: 0o777 },
];

function vm(quota = 1 << 20, files = FILES): Guest {
  const image = buildImageTree(files);
  return new Guest(createFileSystem({ image, mounts: [], writableLayerBytes: quota }));
}

function readAll(g: Guest, dirfd: number, path: string): string {
  const fd = g.openOk(dirfd, path);
  const r = g.read(fd, 65536);
  g.close(fd);
  assert.equal(r.errno, 0);
  return r.data;
}

describe('buildImageTree', () => {
  it('rejects .., relative paths, duplicates, files under files, symlinks without target', () => {
    const bad: ImageFile[][] = [
      [{ path: '/a/../b', kind: 'file', mode: 0 }],
      [{ path: 'rel', kind: 'file', mode: 0 }],
      [{ path: '/a', kind: 'file', mode: 0 }, { path: '/a', kind: 'file', mode: 0 }],
      [{ path: '/a', kind: 'dir', mode: 0 }, { path: '/a/', kind: 'dir', mode: 0 }],
      [{ path: '/a', kind: 'file', mode: 0 }, { path: '/a/b', kind: 'file', mode: 0 }],
      [{ path: '/s', kind: 'symlink', mode: 0 }],
      [{ path: '/a\0b', kind: 'file', mode: 0 }],
      [{ path: '/', kind: 'file', mode: 0 }],
    ];
    for (const files of bad) {
      assert.throws(() => buildImageTree(files), (e) => isNanovisorError(e, 'NV_IMAGE_FILES_INVALID'), JSON.stringify(files.map((f) => f.path)));
    }
  });

  it('creates missing parents and accepts an explicit dir after its children', () => {
    const t = buildImageTree([{ path: '/x/y/z', kind: 'file', mode: 0o644 }, { path: '/x', kind: 'dir', mode: 0o700 }]);
    assert.equal(t.root.entries.get('x')?.kind, 'dir');
    assert.equal(t.root.entries.get('x')!.mode, 0o700);
  });
});

describe('image root with a CoW layer', () => {
  it('reads image files, lists directories with . and .. and stable cookies', () => {
    const g = vm();
    assert.equal(readAll(g, ROOT, 'etc/motd'), 'hello from the image\n');
    const d = g.openOk(ROOT, 'app', { oflags: OFlags.DIRECTORY });
    const { errno, entries } = g.readdir(d, 40);
    assert.equal(errno, 0);
    const names = entries.map((e) => e.name);
    assert.deepEqual(names.slice(0, 2), ['.', '..']);
    assert.deepEqual(names.slice(2), [...names.slice(2)].sort());
    assert.ok(names.includes('sub') && names.includes('main.txt') && names.includes('link-rel'));
    assert.equal(entries.find((e) => e.name === 'sub')!.type, FileType.DIRECTORY);
    assert.equal(entries.find((e) => e.name === 'link-rel')!.type, FileType.SYMBOLIC_LINK);
    // `..` of /app is the root.
    assert.equal(entries[1]!.ino, g.stat(ROOT, '.').stat!.ino);
    // Cookies are 1, 2, 3, ... in order.
    entries.forEach((e, i) => assert.equal(e.next, BigInt(i + 1)));
  });

  it("keeps one VM's writes out of another VM of the same image, and the image unchanged", () => {
    const image = buildImageTree(FILES);
    const a = new Guest(createFileSystem({ image, mounts: [], writableLayerBytes: 1 << 20 }));
    const b = new Guest(createFileSystem({ image, mounts: [], writableLayerBytes: 1 << 20 }));
    const motd = image.root.entries.get('etc');
    const before = (motd?.kind === 'dir' ? motd.entries.get('motd') : undefined);
    assert.equal(before?.kind, 'file');

    const fd = a.openOk(ROOT, 'etc/motd', { oflags: OFlags.TRUNC });
    assert.equal(a.write(fd, 'changed').errno, 0);
    assert.equal(a.mkdir(ROOT, 'newdir'), 0);
    assert.equal(a.unlink(ROOT, 'app/main.txt'), 0);
    assert.equal(a.rename(ROOT, 'app/sub', ROOT, 'moved'), 0);
    assert.equal(readAll(a, ROOT, 'etc/motd'), 'changed');

    assert.equal(readAll(b, ROOT, 'etc/motd'), 'hello from the image\n');
    assert.equal(b.stat(ROOT, 'newdir').errno, Errno.NOENT);
    assert.equal(readAll(b, ROOT, 'app/main.txt'), '0123456789');
    assert.equal(readAll(b, ROOT, 'app/sub/deep.txt'), 'deep');
    assert.equal(b.stat(ROOT, 'moved').errno, Errno.NOENT);

    // The shared tree itself is untouched.
    if (before?.kind === 'file') assert.equal(new TextDecoder().decode(before.data), 'hello from the image\n');
    const app = image.root.entries.get('app');
    assert.ok(app?.kind === 'dir' && app.entries.has('main.txt') && app.entries.has('sub'));
    assert.ok(!image.root.entries.has('newdir'));
    // A fresh VM still sees the original.
    const c = vm();
    assert.equal(readAll(c, ROOT, 'etc/motd'), 'hello from the image\n');
  });

  it('partial overwrite of an image file copies up the rest', () => {
    const g = vm();
    const fd = g.openOk(ROOT, 'app/main.txt');
    assert.equal(g.pwrite(fd, 'ab', 3n).n, 2);
    assert.equal(g.pread(fd, 0n).data, '012ab56789');
    assert.equal(g.fstat(fd).stat!.size, 10n);
  });

  it('keeps unlinked-but-open files readable', () => {
    const g = vm();
    const fd = g.openOk(ROOT, 'f', { oflags: OFlags.CREAT });
    g.write(fd, 'still here');
    assert.equal(g.unlink(ROOT, 'f'), 0);
    assert.equal(g.pread(fd, 0n).data, 'still here');
    assert.equal(g.fstat(fd).stat!.nlink, 0n);
  });
});

describe('quota of the writable layer', () => {
  it('refuses a write past the quota with ENOSPC and leaves the file as it was', () => {
    const g = vm(4096);
    const fd = g.openOk(ROOT, 'big', { oflags: OFlags.CREAT });
    assert.equal(g.write(fd, 'x'.repeat(1000)).n, 1000);
    const r = g.write(fd, 'y'.repeat(4000));
    assert.equal(r.errno, Errno.NOSPC);
    assert.equal(g.fstat(fd).stat!.size, 1000n);
    assert.equal(g.pread(fd, 0n, 8192).data, 'x'.repeat(1000));
    assert.equal(g.seek(fd, 0n, Whence.CUR).pos, 1000n);
    // set_size past the quota fails too, and changes nothing.
    assert.equal(g.call('fd_filestat_set_size', fd, 1_000_000n), Errno.NOSPC);
    assert.equal(g.fstat(fd).stat!.size, 1000n);
  });

  it('charges copy-up of an image file, and frees space on unlink', () => {
    const big = new Uint8Array(3000).fill(65);
    const g = vm(4000, [{ path: '/big', kind: 'file', data: big, mode: 0o644 }]);
    const fd = g.openOk(ROOT, 'big');
    // Modifying one byte copies 3000 bytes up: fits. A second such file would not.
    assert.equal(g.pwrite(fd, 'B', 0n).errno, 0);
    const fd2 = g.openOk(ROOT, 'other', { oflags: OFlags.CREAT });
    assert.equal(g.write(fd2, 'z'.repeat(2000)).errno, Errno.NOSPC);
    g.close(fd);
    assert.equal(g.unlink(ROOT, 'big'), 0);
    assert.equal(g.write(fd2, 'z'.repeat(2000)).errno, 0);
  });

  it('counts names: creating entries forever runs out of space', () => {
    const g = vm(ENTRY_COST * 10);
    let i = 0;
    let errno = 0;
    for (; i < 100 && errno === 0; i++) errno = g.mkdir(ROOT, `d${i}`);
    assert.equal(errno, Errno.NOSPC);
    assert.ok(i < 12);
    // Removing frees the names again.
    assert.equal(g.rmdir(ROOT, 'd0'), 0);
    assert.equal(g.mkdir(ROOT, 'again'), 0);
  });

  it('truncating an image file to 0 costs nothing', () => {
    const g = vm(10, [{ path: '/f', kind: 'file', data: new Uint8Array(1000), mode: 0o644 }]);
    const fd = g.openOk(ROOT, 'f', { oflags: OFlags.TRUNC });
    assert.equal(g.fstat(fd).stat!.size, 0n);
  });
});

describe('confinement of paths', () => {
  it('refuses .. past the dirfd, a/../../x, absolute paths', () => {
    const g = vm();
    assert.equal(g.open(ROOT, '..').errno, Errno.NOTCAPABLE);
    assert.equal(g.open(ROOT, 'app/../../etc/motd').errno, Errno.NOTCAPABLE);
    assert.equal(g.open(ROOT, '/etc/motd').errno, Errno.NOTCAPABLE);
    assert.equal(g.stat(ROOT, '../x').errno, Errno.NOTCAPABLE);
    assert.equal(g.mkdir(ROOT, '../x'), Errno.NOTCAPABLE);
    // .. inside the namespace is fine.
    assert.equal(readAll(g, ROOT, 'app/sub/../../etc/motd'), 'hello from the image\n');
  });

  it('confines a subdirectory fd to its own subtree (as wasmtime does)', () => {
    const g = vm();
    const app = g.openOk(ROOT, 'app', { oflags: OFlags.DIRECTORY });
    assert.equal(g.open(app, '../etc/motd').errno, Errno.NOTCAPABLE);
    assert.equal(g.open(app, 'link-up').errno, Errno.NOTCAPABLE);
    assert.equal(readAll(g, app, 'sub/../main.txt'), '0123456789');
  });

  it('refuses absolute symlinks and symlinks that climb out; follows relative ones and chains', () => {
    const g = vm();
    assert.equal(g.open(ROOT, 'app/link-abs').errno, Errno.NOTCAPABLE);
    assert.equal(g.open(ROOT, 'app/link-escape').errno, Errno.NOTCAPABLE);
    assert.equal(readAll(g, ROOT, 'app/link-up'), 'hello from the image\n');
    assert.equal(readAll(g, ROOT, 'app/link-rel'), '0123456789');
    assert.equal(readAll(g, ROOT, 'app/chain1'), '0123456789');
    assert.equal(readAll(g, ROOT, 'app/dirlink/deep.txt'), 'deep');
    // A guest-made symlink to ../.. escapes neither.
    assert.equal(g.symlink('../..', ROOT, 'app/sub/up2'), 0);
    assert.equal(g.open(ROOT, 'app/sub/up2/x').errno, Errno.NOENT);
    assert.equal(g.symlink('../../..', ROOT, 'app/sub/up3'), 0);
    assert.equal(g.open(ROOT, 'app/sub/up3/etc/motd').errno, Errno.NOTCAPABLE);
  });

  it('gives ELOOP for loops and for more than 40 hops', () => {
    const g = vm();
    assert.equal(g.open(ROOT, 'app/loop-a').errno, Errno.LOOP);
    assert.equal(g.stat(ROOT, 'app/loop-a/x', false).errno, Errno.LOOP);
    for (let i = 0; i < 40; i++) assert.equal(g.symlink(`s${i + 1}`, ROOT, `s${i}`), 0);
    assert.equal(g.symlink('app', ROOT, 's40'), 0);
    assert.equal(g.stat(ROOT, 's1').errno, 0); // 40 hops
    assert.equal(g.stat(ROOT, 's0').errno, Errno.LOOP); // 41 hops
    assert.equal(g.stat(ROOT, 's0', false).errno, 0); // the link itself
  });

  it('lookupflags follow only the last component', () => {
    const g = vm();
    assert.equal(g.stat(ROOT, 'app/link-rel', false).stat!.filetype, FileType.SYMBOLIC_LINK);
    assert.equal(g.stat(ROOT, 'app/link-rel', true).stat!.filetype, FileType.REGULAR_FILE);
    // Intermediate symlinks are always followed.
    assert.equal(g.stat(ROOT, 'app/dirlink/deep.txt', false).stat!.filetype, FileType.REGULAR_FILE);
    // Without follow, opening a symlink is ELOOP (O_NOFOLLOW).
    assert.equal(g.open(ROOT, 'app/link-rel', { follow: false }).errno, Errno.LOOP);
  });

  it('handles empty paths, NUL and trailing slashes', () => {
    const g = vm();
    assert.equal(g.open(ROOT, '').errno, Errno.NOENT);
    assert.equal(g.open(ROOT, 'etc\0motd').errno, Errno.INVAL);
    assert.equal(g.open(ROOT, 'etc/motd/').errno, Errno.NOTDIR);
    assert.equal(g.open(ROOT, 'etc/', { base: Rights.FD_READDIR }).errno, 0);
    assert.equal(g.open(ROOT, 'new/', { oflags: OFlags.CREAT }).errno, Errno.ISDIR);
    assert.equal(g.stat(ROOT, 'app/dirlink/', false).stat!.filetype, FileType.DIRECTORY);
    // Resolution is linear: a huge path of "./" components does not stall the host.
    assert.equal(g.stat(ROOT, './'.repeat(100_000) + 'etc/motd').errno, 0);
    assert.equal(g.stat(ROOT, 'etc/' + '/'.repeat(100_000)).errno, 0);
    // Names and symlink targets have Linux's limits.
    assert.equal(g.mkdir(ROOT, 'n'.repeat(256)), Errno.NAMETOOLONG);
    assert.equal(g.mkdir(ROOT, 'n'.repeat(255)), 0);
    assert.equal(g.symlink('t'.repeat(4096), ROOT, 'longlink'), Errno.NAMETOOLONG);
    // Invalid UTF-8 is EILSEQ.
    const [p] = g.put(new Uint8Array([0xff, 0xfe]));
    assert.equal(g.call('path_create_directory', ROOT, p, 2), Errno.ILSEQ);
  });
});

describe('path_open flags and rights', () => {
  it('O_CREAT|O_EXCL, O_DIRECTORY, EISDIR, unknown flags', () => {
    const g = vm();
    assert.equal(g.open(ROOT, 'etc/motd', { oflags: OFlags.CREAT | OFlags.EXCL }).errno, Errno.EXIST);
    assert.equal(g.open(ROOT, 'etc/motd', { oflags: OFlags.DIRECTORY }).errno, Errno.NOTDIR);
    assert.equal(g.open(ROOT, 'etc', { base: Rights.FD_WRITE }).errno, Errno.ISDIR);
    assert.equal(g.open(ROOT, 'etc', { oflags: OFlags.TRUNC }).errno, Errno.ISDIR);
    assert.equal(g.open(ROOT, 'etc', { oflags: OFlags.CREAT, base: Rights.FD_READDIR }).errno, Errno.ISDIR);
    assert.equal(g.open(ROOT, 'etc', { oflags: OFlags.DIRECTORY | OFlags.TRUNC }).errno, Errno.INVAL);
    assert.equal(g.open(ROOT, 'etc', { oflags: OFlags.DIRECTORY | OFlags.CREAT }).errno, Errno.INVAL);
    assert.equal(g.open(ROOT, 'x', { oflags: 16 }).errno, Errno.INVAL);
    assert.equal(g.open(ROOT, 'x', { oflags: OFlags.CREAT, fdflags: 64 }).errno, Errno.INVAL);
    // Excl on a dangling symlink is EEXIST and creates nothing through it.
    assert.equal(g.symlink('target', ROOT, 'dangling'), 0);
    assert.equal(g.open(ROOT, 'dangling', { oflags: OFlags.CREAT | OFlags.EXCL }).errno, Errno.EXIST);
    assert.equal(g.stat(ROOT, 'target').errno, Errno.NOENT);
    // Without EXCL, O_CREAT follows it and creates the target.
    assert.equal(g.open(ROOT, 'dangling', { oflags: OFlags.CREAT }).errno, 0);
    assert.equal(g.stat(ROOT, 'target').errno, 0);
  });

  it('masks rights by the dir inheriting set and by kind', () => {
    const g = vm();
    const fd = g.openOk(ROOT, 'etc/motd', { base: RIGHTS_ALL });
    const d = g.openOk(ROOT, 'etc', { base: RIGHTS_ALL & ~Rights.FD_WRITE });
    const rights = (f: number) => {
      const out = g.alloc(24);
      assert.equal(g.call('fd_fdstat_get', f, out), 0);
      return [g.u64(out + 8), g.u64(out + 16)] as const;
    };
    const [fb] = rights(fd);
    assert.equal(fb & Rights.PATH_OPEN, 0n);
    assert.notEqual(fb & Rights.FD_READ, 0n);
    const [db] = rights(d);
    assert.equal(db & Rights.FD_READ, 0n);
    assert.notEqual(db & Rights.PATH_OPEN, 0n);
    // A dir with a reduced inheriting set hands down no more.
    assert.equal(g.call('fd_fdstat_set_rights', d, db, Rights.FD_READ), 0);
    const f2 = g.openOk(d, 'motd', { base: RIGHTS_ALL });
    assert.equal(rights(f2)[0], Rights.FD_READ);
    assert.equal(g.write(f2, 'x').errno, Errno.NOTCAPABLE);
  });

  it('checks the dirfd rights of each path call', () => {
    const g = vm();
    const d = g.openOk(ROOT, 'app', { oflags: OFlags.DIRECTORY });
    assert.equal(g.call('fd_fdstat_set_rights', d, Rights.PATH_OPEN, Rights.FD_READ), 0);
    assert.equal(g.open(d, 'new', { oflags: OFlags.CREAT }).errno, Errno.NOTCAPABLE);
    assert.equal(g.open(d, 'main.txt', { oflags: OFlags.TRUNC }).errno, Errno.NOTCAPABLE);
    assert.equal(g.mkdir(d, 'x'), Errno.NOTCAPABLE);
    assert.equal(g.unlink(d, 'main.txt'), Errno.NOTCAPABLE);
    assert.equal(g.rmdir(d, 'sub'), Errno.NOTCAPABLE);
    assert.equal(g.symlink('a', d, 'b'), Errno.NOTCAPABLE);
    assert.equal(g.readlink(d, 'link-rel').errno, Errno.NOTCAPABLE);
    assert.equal(g.stat(d, 'main.txt').errno, Errno.NOTCAPABLE);
    assert.equal(g.rename(d, 'main.txt', ROOT, 'x'), Errno.NOTCAPABLE);
    assert.equal(g.rename(ROOT, 'etc/motd', d, 'x'), Errno.NOTCAPABLE);
    assert.equal(g.link(d, 'main.txt', ROOT, 'x'), Errno.NOTCAPABLE);
    assert.equal(g.open(d, 'main.txt').errno, 0);
    // A file fd is not a dirfd.
    const f = g.openOk(ROOT, 'etc/motd');
    assert.equal(g.open(f, 'x').errno, Errno.NOTDIR);
    assert.equal(g.open(99, 'x').errno, Errno.BADF);
  });
});

describe('path operations', () => {
  it('mkdir, rmdir, unlink with their errors', () => {
    const g = vm();
    assert.equal(g.mkdir(ROOT, 'etc'), Errno.EXIST);
    assert.equal(g.mkdir(ROOT, '.'), Errno.EXIST);
    assert.equal(g.mkdir(ROOT, 'd/'), 0);
    assert.equal(g.mkdir(ROOT, 'nope/d'), Errno.NOENT);
    assert.equal(g.unlink(ROOT, 'd'), Errno.ISDIR);
    assert.equal(g.unlink(ROOT, 'd/'), Errno.ISDIR);
    assert.equal(g.unlink(ROOT, 'etc/motd/'), Errno.NOTDIR);
    assert.equal(g.rmdir(ROOT, 'etc/motd'), Errno.NOTDIR);
    assert.equal(g.rmdir(ROOT, 'app'), Errno.NOTEMPTY);
    assert.equal(g.rmdir(ROOT, '.'), Errno.INVAL);
    assert.equal(g.rmdir(ROOT, 'd/'), 0);
    assert.equal(g.rmdir(ROOT, 'd'), Errno.NOENT);
    assert.equal(g.unlink(ROOT, 'app/link-abs'), 0);
    assert.equal(g.stat(ROOT, 'app/link-abs', false).errno, Errno.NOENT);
    // Creating inside a removed directory through an open fd fails.
    assert.equal(g.mkdir(ROOT, 'gone'), 0);
    const gone = g.openOk(ROOT, 'gone', { oflags: OFlags.DIRECTORY });
    assert.equal(g.rmdir(ROOT, 'gone'), 0);
    assert.equal(g.open(gone, 'f', { oflags: OFlags.CREAT }).errno, Errno.NOENT);
  });

  it('rename: replace a file, dir over non-empty dir, file over dir, dir over file, into itself', () => {
    const g = vm();
    const mk = (p: string, s: string) => { const fd = g.openOk(ROOT, p, { oflags: OFlags.CREAT | OFlags.TRUNC }); g.write(fd, s); g.close(fd); };
    mk('a', 'A');
    mk('b', 'B');
    assert.equal(g.rename(ROOT, 'a', ROOT, 'b'), 0);
    assert.equal(readAll(g, ROOT, 'b'), 'A');
    assert.equal(g.stat(ROOT, 'a').errno, Errno.NOENT);
    assert.equal(g.mkdir(ROOT, 'd1'), 0);
    assert.equal(g.mkdir(ROOT, 'd2'), 0);
    mk('d2/x', 'x');
    assert.equal(g.rename(ROOT, 'd1', ROOT, 'd2'), Errno.NOTEMPTY);
    assert.equal(g.rename(ROOT, 'b', ROOT, 'd1'), Errno.ISDIR);
    assert.equal(g.rename(ROOT, 'd1', ROOT, 'b'), Errno.NOTDIR);
    assert.equal(g.rename(ROOT, 'd2', ROOT, 'd2/inner'), Errno.INVAL);
    assert.equal(g.rename(ROOT, 'b', ROOT, 'b'), 0);
    assert.equal(g.rename(ROOT, 'b/', ROOT, 'c'), Errno.NOTDIR);
    assert.equal(g.rename(ROOT, 'b', ROOT, 'c/'), Errno.NOTDIR);
    assert.equal(g.rename(ROOT, 'nope', ROOT, 'c'), Errno.NOENT);
    // Dir over empty dir replaces it; trailing slashes are fine on dirs.
    assert.equal(g.rename(ROOT, 'd2/', ROOT, 'd1/'), 0);
    assert.equal(readAll(g, ROOT, 'd1/x'), 'x');
    // Moving an image directory keeps its contents.
    assert.equal(g.rename(ROOT, 'app', ROOT, 'd1/app'), 0);
    assert.equal(readAll(g, ROOT, 'd1/app/sub/deep.txt'), 'deep');
    // A dirfd inside the moved tree cannot become the new parent of its ancestor.
    const inner = g.openOk(ROOT, 'd1/app/sub', { oflags: OFlags.DIRECTORY });
    assert.equal(g.rename(ROOT, 'd1', inner, 'loop'), Errno.INVAL);
  });

  it('hard links share data and count links', () => {
    const g = vm();
    assert.equal(g.link(ROOT, 'app/main.txt', ROOT, 'hard'), 0);
    assert.equal(g.stat(ROOT, 'hard').stat!.nlink, 2n);
    assert.equal(g.stat(ROOT, 'hard').stat!.ino, g.stat(ROOT, 'app/main.txt').stat!.ino);
    const fd = g.openOk(ROOT, 'hard');
    g.pwrite(fd, 'X', 0n);
    assert.equal(readAll(g, ROOT, 'app/main.txt'), 'X123456789');
    assert.equal(g.link(ROOT, 'app', ROOT, 'dirlink2'), Errno.PERM);
    assert.equal(g.link(ROOT, 'app/main.txt', ROOT, 'hard'), Errno.EXIST);
    // Without follow, a link to a symlink links the symlink itself.
    assert.equal(g.link(ROOT, 'app/link-rel', ROOT, 'l2', false), 0);
    assert.equal(g.stat(ROOT, 'l2', false).stat!.filetype, FileType.SYMBOLIC_LINK);
    assert.equal(g.link(ROOT, 'app/link-rel', ROOT, 'l3', true), 0);
    assert.equal(g.stat(ROOT, 'l3', false).stat!.filetype, FileType.REGULAR_FILE);
  });

  it('symlink and readlink (truncating to the buffer)', () => {
    const g = vm();
    assert.equal(g.symlink('some/target', ROOT, 'sl'), 0);
    assert.deepEqual(g.readlink(ROOT, 'sl'), { errno: 0, target: 'some/target' });
    assert.deepEqual(g.readlink(ROOT, 'sl', 4), { errno: 0, target: 'some' });
    assert.equal(g.readlink(ROOT, 'etc/motd').errno, Errno.INVAL);
    assert.equal(g.readlink(ROOT, 'nope').errno, Errno.NOENT);
    assert.equal(g.symlink('x', ROOT, 'sl'), Errno.EXIST);
    assert.equal(g.symlink('x', ROOT, 'newlink/'), Errno.NOENT);
    assert.equal(g.symlink('x', ROOT, 'etc/motd/'), Errno.EXIST);
    // An absolute target can be created (it is data) but never followed.
    assert.equal(g.symlink('/etc', ROOT, 'abs'), 0);
    assert.equal(g.open(ROOT, 'abs/motd').errno, Errno.NOTCAPABLE);
  });

  it('set_times on paths and fds', () => {
    const g = vm();
    const FST_ATIM = 1, FST_MTIM = 4, FST_MTIM_NOW = 8;
    const [p, n] = g.put('etc/motd');
    assert.equal(g.call('path_filestat_set_times', ROOT, 1, p, n, 111n, 222n, FST_ATIM | FST_MTIM), 0);
    const st = g.stat(ROOT, 'etc/motd').stat!;
    assert.equal(st.atim, 111n);
    assert.equal(st.mtim, 222n);
    assert.equal(g.call('path_filestat_set_times', ROOT, 1, p, n, 0n, 0n, FST_MTIM | FST_MTIM_NOW), Errno.INVAL);
    const fd = g.openOk(ROOT, 'etc/motd');
    assert.equal(g.call('fd_filestat_set_times', fd, 0n, 0n, FST_MTIM_NOW), 0);
    const st2 = g.fstat(fd).stat!;
    assert.equal(st2.atim, 111n);
    assert.ok(st2.mtim > 1_600_000_000n * 1_000_000_000n);
  });
});

describe('file descriptors', () => {
  it('read, write, seek, tell, append, allocate, set_size', () => {
    const g = vm();
    const fd = g.openOk(ROOT, 'f', { oflags: OFlags.CREAT });
    assert.equal(g.write(fd, 'hello').n, 5);
    assert.equal(g.seek(fd, 0n, Whence.SET).pos, 0n);
    assert.equal(g.read(fd).data, 'hello');
    assert.equal(g.read(fd).data, '');
    assert.equal(g.seek(fd, -2n, Whence.END).pos, 3n);
    assert.equal(g.read(fd).data, 'lo');
    assert.equal(g.seek(fd, -10n, Whence.CUR).errno, Errno.INVAL);
    // Writing past the end leaves a zero-filled hole.
    assert.equal(g.pwrite(fd, 'Z', 8n).n, 1);
    assert.equal(g.pread(fd, 0n).data, 'hello\0\0\0Z');
    assert.equal(g.call('fd_filestat_set_size', fd, 2n), 0);
    assert.equal(g.call('fd_filestat_set_size', fd, 4n), 0);
    assert.equal(g.pread(fd, 0n).data, 'he\0\0');
    assert.equal(g.call('fd_allocate', fd, 0n, 10n), 0);
    assert.equal(g.fstat(fd).stat!.size, 10n);
    g.close(fd);
    const ap = g.openOk(ROOT, 'f', { fdflags: FdFlags.APPEND });
    g.write(ap, 'END');
    assert.equal(g.fstat(ap).stat!.size, 13n);
    assert.equal(g.pread(ap, 10n).data, 'END');
    // pwrite in append mode writes at its offset.
    g.pwrite(ap, 'S', 0n);
    assert.equal(g.pread(ap, 0n, 1).data, 'S');
    // A directory fd reads as EISDIR... or lacks the right.
    const d = g.openOk(ROOT, 'etc', { base: Rights.FD_READ | Rights.FD_READDIR });
    assert.equal(g.read(d).errno, Errno.NOTCAPABLE);
  });
});
