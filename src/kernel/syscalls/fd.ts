/**
 * The fd_* family. Each call checks the descriptor's rights, then asks the descriptor
 * (stdio stream, file, directory or socket) to do the work; this file owns the ABI
 * encoding (iovecs, structs, dirents) so descriptor kinds never touch guest memory.
 */
import {
  Errno, FDFLAGS_ALL, FSTFLAGS_ALL, FileType, FstFlags, Layout, PreopenType, Rights, Whence,
} from '../abi.ts';
import type { FileStat } from '../descriptor.ts';
import type { Kernel } from '../kernel.ts';
import { encodeUtf8, fault } from '../memory.ts';

const U64_MAX = (1n << 64n) - 1n;
/** Largest byte count one read/write call reports (the guest's size_t). */
const MAX_IO = 0xffff_ffff;

export function writeFilestat(k: Kernel, ptr: number, st: FileStat): void {
  const m = k.memory;
  m.checkAligned(ptr, Layout.FILESTAT_SIZE, 8);
  m.zero(ptr, Layout.FILESTAT_SIZE);
  m.setU64(ptr, st.dev);
  m.setU64(ptr + 8, st.ino);
  m.setU8(ptr + 16, st.filetype);
  m.setU64(ptr + 24, st.nlink);
  m.setU64(ptr + 32, st.size);
  m.setU64(ptr + 40, st.atim);
  m.setU64(ptr + 48, st.mtim);
  m.setU64(ptr + 56, st.ctim);
}

/** Validates fstflags: unknown bits, or both X and X_NOW, are EINVAL. */
export function checkFstFlags(flags: number): void {
  if ((flags & ~FSTFLAGS_ALL) !== 0) fault(Errno.INVAL, 'unknown fstflags');
  if ((flags & FstFlags.ATIM) && (flags & FstFlags.ATIM_NOW)) fault(Errno.INVAL, 'ATIM with ATIM_NOW');
  if ((flags & FstFlags.MTIM) && (flags & FstFlags.MTIM_NOW)) fault(Errno.INVAL, 'MTIM with MTIM_NOW');
}

/** Caps the iovec total at what the guest can be told, trimming the last buffers. */
function capIo(bufs: Uint8Array[]): Uint8Array[] {
  let total = 0;
  const out: Uint8Array[] = [];
  for (const b of bufs) {
    if (total + b.byteLength > MAX_IO) {
      out.push(b.subarray(0, MAX_IO - total));
      break;
    }
    total += b.byteLength;
    out.push(b);
  }
  return out;
}

function setSize(k: Kernel, ptr: number, n: number): void {
  k.memory.checkAligned(ptr, 4, 4);
  k.memory.setU32(ptr, n);
}

