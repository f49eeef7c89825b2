/**
 * sock_accept, sock_recv, sock_send, sock_shutdown on preopened sockets. Preview1 cannot
 * create sockets; the host hands them in as preopens, and these calls dispatch to them.
 */
import { Errno, FdFlags, FileType, Rights, SdFlags } from '../abi.ts';
import type { Descriptor } from '../descriptor.ts';
import type { Kernel } from '../kernel.ts';
import { fault } from '../memory.ts';

const RIFLAGS_ALL = 3;

/** Not being a socket is reported before missing rights, as POSIX does. */
function socket(k: Kernel, fd: number, rights: bigint): Descriptor {
  const d = k.fds.get(fd);
  if (d.filetype !== FileType.SOCKET_STREAM && d.filetype !== FileType.SOCKET_DGRAM) fault(Errno.NOTSOCK);
  return k.fds.get(fd, rights);
}

export const sockCalls = {
  sock_accept: (k: Kernel, fd: number, flags: number, out: number) => {
    const d = socket(k, fd, Rights.SOCK_ACCEPT);
    // Only NONBLOCK may be asked of the new connection.
    if ((flags & ~FdFlags.NONBLOCK) !== 0) fault(Errno.INVAL, 'sock_accept flags');
    k.memory.checkAligned(out, 4, 4);
    const conn = d.accept(flags & 0xffff);
    const newFd = k.fds.insert(conn);
    k.memory.setU32(out, newFd);
  },
  sock_recv: (k: Kernel, fd: number, iovs: number, n: number, riflags: number, nread: number, roflags: number) => {
    const d = socket(k, fd, Rights.FD_READ);
    if ((riflags & ~RIFLAGS_ALL) !== 0) fault(Errno.INVAL, 'riflags');
    const bufs = k.memory.iovecs(iovs, n);
    k.memory.checkAligned(nread, 4, 4);
    k.memory.checkAligned(roflags, 2, 2);
    const [count, flags] = d.recv(bufs, riflags);
    k.memory.setU32(nread, count);
    k.memory.setU16(roflags, flags);
  },
  sock_send: (k: Kernel, fd: number, iovs: number, n: number, _siflags: number, nwritten: number) => {
    const d = socket(k, fd, Rights.FD_WRITE);
    const bufs = k.memory.iovecs(iovs, n);
    k.memory.checkAligned(nwritten, 4, 4);
    k.memory.setU32(nwritten, d.send(bufs, 0));
  },
  sock_shutdown: (k: Kernel, fd: number, how: number) => {
    const d = socket(k, fd, Rights.SOCK_SHUTDOWN);
    if (how === 0 || (how & ~(SdFlags.RD | SdFlags.WR)) !== 0) fault(Errno.INVAL, 'sdflags');
    d.shutdown(how);
  },
};
