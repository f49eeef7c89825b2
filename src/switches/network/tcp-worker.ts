/**
 * The TCP worker: owns a listening socket and its connections on its own event loop and
 * answers one request at a time from the kernel thread (see protocol.ts). Incoming bytes are
 * buffered up to a bound per connection; past it the socket is paused (backpressure).
 */
import { createServer, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { CONTROL_BYTES, DATA_BYTES, Fail, Op, Slot, State, type WorkerInit } from './protocol.ts';

const MAX_BUFFERED = 1024 * 1024;

interface Conn {
  socket: Socket;
  chunks: Buffer[];
  buffered: number;
  ended: boolean;
}

const init = workerData as WorkerInit;
const ctrl = new Int32Array(init.shared, 0, CONTROL_BYTES / 4);
const data = new Uint8Array(init.shared, CONTROL_BYTES, DATA_BYTES);
const conns = new Map<number, Conn>();
const waitingConnections: Socket[] = [];
let nextConn = 1;
/** A blocking request parked until an event can answer it. */
let parked: (() => boolean) | undefined;

function finish(result: number, extra = 0): void {
  ctrl[Slot.RESULT] = result;
  ctrl[Slot.EXTRA] = extra;
  Atomics.store(ctrl, Slot.STATE, State.DONE);
  Atomics.notify(ctrl, Slot.STATE);
}

function track(socket: Socket): number {
  const id = nextConn++;
  const c: Conn = { socket, chunks: [], buffered: 0, ended: false };
  conns.set(id, c);
  socket.on('data', (chunk: Buffer) => {
    c.chunks.push(chunk);
    c.buffered += chunk.byteLength;
    if (c.buffered > MAX_BUFFERED) socket.pause();
    retryParked();
  });
  socket.on('end', () => {
    c.ended = true;
    retryParked();
  });
  socket.on('error', () => {
    c.ended = true;
    retryParked();
  });
  return id;
}

function take(c: Conn, max: number, peek: boolean): number {
  let n = 0;
  let i = 0;
  while (n < max && i < c.chunks.length) {
    const chunk = c.chunks[i]!;
    const part = Math.min(chunk.byteLength, max - n);
    data.set(chunk.subarray(0, part), n);
    n += part;
    if (!peek) {
      if (part === chunk.byteLength) c.chunks.shift();
      else c.chunks[i] = chunk.subarray(part);
    } else i++;
  }
  if (!peek) {
    c.buffered -= n;
    if (c.buffered <= MAX_BUFFERED && c.socket.isPaused()) c.socket.resume();
  }
  return n;
}

function retryParked(): void {
  if (parked !== undefined && parked()) parked = undefined;
}

/** Tries to answer the current request; false means it must wait for an event. */
function attempt(): boolean {
  const op = ctrl[Slot.OP];
  const conn = conns.get(ctrl[Slot.CONN]!);
  const nonblocking = (ctrl[Slot.B]! & 1) !== 0;
  switch (op) {
    case Op.ACCEPT: {
      const s = waitingConnections.shift();
      if (s !== undefined) return finish(track(s)), true;
      if (nonblocking) return finish(Fail.AGAIN), true;
      return false;
    }
    case Op.RECV: {
      if (conn === undefined) return finish(Fail.ERROR), true;
      if (conn.buffered > 0) return finish(take(conn, Math.min(ctrl[Slot.A]!, DATA_BYTES), (ctrl[Slot.B]! & 2) !== 0)), true;
      if (conn.ended) return finish(0), true;
      if (nonblocking) return finish(Fail.AGAIN), true;
      return false;
    }
    case Op.SEND: {
      if (conn === undefined || conn.socket.destroyed || !conn.socket.writable) return finish(Fail.ERROR), true;
      const len = ctrl[Slot.A]!;
      conn.socket.write(Buffer.from(data.subarray(0, len)));
      return finish(len), true;
    }
    case Op.SHUTDOWN: {
      if (conn === undefined) return finish(Fail.ERROR), true;
      if ((ctrl[Slot.A]! & 2) !== 0) conn.socket.end();
      if ((ctrl[Slot.A]! & 1) !== 0) conn.socket.pause();
      return finish(0), true;
    }
    case Op.READABLE:
      if (conn === undefined) return finish(Fail.ERROR), true;
      return finish(conn.buffered, conn.ended ? 1 : 0), true;
    case Op.PENDING:
      return finish(waitingConnections.length > 0 ? 1 : 0), true;
    case Op.CLOSE:
      if (conn !== undefined) {
        conn.socket.end();
        conn.socket.destroySoon();
        conns.delete(ctrl[Slot.CONN]!);
      }
      return finish(0), true;
    case Op.CLOSE_LISTENER:
      server.close();
      for (const c of conns.values()) c.socket.destroy();
      for (const s of waitingConnections) s.destroy();
      finish(0);
      setImmediate(() => process.exit(0));
      return true;
    default:
      return finish(Fail.ERROR), true;
  }
}

const server = createServer({ pauseOnConnect: false }, (socket) => {
  waitingConnections.push(socket);
  retryParked();
});
server.on('error', (e: NodeJS.ErrnoException) => {
  ctrl[Slot.A] = 0;
  finish(Fail.ERROR, e.code === 'EADDRINUSE' ? 1 : e.code === 'EACCES' ? 2 : 3);
});
server.listen(init.port, init.host, () => {
  const addr = server.address();
  ctrl[Slot.A] = typeof addr === 'object' && addr !== null ? addr.port : 0;
  finish(0);
});

parentPort?.on('message', () => {
  if (!attempt()) parked = attempt;
});
