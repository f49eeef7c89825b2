/**
 * Proxying a request to a long-running server instance (an app with an upstream instead of
 * a VM per request): HTTP/1.1 over a connection the upstream opens (for the linux driver, a
 * Unix socket through the sandbox's relay), the request's body already buffered by the
 * gateway, the response read whole and bounded like a CGI guest's output. Hop-by-hop headers
 * are dropped both ways (RFC 9110 7.6.1); `x-request-id` and `x-forwarded-for` are set.
 */
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { NanovisorError, isNanovisorError } from '../shared/errors.ts';

/**
 * Where a server app's requests go: a fresh connection to the app's port (linux driver), or
 * one exchange with a wasi server instance — the whole request's bytes in, the whole
 * response's bytes out (src/host/server: the instance may be asleep and is woken for it).
 */
export interface Upstream {
  /** A fresh connection to the app's port (used when there is no `exchange`). */
  connect?: (() => Promise<Socket>) | undefined;
  /** One request's bytes to the instance, its response's bytes back. */
  exchange?: ((request: Uint8Array, options: { timeoutMs: number; maxResponseBytes: number }) => Promise<Uint8Array>) | undefined;
}

/**
 * The connection node:http writes a request to when the upstream is an exchange: it keeps
 * the request's bytes; once the request is written whole (`send`), they go to the instance,
 * and its answer is what the connection reads, then end of stream.
 */
class ExchangeStream extends Duplex {
  readonly #chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.#chunks.push(chunk);
    cb();
  }
  override _read(): void {}
  send(exchange: (request: Uint8Array) => Promise<Uint8Array>): void {
    exchange(new Uint8Array(Buffer.concat(this.#chunks))).then((answer) => {
      this.push(Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength));
      this.push(null);
    }, (e: Error) => this.destroy(e));
  }
}

export interface ProxyRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
  requestId: string;
  remoteAddress: string;
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface ProxyResponse {
  status: number;
  statusText?: string;
  headers: string[];
  body: Uint8Array;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'x-request-id']);

/**
 * Sends one request to the upstream and reads its whole response. Rejects with
 * NV_GUEST_TIMEOUT (no full answer in time), NV_GUEST_OUTPUT_LIMIT, or NV_GATEWAY_UPSTREAM
 * (the app did not accept, or broke the connection).
 */
export async function proxy(upstream: Upstream, r: ProxyRequest): Promise<ProxyResponse> {
  let socket: Socket | ExchangeStream;
  if (upstream.exchange !== undefined) socket = new ExchangeStream();
  else {
    try {
      if (upstream.connect === undefined) throw new Error('the upstream takes neither connections nor exchanges');
      socket = await upstream.connect();
    } catch (e) {
      throw new NanovisorError('NV_GATEWAY_UPSTREAM', `the server instance did not accept the connection: ${(e as Error).message}`, { cause: e });
    }
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  headers['x-request-id'] = r.requestId;
  const xff = r.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = xff === undefined ? r.remoteAddress : `${Array.isArray(xff) ? xff.join(', ') : xff}, ${r.remoteAddress}`;
  headers['content-length'] = String(r.body.length);
  headers['connection'] = 'close';
  return new Promise<ProxyResponse>((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new NanovisorError('NV_GUEST_TIMEOUT', `the server instance did not answer within ${r.timeoutMs} ms`));
    }, r.timeoutMs);
    const req = request({ createConnection: () => socket as Socket, method: r.method, path: r.url, headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > r.maxResponseBytes) {
          clearTimeout(timer);
          req.destroy();
          reject(new NanovisorError('NV_GUEST_OUTPUT_LIMIT', `the server instance's response is larger than ${r.maxResponseBytes} bytes`));
          return;
        }
        chunks.push(d);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const out: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!;
          if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, res.rawHeaders[i + 1]!);
        }
        resolve({ status: res.statusCode ?? 502, ...(res.statusMessage === undefined ? {} : { statusText: res.statusMessage }), headers: out, body: new Uint8Array(Buffer.concat(chunks)) });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(new NanovisorError('NV_GATEWAY_UPSTREAM', `the server instance broke off its response: ${e.message}`, { cause: e }));
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      // An exchange's own limits are the request's: the instance ran past its time, or answered too much.
      if (isNanovisorError(e) && (e.code === 'NV_GUEST_TIMEOUT' || e.code === 'NV_GUEST_OUTPUT_LIMIT')) reject(e);
      else reject(new NanovisorError('NV_GATEWAY_UPSTREAM', `the server instance broke the connection: ${e.message}`, { cause: e }));
    });
    if (socket instanceof ExchangeStream) {
      const stream = socket;
      const exchange = upstream.exchange!;
      req.on('finish', () => stream.send((bytes) => exchange(bytes, { timeoutMs: r.timeoutMs, maxResponseBytes: r.maxResponseBytes })));
    }
    req.end(r.body);
  });
}
