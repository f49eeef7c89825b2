/**
 * The path_* family. Each call checks that the dirfd is a directory holding the rights
 * the call needs, reads its path strings from guest memory, and hands them to the vfs
 * operations, which resolve them inside the dirfd's namespace (vfs/resolve.ts).
 */
import {
  Errno, FDFLAGS_ALL, LookupFlags, OFLAGS_ALL, OFlags, RIGHTS_DIR, RIGHTS_DIR_INHERITING, RIGHTS_FILE, Rights,
} from '../abi.ts';
import type { Descriptor } from '../descriptor.ts';
import type { Kernel } from '../kernel.ts';
import { encodeUtf8, fault } from '../memory.ts';
import { DirectoryDescriptor, FileDescriptor, timesUpdate } from '../vfs/descriptors.ts';
import * as ops from '../vfs/ops.ts';
import { checkFstFlags, writeFilestat } from './fd.ts';

/** The dirfd as a directory: ENOTDIR for any other kind (as openat does), ENOTCAPABLE without `rights`. */
function dirfd(k: Kernel, fd: number, rights: bigint): DirectoryDescriptor {
  const d = k.fds.get(fd);
  if (!(d instanceof DirectoryDescriptor)) return fault(Errno.NOTDIR, `fd ${fd >>> 0} is not a directory`);
  if ((d.rightsBase & rights) !== rights) fault(Errno.NOTCAPABLE, `fd ${fd >>> 0} lacks rights`);
  return d;
}

function lookupFollow(flags: number): boolean {
  if (((flags >>> 0) & ~LookupFlags.SYMLINK_FOLLOW) !== 0) fault(Errno.INVAL, 'unknown lookupflags');
  return (flags & LookupFlags.SYMLINK_FOLLOW) !== 0;
}

function str(k: Kernel, ptr: number, len: number): string {
  return k.memory.string(ptr, len);
}

export const pathCalls = {
  path_create_directory: (k: Kernel, fd: number, path: number, len: number) => {
    const d = dirfd(k, fd, Rights.PATH_CREATE_DIRECTORY);
    ops.createDirectory(d.dir, str(k, path, len));
  },

  path_filestat_get: (k: Kernel, fd: number, flags: number, path: number, len: number, out: number) => {
    const d = dirfd(k, fd, Rights.PATH_FILESTAT_GET);
    const follow = lookupFollow(flags);
    const p = str(k, path, len);
    k.memory.checkAligned(out, 64, 8);
    writeFilestat(k, out, ops.filestat(d.dir, p, follow));
  },

  path_filestat_set_times: (
    k: Kernel, fd: number, flags: number, path: number, len: number, atim: bigint, mtim: bigint, fstflags: number,
  ) => {
    const d = dirfd(k, fd, Rights.PATH_FILESTAT_SET_TIMES);
    const follow = lookupFollow(flags);
    checkFstFlags(fstflags);
    const p = str(k, path, len);
    ops.setTimes(d.dir, p, follow, timesUpdate(BigInt.asUintN(64, atim), BigInt.asUintN(64, mtim), fstflags));
  },

  path_link: (
    k: Kernel, oldFd: number, oldFlags: number, oldPath: number, oldLen: number, newFd: number, newPath: number, newLen: number,
  ) => {
    const src = dirfd(k, oldFd, Rights.PATH_LINK_SOURCE);
    const dst = dirfd(k, newFd, Rights.PATH_LINK_TARGET);
    const follow = lookupFollow(oldFlags);
    ops.link(src.dir, str(k, oldPath, oldLen), follow, dst.dir, str(k, newPath, newLen));
  },

  path_open: (
    k: Kernel, fd: number, dirflags: number, path: number, len: number, oflags: number,
    rightsBase: bigint, rightsInheriting: bigint, fdflags: number, out: number,
  ) => {
    k.memory.checkAligned(out, 4, 4);
    const o = oflags >>> 0;
    const f = fdflags >>> 0;
    if ((o & ~OFLAGS_ALL) !== 0) fault(Errno.INVAL, 'unknown oflags');
    if ((f & ~FDFLAGS_ALL) !== 0) fault(Errno.INVAL, 'unknown fdflags');
    const follow = lookupFollow(dirflags);
    let needed = Rights.PATH_OPEN;
    if (o & OFlags.CREAT) needed |= Rights.PATH_CREATE_FILE;
    if (o & OFlags.TRUNC) needed |= Rights.PATH_FILESTAT_SET_SIZE;
    const d = dirfd(k, fd, needed);
    const p = str(k, path, len);
    // What is opened beneath a directory gets at most what the directory hands down.
    const base = BigInt.asUintN(64, rightsBase) & d.rightsInheriting;
    const inheriting = BigInt.asUintN(64, rightsInheriting) & d.rightsInheriting;
    const opened = ops.openAt(d.dir, p, {
      follow,
      oflags: o,
      read: (base & Rights.FD_READ) !== 0n,
      write: (base & Rights.FD_WRITE) !== 0n,
      writeish: (base & (Rights.FD_FILESTAT_SET_SIZE | Rights.FD_ALLOCATE)) !== 0n,
    });
    const desc: Descriptor = opened.kind === 'dir'
      ? new DirectoryDescriptor(opened.dir, base & RIGHTS_DIR, inheriting & RIGHTS_DIR_INHERITING, f)
      : new FileDescriptor(opened.file, base & RIGHTS_FILE, inheriting & RIGHTS_FILE, f);
    let newFd: number;
    try {
      newFd = k.fds.insert(desc);
    } catch (e) {
      desc.close();
      throw e;
    }
    k.memory.setU32(out, newFd);
  },

  path_readlink: (k: Kernel, fd: number, path: number, len: number, buf: number, bufLen: number, out: number) => {
    const d = dirfd(k, fd, Rights.PATH_READLINK);
    const p = str(k, path, len);
    k.memory.check(buf, bufLen);
    k.memory.checkAligned(out, 4, 4);
    const target = encodeUtf8(ops.readlink(d.dir, p));
    // Truncated to the buffer, as readlink(2) does; the count says how much was written.
    const n = Math.min(target.byteLength, bufLen >>> 0);
    k.memory.write(buf, target.subarray(0, n));
    k.memory.setU32(out, n);
  },

  path_remove_directory: (k: Kernel, fd: number, path: number, len: number) => {
    const d = dirfd(k, fd, Rights.PATH_REMOVE_DIRECTORY);
    ops.removeDirectory(d.dir, str(k, path, len));
  },

  path_rename: (k: Kernel, fd: number, oldPath: number, oldLen: number, newFd: number, newPath: number, newLen: number) => {
    const src = dirfd(k, fd, Rights.PATH_RENAME_SOURCE);
    const dst = dirfd(k, newFd, Rights.PATH_RENAME_TARGET);
    ops.rename(src.dir, str(k, oldPath, oldLen), dst.dir, str(k, newPath, newLen));
  },

  path_symlink: (k: Kernel, oldPath: number, oldLen: number, fd: number, newPath: number, newLen: number) => {
    const d = dirfd(k, fd, Rights.PATH_SYMLINK);
    const target = str(k, oldPath, oldLen);
    ops.symlink(target, d.dir, str(k, newPath, newLen));
  },

  path_unlink_file: (k: Kernel, fd: number, path: number, len: number) => {
    const d = dirfd(k, fd, Rights.PATH_UNLINK_FILE);
    ops.unlinkFile(d.dir, str(k, path, len));
  },
};
