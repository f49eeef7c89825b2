/**
 * Stream-socket descriptors. Preview1 guests cannot create sockets; the host preopens a
 * listener and the guest accepts connections from it. The kernel only knows the
 * `SocketBackend` interface; the network switch (src/switches/network) provides real ones.
 */
import { Errno, FdFlags, FileType, RIGHTS_SOCKET, RiFlags, Rights, SdFlags } from './abi.ts';
import { Descriptor, streamStat, type FileStat, type Readiness } from './descriptor.ts';
import { fault } from './memory.ts';

/** What a connected stream looks like to the kernel. Calls may block unless `nonblocking`. */
export interface ConnectionBackend {
  /** Bytes into `buf`; 0 at end of stream; 'again' when nonblocking and nothing is there. */
  recv(buf: Uint8Array, peek: boolean, nonblocking: boolean): number | 'again';
  /** Returns bytes accepted. */
  send(data: Uint8Array, nonblocking: boolean): number | 'again';
  shutdown(read: boolean, write: boolean): void;
  /** Bytes ready to read, or `hangup` at end of stream, without blocking. */
  readable(): { nbytes: number; hangup: boolean };
  close(): void;
}

export interface ListenerBackend {
  accept(nonblocking: boolean): ConnectionBackend | 'again';
  /** Whether a connection is waiting, without blocking. */
  pending(): boolean;
  close(): void;
}

export class ListenerSocket extends Descriptor {
  readonly filetype = FileType.SOCKET_STREAM;
  readonly #backend: ListenerBackend;

  constructor(backend: ListenerBackend) {
    super(Rights.SOCK_ACCEPT | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE | Rights.FD_READ, 0n);
    this.#backend = backend;
  }

  override accept(fdflags: number): Descriptor {
    const nonblocking = (this.fdflags & FdFlags.NONBLOCK) !== 0;
    const conn = this.#backend.accept(nonblocking);
    if (conn === 'again') return fault(Errno.AGAIN);
    return new ConnectedSocket(conn, fdflags);
  }

  override read(): number {
    return fault(Errno.NOTCONN);
  }

  override filestat(): FileStat {
    return streamStat(this.filetype);
  }

  override pollRead(): Readiness {
    return this.#backend.pending() ? { ready: true, nbytes: 0n } : { ready: false };
  }

  override pollWrite(): Readiness {
    return { error: Errno.NOTCONN };
  }

  override close(): void {
    this.#backend.close();
  }
}

export class ConnectedSocket extends Descriptor {
  readonly filetype = FileType.SOCKET_STREAM;
  readonly #backend: ConnectionBackend;
  #readShut = false;
  #writeShut = false;

  constructor(backend: ConnectionBackend, fdflags: number) {
    super(RIGHTS_SOCKET & ~Rights.SOCK_ACCEPT, 0n, fdflags);
    this.#backend = backend;
  }

  get #nonblocking(): boolean {
    return (this.fdflags & FdFlags.NONBLOCK) !== 0;
  }

  override read(bufs: Uint8Array[]): number {
    return this.recv(bufs, 0)[0];
  }

  override write(bufs: Uint8Array[]): number {
    return this.send(bufs, 0);
  }

  override recv(bufs: Uint8Array[], riflags: number): [number, number] {
    if (this.#readShut) return [0, 0];
    const buf = bufs.find((b) => b.byteLength > 0);
    if (buf === undefined) return [0, 0];
    const peek = (riflags & RiFlags.RECV_PEEK) !== 0;
    const waitAll = (riflags & RiFlags.RECV_WAITALL) !== 0;
    let got = 0;
    do {
      const n = this.#backend.recv(buf.subarray(got), peek, this.#nonblocking);
      if (n === 'again') {
        if (got > 0) break;
        return fault(Errno.AGAIN);
      }
      if (n === 0) break;
      got += n;
    } while (waitAll && !peek && got < buf.byteLength);
    return [got, 0];
  }

  override send(bufs: Uint8Array[], _siflags = 0): number {
    if (this.#writeShut) return fault(Errno.PIPE);
    let sent = 0;
    for (const b of bufs) {
      if (b.byteLength === 0) continue;
      const n = this.#backend.send(b, this.#nonblocking);
      if (n === 'again') {
        if (sent > 0) break;
        return fault(Errno.AGAIN);
      }
      sent += n;
      if (n < b.byteLength) break;
    }
    return sent;
  }

  override shutdown(how: number): void {
    const rd = (how & SdFlags.RD) !== 0;
    const wr = (how & SdFlags.WR) !== 0;
    if ((rd && this.#readShut && !wr) || (wr && this.#writeShut && !rd)) fault(Errno.NOTCONN);
    this.#backend.shutdown(rd, wr);
    this.#readShut ||= rd;
    this.#writeShut ||= wr;
  }

  override filestat(): FileStat {
    return streamStat(this.filetype);
  }

  override pollRead(): Readiness {
    if (this.#readShut) return { ready: true, nbytes: 0n, hangup: true };
    const r = this.#backend.readable();
    return r.nbytes > 0 || r.hangup ? { ready: true, nbytes: BigInt(r.nbytes), hangup: r.hangup } : { ready: false };
  }

  override pollWrite(): Readiness {
    return this.#writeShut ? { error: Errno.PIPE } : { ready: true, nbytes: 0n };
  }

  override close(): void {
    this.#backend.close();
  }
}
