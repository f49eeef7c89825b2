/**
 * wasi:http/outgoing-handler: the guest builds an outgoing-request (and writes its body),
 * `handle` hands it to the VM's outbound port — the daemon's HTTP switch, which decides,
 * calls and answers (src/switches/network/http) — and returns a future-incoming-response the
 * guest polls. The request is sent once its body is finished (or at `handle` when it has
 * none); the response arrives whole (bounded by the app's outbound.maxBytes) and its body is
 * an input-stream over those bytes. A refused call is the switch's error-code in the guest.
 */
import { FileType } from '../abi.ts';
import { Descriptor as P1Descriptor, streamStat } from '../descriptor.ts';
import { BufferInput } from '../stdio.ts';
import type { OutboundReply, OutboundRequest, WasiHttpErrorCode } from '../../shared/outbound-wire.ts';
import { Fields, IncomingBody, OutgoingBody, ResponseSink, latin1, type HttpContext } from './http.ts';
import { InputStream, Pollable } from './io.ts';

type Method = { tag: string; val?: string };
type Scheme = { tag: 'HTTP' | 'HTTPS' | 'other'; val?: string };

/** Most bytes of an outgoing request body held before it is sent (the switch caps it lower per app). */
const MAX_REQUEST_BODY = 64 << 20;

/** Collects an outgoing request's body until it is sent. */
class RequestBodySink extends P1Descriptor {
  readonly filetype = FileType.UNKNOWN;
  readonly chunks: Uint8Array[] = [];
  bytes = 0;
  constructor() {
    super(0n, 0n);
  }
  override write(bufs: Uint8Array[]): number {
    let n = 0;
    for (const b of bufs) {
      n += b.byteLength;
      this.chunks.push(b.slice());
    }
    this.bytes += n;
    if (this.bytes > MAX_REQUEST_BODY) throw { tag: 'last-operation-failed', val: undefined };
    return n;
  }
  override filestat() {
    return streamStat(this.filetype);
  }
}

