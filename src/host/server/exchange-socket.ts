/**
 * The listening socket of a wasi server instance, in host memory: the gateway has the whole
 * request before it reaches the instance (it buffers the body, and the request that wakes a
 * sleeping instance waits buffered too), so each connection is one exchange — the request's
 * bytes to read, then end of stream (as after the client's shutdown(SHUT_WR)); what the guest
 * sends is the response, complete when the guest closes the connection or shuts its write
 * side. The guest sees an ordinary stream socket through sock_accept / sock_recv / sock_send.
 */
import type { ConnectionBackend, ListenerBackend } from '../../kernel/socket.ts';

/** One connection: a request to read, a response being written. */
export class ExchangeConnection implements ConnectionBackend {
  readonly #request: Uint8Array;
  #read = 0;
  readonly #response: Uint8Array[] = [];
  #size = 0;
  readonly #maxResponseBytes: number;
  #done = false;
  readonly #settle: (r: { response: Uint8Array } | { error: 'too-large' | 'closed' | 'timeout' }) => void;

  constructor(request: Uint8Array, maxResponseBytes: number, settle: (r: { response: Uint8Array } | { error: 'too-large' | 'closed' | 'timeout' }) => void) {
    this.#request = request;
    this.#maxResponseBytes = maxResponseBytes;
    this.#settle = settle;
  }

  /** Whether the exchange is over (answered, refused, or given up on by the caller). */
  get done(): boolean {
    return this.#done;
  }

  /** The caller gave up (its deadline passed): the guest's further sends fail. */
  abandon(): void {
    this.#done = true;
  }

  recv(buf: Uint8Array, peek: boolean): number {
    const n = Math.min(buf.byteLength, this.#request.byteLength - this.#read);
    buf.set(this.#request.subarray(this.#read, this.#read + n));
    if (!peek) this.#read += n;
    return n;
  }

  send(data: Uint8Array): number {
    if (this.#done) return 0;
    if (this.#size + data.byteLength > this.#maxResponseBytes) {
      this.#finish({ error: 'too-large' });
      return 0;
    }
    this.#response.push(data.slice());
    this.#size += data.byteLength;
    return data.byteLength;
  }

  shutdown(_read: boolean, write: boolean): void {
    if (write) this.#complete();
  }

  readable(): { nbytes: number; hangup: boolean } {
    const left = this.#request.byteLength - this.#read;
    return { nbytes: left, hangup: left === 0 };
  }

  close(): void {
    this.#complete();
  }

  /** The instance ended with this connection open (stopped at a deadline: `timeout`). */
  fail(timeout = false): void {
    this.#finish({ error: timeout ? 'timeout' : 'closed' });
  }

  #complete(): void {
    if (this.#done) return;
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#response) {
      out.set(c, at);
      at += c.byteLength;
    }
    this.#finish({ response: out });
  }

  #finish(r: { response: Uint8Array } | { error: 'too-large' | 'closed' | 'timeout' }): void {
    if (this.#done) return;
    this.#done = true;
    this.#settle(r);
  }
}

/** The preopened listener: connections wait here, in order, until the guest accepts them. */
export class ExchangeListener implements ListenerBackend {
  readonly #waiting: ExchangeConnection[] = [];
  /** Connections accepted and not yet done (they fail if the instance ends). */
  readonly open = new Set<ExchangeConnection>();

  push(c: ExchangeConnection): void {
    this.#waiting.push(c);
  }

  accept(): ExchangeConnection | 'again' {
    for (const c of this.open) if (c.done) this.open.delete(c);
    for (;;) {
      const c = this.#waiting.shift();
      if (c === undefined) return 'again';
      // One its caller gave up on while it waited is never handed to the guest.
      if (c.done) continue;
      this.open.add(c);
      return c;
    }
  }

  pending(): boolean {
    return this.#waiting.some((c) => !c.done);
  }

  /** Fails every connection, waiting or open (the instance ended; `timeout`: stopped at a deadline). */
  failAll(timeout = false): void {
    for (const c of [...this.#waiting, ...this.open]) c.fail(timeout);
    this.#waiting.length = 0;
    this.open.clear();
  }

  close(): void {
    // The guest closed its listener: connections still waiting can never be accepted.
    for (const c of this.#waiting) c.fail();
    this.#waiting.length = 0;
  }
}