export const fdCalls = {
  fd_advise: (k: Kernel, fd: number, offset: bigint, len: bigint, advice: number) => {
    const d = k.fds.get(fd, Rights.FD_ADVISE);
    if ((advice >>> 0) > 5) fault(Errno.INVAL, 'unknown advice');
    if (BigInt.asIntN(64, offset) < 0n || BigInt.asIntN(64, len) < 0n) fault(Errno.INVAL);
    d.advise(offset, len, advice);
  },
  fd_allocate: (k: Kernel, fd: number, offset: bigint, len: bigint) => {
    const d = k.fds.get(fd, Rights.FD_ALLOCATE);
    const o = BigInt.asIntN(64, offset);
    const l = BigInt.asIntN(64, len);
    if (o < 0n || l <= 0n) fault(Errno.INVAL);
    d.allocate(BigInt.asUintN(64, o), BigInt.asUintN(64, l));
  },
  fd_close: (k: Kernel, fd: number) => {
    k.fds.close(fd);
  },
  fd_datasync: (k: Kernel, fd: number) => {
    k.fds.get(fd, Rights.FD_DATASYNC).datasync();
  },
  fd_fdstat_get: (k: Kernel, fd: number, ptr: number) => {
    const d = k.fds.get(fd);
    const m = k.memory;
    m.checkAligned(ptr, Layout.FDSTAT_SIZE, 8);
    m.zero(ptr, Layout.FDSTAT_SIZE);
    m.setU8(ptr, d.filetype);
    m.setU16(ptr + 2, d.fdflags);
    m.setU64(ptr + 8, d.rightsBase);
    m.setU64(ptr + 16, d.rightsInheriting);
  },
  fd_fdstat_set_flags: (k: Kernel, fd: number, flags: number) => {
    const d = k.fds.get(fd, Rights.FD_FDSTAT_SET_FLAGS);
    if ((flags & ~FDFLAGS_ALL) !== 0) fault(Errno.INVAL, 'unknown fdflags');
    d.setFlags(flags & 0xffff);
  },
  fd_fdstat_set_rights: (k: Kernel, fd: number, base: bigint, inheriting: bigint) => {
    const d = k.fds.get(fd);
    const b = BigInt.asUintN(64, base);
    const i = BigInt.asUintN(64, inheriting);
    // Rights may only be dropped, never gained.
    if ((b & ~d.rightsBase) !== 0n || (i & ~d.rightsInheriting) !== 0n) fault(Errno.NOTCAPABLE);
    d.rightsBase = b;
    d.rightsInheriting = i;
  },
  fd_filestat_get: (k: Kernel, fd: number, ptr: number) => {
    const d = k.fds.get(fd, Rights.FD_FILESTAT_GET);
    writeFilestat(k, ptr, d.filestat());
  },
  fd_filestat_set_size: (k: Kernel, fd: number, size: bigint) => {
    const d = k.fds.get(fd, Rights.FD_FILESTAT_SET_SIZE);
    if (BigInt.asIntN(64, size) < 0n) fault(Errno.INVAL);
    d.setSize(BigInt.asUintN(64, size));
  },
  fd_filestat_set_times: (k: Kernel, fd: number, atim: bigint, mtim: bigint, flags: number) => {
    const d = k.fds.get(fd, Rights.FD_FILESTAT_SET_TIMES);
    checkFstFlags(flags);
    d.setTimes(BigInt.asUintN(64, atim), BigInt.asUintN(64, mtim), flags);
  },
  fd_pread: (k: Kernel, fd: number, iovs: number, n: number, offset: bigint, out: number) => {
    const d = k.fds.get(fd, Rights.FD_READ | Rights.FD_SEEK);
    const bufs = capIo(k.memory.iovecs(iovs, n));
    if (BigInt.asIntN(64, offset) < 0n) fault(Errno.INVAL);
    k.memory.checkAligned(out, 4, 4);
    setSize(k, out, d.pread(bufs, BigInt.asUintN(64, offset)));
  },
  fd_pwrite: (k: Kernel, fd: number, iovs: number, n: number, offset: bigint, out: number) => {
    const d = k.fds.get(fd, Rights.FD_WRITE | Rights.FD_SEEK);
    const bufs = capIo(k.memory.iovecs(iovs, n));
    if (BigInt.asIntN(64, offset) < 0n) fault(Errno.INVAL);
    k.memory.checkAligned(out, 4, 4);
    setSize(k, out, d.pwrite(bufs, BigInt.asUintN(64, offset)));
  },
  fd_prestat_get: (k: Kernel, fd: number, ptr: number) => {
    const d = k.fds.get(fd);
    if (d.preopenName === undefined) fault(Errno.BADF, 'not a preopen');
    const m = k.memory;
    m.checkAligned(ptr, Layout.PRESTAT_SIZE, 4);
    m.zero(ptr, Layout.PRESTAT_SIZE);
    m.setU8(ptr, PreopenType.DIR);
    m.setU32(ptr + 4, encodeUtf8(d.preopenName).byteLength);
  },
  fd_prestat_dir_name: (k: Kernel, fd: number, path: number, len: number) => {
    const d = k.fds.get(fd);
    if (d.preopenName === undefined) fault(Errno.BADF, 'not a preopen');
    const name = encodeUtf8(d.preopenName);
    // A buffer shorter than the name is a guest error; a longer one gets the name without NUL.
    if ((len >>> 0) < name.byteLength) fault(Errno.NAMETOOLONG);
    k.memory.write(path, name);
  },
  fd_read: (k: Kernel, fd: number, iovs: number, n: number, out: number) => {
    const d = k.fds.get(fd, Rights.FD_READ);
    const bufs = capIo(k.memory.iovecs(iovs, n));
    k.memory.checkAligned(out, 4, 4);
    setSize(k, out, d.read(bufs));
  },
  fd_readdir: (k: Kernel, fd: number, buf: number, len: number, cookie: bigint, out: number) => {
    const d = k.fds.get(fd, Rights.FD_READDIR);
    const m = k.memory;
    const target = m.bytes(buf, len);
    m.checkAligned(out, 4, 4);
    const entries = d.readdir(BigInt.asUintN(64, cookie));
    // Entries are packed back to back; the last one is cut off when the buffer ends,
    // which tells the guest to call again with a larger buffer or the next cookie.
    const scratch = new Uint8Array(Layout.DIRENT_SIZE);
    const view = new DataView(scratch.buffer);
    let used = 0;
    let next = BigInt.asUintN(64, cookie);
    for (const e of entries) {
      next += 1n;
      const name = encodeUtf8(e.name);
      view.setBigUint64(0, next, true);
      view.setBigUint64(8, e.ino, true);
      view.setUint32(16, name.byteLength, true);
      view.setUint32(20, e.filetype, true);
      const room = target.byteLength - used;
      if (room <= 0) break;
      target.set(scratch.subarray(0, Math.min(room, Layout.DIRENT_SIZE)), used);
      used += Math.min(room, Layout.DIRENT_SIZE);
      if (room < Layout.DIRENT_SIZE) break;
      const nameRoom = target.byteLength - used;
      target.set(name.subarray(0, Math.min(nameRoom, name.byteLength)), used);
      used += Math.min(nameRoom, name.byteLength);
      if (nameRoom < name.byteLength) break;
    }
    m.setU32(out, used);
  },
  fd_renumber: (k: Kernel, from: number, to: number) => {
    k.fds.renumber(from, to);
  },
  fd_seek: (k: Kernel, fd: number, offset: bigint, whence: number, out: number) => {
    const d = k.fds.get(fd);
    const w = whence >>> 0;
    if (w !== Whence.SET && w !== Whence.CUR && w !== Whence.END) fault(Errno.INVAL, 'bad whence');
    // A seek that does not move (CUR, 0) is what ftell() uses: FD_TELL is enough for it.
    const needed = w === Whence.CUR && offset === 0n ? Rights.FD_TELL : Rights.FD_SEEK;
    if ((d.rightsBase & needed) !== needed && (d.rightsBase & Rights.FD_SEEK) === 0n) {
      if (d.filetype !== FileType.REGULAR_FILE && d.filetype !== FileType.DIRECTORY) fault(Errno.SPIPE);
      fault(Errno.NOTCAPABLE);
    }
    k.memory.checkAligned(out, 8, 8);
    const pos = d.seek(BigInt.asIntN(64, offset), w);
    if (pos < 0n || pos > U64_MAX) fault(Errno.INVAL);
    k.memory.setU64(out, pos);
  },
  fd_sync: (k: Kernel, fd: number) => {
    k.fds.get(fd, Rights.FD_SYNC).sync();
  },
  fd_tell: (k: Kernel, fd: number, out: number) => {
    const d = k.fds.get(fd, Rights.FD_TELL);
    k.memory.checkAligned(out, 8, 8);
    k.memory.setU64(out, d.tell());
  },
  fd_write: (k: Kernel, fd: number, iovs: number, n: number, out: number) => {
    const d = k.fds.get(fd, Rights.FD_WRITE);
    const bufs = capIo(k.memory.iovecs(iovs, n));
    k.memory.checkAligned(out, 4, 4);
    setSize(k, out, d.write(bufs));
  },
};

export { U64_MAX };
