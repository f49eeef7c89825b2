/**
 * A preopened TCP listener for guests on the synchronous kernel: the real sockets live in a
 * worker thread (tcp-worker.ts); each kernel call is one request over shared memory, and
 * the kernel thread sleeps on Atomics.wait until it is answered, so a guest's blocking
 * accept/recv is a real block, not a spin.
 */
import { Worker } from 'node:worker_threads';
import type { ConnectionBackend, ListenerBackend } from '../../kernel/socket.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { CONTROL_BYTES, DATA_BYTES, Fail, Op, Slot, State, type WorkerInit } from './protocol.ts';

const workerFile = new URL(`./tcp-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

class Channel {
  readonly ctrl: Int32Array;
  readonly data: Uint8Array;
  readonly worker: Worker;

  constructor(init: WorkerInit) {
    this.ctrl = new Int32Array(init.shared, 0, CONTROL_BYTES / 4);
    this.data = new Uint8Array(init.shared, CONTROL_BYTES, DATA_BYTES);
    Atomics.store(this.ctrl, Slot.STATE, State.REQUEST);
    this.worker = new Worker(workerFile, { workerData: init });
    this.worker.unref();
    this.wait();
  }

  wait(): void {
    while (Atomics.load(this.ctrl, Slot.STATE) !== State.DONE) {
      Atomics.wait(this.ctrl, Slot.STATE, State.REQUEST, 1000);
    }
  }

  call(op: number, conn: number, a: number, b: number): number {
    this.ctrl[Slot.OP] = op;
    this.ctrl[Slot.CONN] = conn;
    this.ctrl[Slot.A] = a;
    this.ctrl[Slot.B] = b;
    Atomics.store(this.ctrl, Slot.STATE, State.REQUEST);
    this.worker.postMessage(0);
    this.wait();
    return this.ctrl[Slot.RESULT]!;
  }
}

class TcpConnection implements ConnectionBackend {
  readonly #ch: Channel;
  readonly #id: number;
  constructor(ch: Channel, id: number) {
    this.#ch = ch;
    this.#id = id;
  }
  recv(buf: Uint8Array, peek: boolean, nonblocking: boolean): number | 'again' {
    const max = Math.min(buf.byteLength, DATA_BYTES);
    const n = this.#ch.call(Op.RECV, this.#id, max, (nonblocking ? 1 : 0) | (peek ? 2 : 0));
    if (n === Fail.AGAIN) return 'again';
    if (n < 0) return 0;
    buf.set(this.#ch.data.subarray(0, n));
    return n;
  }
  send(data: Uint8Array, nonblocking: boolean): number | 'again' {
    let sent = 0;
    while (sent < data.byteLength) {
      const part = Math.min(DATA_BYTES, data.byteLength - sent);
      this.#ch.data.set(data.subarray(sent, sent + part));
      const n = this.#ch.call(Op.SEND, this.#id, part, nonblocking ? 1 : 0);
      if (n < 0) return sent > 0 ? sent : 'again';
      sent += n;
    }
    return sent;
  }
  shutdown(read: boolean, write: boolean): void {
    this.#ch.call(Op.SHUTDOWN, this.#id, (read ? 1 : 0) | (write ? 2 : 0), 0);
  }
  readable(): { nbytes: number; hangup: boolean } {
    const n = this.#ch.call(Op.READABLE, this.#id, 0, 0);
    return { nbytes: Math.max(0, n), hangup: n < 0 || this.#ch.ctrl[Slot.EXTRA] === 1 };
  }
  close(): void {
    this.#ch.call(Op.CLOSE, this.#id, 0, 0);
  }
}

export interface TcpListener extends ListenerBackend {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
}

/** Parses `HOST:PORT` or `[V6]:PORT`. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) {
    throw new NanovisorError('NV_USAGE', `--tcplisten "${text}": expected HOST:PORT, e.g. 127.0.0.1:8080`);
  }
  return { host: m[1] ?? m[2]!, port };
}

/** Binds a TCP listener now (errors surface here, before the guest runs). */
export function listenTcp(host: string, port: number): TcpListener {
  const shared = new SharedArrayBuffer(CONTROL_BYTES + DATA_BYTES);
  const ch = new Channel({ shared, host, port });
  if (ch.ctrl[Slot.RESULT]! < 0) {
    const why = ['', 'address in use', 'permission denied', 'cannot bind'][ch.ctrl[Slot.EXTRA]!] ?? 'cannot bind';
    void ch.worker.terminate();
    throw new NanovisorError('NV_NET_LISTEN', `cannot listen on ${host}:${port}: ${why}`);
  }
  const bound = ch.ctrl[Slot.A]!;
  return {
    port: bound,
    accept(nonblocking: boolean) {
      const id = ch.call(Op.ACCEPT, 0, 0, nonblocking ? 1 : 0);
      return id === Fail.AGAIN ? 'again' : new TcpConnection(ch, id);
    },
    pending() {
      return ch.call(Op.PENDING, 0, 0, 0) === 1;
    },
    close() {
      ch.call(Op.CLOSE_LISTENER, 0, 0, 0);
    },
  };
}