class RequestOptions {
  #connect: bigint | undefined;
  #first: bigint | undefined;
  #between: bigint | undefined;
  connectTimeout(): bigint | undefined { return this.#connect; }
  setConnectTimeout(d: bigint | undefined): void { this.#connect = d; }
  firstByteTimeout(): bigint | undefined { return this.#first; }
  setFirstByteTimeout(d: bigint | undefined): void { this.#first = d; }
  betweenBytesTimeout(): bigint | undefined { return this.#between; }
  setBetweenBytesTimeout(d: bigint | undefined): void { this.#between = d; }
}

class IncomingResponse {
  readonly #status: number;
  readonly #headers: [string, string][];
  readonly #body: Uint8Array;
  readonly #ctx: HttpContext;
  #consumed = false;
  constructor(reply: { status: number; headers: [string, string][]; body: Uint8Array }, ctx: HttpContext) {
    this.#status = reply.status;
    this.#headers = reply.headers;
    this.#body = reply.body;
    this.#ctx = ctx;
  }
  status(): number {
    return this.#status;
  }
  headers(): Fields {
    return Fields.fromList(this.#headers.filter(([k]) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k)).map(([k, v]) => [k, Buffer.from(v.replace(/[\0\r\n]/g, ' '), 'latin1')])).freeze();
  }
  consume(): IncomingBody {
    if (this.#consumed) throw undefined;
    this.#consumed = true;
    return new IncomingBody(new InputStream({ desc: new BufferInput(this.#body) }, this.#ctx.vm), this.#ctx.vm);
  }
}

class FutureIncomingResponse {
  #reply: OutboundReply | undefined;
  #taken = false;
  readonly #ctx: HttpContext;
  constructor(ctx: HttpContext) {
    this.#ctx = ctx;
  }
  settle(reply: OutboundReply): void {
    this.#reply = reply;
    this.#ctx.notify?.();
  }
  subscribe(): Pollable {
    return new Pollable({ ready: () => this.#reply !== undefined }, this.#ctx.vm);
  }
  /** option<result<result<incoming-response, error-code>>>: none until it arrives; an error on the second get. */
  get(): unknown {
    const r = this.#reply;
    if (r === undefined) return undefined;
    if (this.#taken) return { tag: 'err', val: undefined };
    this.#taken = true;
    return { tag: 'ok', val: r.ok ? { tag: 'ok', val: new IncomingResponse(r, this.#ctx) } : { tag: 'err', val: r.code } };
  }
}

function methodText(m: Method): string {
  return m.tag === 'other' ? String(m.val ?? '') : m.tag.toUpperCase();
}

/** The outgoing classes and handler of one VM. */
export function outgoingInterfaces(ctx: HttpContext): { types: Record<string, unknown>; handler: Record<string, unknown> } {
  class OutgoingRequest {
    readonly #headers: Fields;
    #method: Method = { tag: 'get' };
    #path: string | undefined;
    #scheme: Scheme | undefined;
    #authority: string | undefined;
    #body: OutgoingBody | undefined;
    #sink: RequestBodySink | undefined;
    constructor(headers: Fields) {
      this.#headers = headers.freeze();
    }
    body(): OutgoingBody {
      if (this.#body !== undefined) throw undefined;
      this.#sink = new RequestBodySink();
      const sink = new ResponseSink(this.#sink);
      sink.open();
      this.#body = new OutgoingBody(sink, ctx.vm);
      return this.#body;
    }
    method(): Method { return this.#method; }
    setMethod(m: Method): void {
      if (m.tag === 'other' && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(String(m.val ?? ''))) throw undefined;
      this.#method = m;
    }
    pathWithQuery(): string | undefined { return this.#path; }
    setPathWithQuery(p: string | undefined): void {
      if (p !== undefined && (/[\0-\x20\x7f]/.test(p) || p.length > 8192)) throw undefined;
      this.#path = p;
    }
    scheme(): Scheme | undefined { return this.#scheme; }
    setScheme(s: Scheme | undefined): void { this.#scheme = s; }
    authority(): string | undefined { return this.#authority; }
    setAuthority(a: string | undefined): void {
      if (a !== undefined && (/[\0-\x20\x7f/?#@]/.test(a) || a.length > 1024)) throw undefined;
      this.#authority = a;
    }
    headers(): Fields { return this.#headers; }

    /** Sends the request once its body is complete. */
    send(future: FutureIncomingResponse): void {
      const scheme = this.#scheme?.tag === 'HTTPS' ? 'https' : this.#scheme === undefined || this.#scheme.tag === 'HTTP' ? 'http' : undefined;
      if (scheme === undefined) return future.settle({ ok: false, code: { tag: 'HTTP-protocol-error' }, reason: `scheme ${String(this.#scheme?.val)} is not http or https` });
      if (this.#authority === undefined || this.#authority === '') return future.settle({ ok: false, code: { tag: 'HTTP-request-URI-invalid' }, reason: 'no authority' });
      const body = this.#sink === undefined ? new Uint8Array(0) : Buffer.concat(this.#sink.chunks);
      const req: OutboundRequest = {
        method: methodText(this.#method), scheme, authority: this.#authority, pathWithQuery: this.#path ?? '/',
        headers: this.#headers.entries().map(([k, v]) => [k, latin1(v)]), body,
      };
      const port = ctx.port;
      if (port === undefined) return future.settle({ ok: false, code: { tag: 'HTTP-request-denied' }, reason: 'no outbound network for this VM' });
      port.call(req).then(
        (reply) => future.settle(reply),
        (e: unknown) => future.settle({ ok: false, code: { tag: 'internal-error', val: String((e as Error)?.message ?? e) }, reason: String(e) }),
      );
    }
    get pendingBody(): OutgoingBody | undefined {
      return this.#body !== undefined && !this.#body.finished ? this.#body : undefined;
    }
  }

  return {
    types: { OutgoingRequest, RequestOptions, FutureIncomingResponse, IncomingResponse },
    handler: {
      handle: (request: OutgoingRequest, _options: RequestOptions | undefined): FutureIncomingResponse => {
        if (ctx.port === undefined) throw { tag: 'HTTP-request-denied' } satisfies WasiHttpErrorCode;
        if (!ctx.canWait) {
          // The app may call no one (port.mayConnect false): refuse now; the switch records it.
          if (!ctx.port.mayConnect) request.send(new FutureIncomingResponse(ctx));
          throw { tag: 'HTTP-request-denied' } satisfies WasiHttpErrorCode;
        }
        const future = new FutureIncomingResponse(ctx);
        const body = request.pendingBody;
        if (body === undefined) request.send(future);
        else body.onFinish = () => request.send(future);
        return future;
      },
    },
  };
}
