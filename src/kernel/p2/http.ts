/**
 * wasi:http — types, and the incoming side of the proxy world — over the kernel's CGI view
 * of a request: the gateway hands every VM a request as CGI variables plus the body on stdin
 * (src/gateway/cgi.ts), and reads a CGI response from stdout. So a wasi:http component runs
 * behind the same gateway, host boundary and shards as a CGI app: the incoming-request is
 * rebuilt from the environment, the body is an input stream over stdin, and the response
 * the guest sets is written to stdout as `Status:` and header lines, then its body as the
 * guest writes it (through the kernel's output budget). Outgoing requests are refused
 * (`HTTP-request-denied`) until the network switch exists: default deny.
 */
import type { Kernel } from '../kernel.ts';
import { Descriptor as P1Descriptor, streamStat } from '../descriptor.ts';
import { FileType } from '../abi.ts';
import { VmStop } from '../unwind.ts';
import { ALWAYS_READY, InputStream, OutputStream, Pollable, type Blocking } from './io.ts';

type Method = { tag: string; val?: string };
type Scheme = { tag: 'HTTP' | 'HTTPS' | 'other'; val?: string };
type ErrorCode = { tag: string; val?: unknown };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FORBIDDEN_VALUE = /[\0\r\n]/;
/** Hop-by-hop and framing headers the gateway sets itself; a guest's are dropped. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'status']);
const METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);
/** Bytes of response body a guest may write before it sets the response (then they are flushed). */
const MAX_EARLY_BODY = 16 << 20;

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

export class Fields {
  #entries: [string, Uint8Array][] = [];
  #immutable = false;

  static fromList(entries: [string, Uint8Array][]): Fields {
    const f = new Fields();
    for (const [n, v] of entries) f.append(n, v);
    return f;
  }
  /** Marks headers the guest may only read (a request's, a response's once sent). */
  freeze(): this {
    this.#immutable = true;
    return this;
  }
  #check(name: string, values: readonly Uint8Array[]): void {
    if (this.#immutable) throw { tag: 'immutable' };
    if (!TOKEN.test(name) || values.some((v) => FORBIDDEN_VALUE.test(latin1(v)))) throw { tag: 'invalid-syntax' };
  }
  get(name: string): Uint8Array[] {
    const n = name.toLowerCase();
    return this.#entries.filter(([k]) => k === n).map(([, v]) => v);
  }
  has(name: string): boolean {
    const n = name.toLowerCase();
    return this.#entries.some(([k]) => k === n);
  }
  set(name: string, values: Uint8Array[]): void {
    this.#check(name, values);
    const n = name.toLowerCase();
    this.#entries = [...this.#entries.filter(([k]) => k !== n), ...values.map((v): [string, Uint8Array] => [n, v.slice()])];
  }
  delete(name: string): void {
    this.#check(name, []);
    const n = name.toLowerCase();
    this.#entries = this.#entries.filter(([k]) => k !== n);
  }
  append(name: string, value: Uint8Array): void {
    this.#check(name, [value]);
    this.#entries.push([name.toLowerCase(), value.slice()]);
  }
  entries(): [string, Uint8Array][] {
    return this.#entries.map(([k, v]) => [k, v]);
  }
  clone(): Fields {
    const f = new Fields();
    f.#entries = this.entries();
    return f;
  }
}

class FutureTrailers {
  readonly #vm: Blocking;
  constructor(vm: Blocking) {
    this.#vm = vm;
  }
  subscribe(): Pollable {
    return new Pollable(ALWAYS_READY, this.#vm);
  }
  /** A CGI request carries no trailers: ready, none. */
  get(): unknown {
    return { tag: 'ok', val: { tag: 'ok', val: undefined } };
  }
}

class IncomingBody {
  readonly #stream: InputStream;
  readonly #vm: Blocking;
  #taken = false;
  constructor(stream: InputStream, vm: Blocking) {
    this.#stream = stream;
    this.#vm = vm;
  }
  stream(): InputStream {
    if (this.#taken) throw undefined;
    this.#taken = true;
    return this.#stream;
  }
  static finish(body: IncomingBody): FutureTrailers {
    return new FutureTrailers(body.#vm);
  }
}

export interface RequestHead {
  method: string;
  pathWithQuery: string;
  scheme: 'http' | 'https';
  authority: string;
  headers: [string, string][];
}

class IncomingRequest {
  readonly #head: RequestHead;
  readonly #body: IncomingBody;
  #consumed = false;
  constructor(head: RequestHead, body: IncomingBody) {
    this.#head = head;
    this.#body = body;
  }
  method(): Method {
    const m = this.#head.method.toLowerCase();
    return METHODS.has(m) && this.#head.method === this.#head.method.toUpperCase() ? { tag: m } : { tag: 'other', val: this.#head.method };
  }
  pathWithQuery(): string {
    return this.#head.pathWithQuery;
  }
  scheme(): Scheme {
    return { tag: this.#head.scheme === 'https' ? 'HTTPS' : 'HTTP' };
  }
  authority(): string {
    return this.#head.authority;
  }
  headers(): Fields {
    return Fields.fromList(this.#head.headers.map(([k, v]) => [k, Buffer.from(v, 'latin1')])).freeze();
  }
  consume(): IncomingBody {
    if (this.#consumed) throw undefined;
    this.#consumed = true;
    return this.#body;
  }
}

/** Where a response body goes: held until the response is set, then through to stdout. */
class ResponseSink extends P1Descriptor {
  readonly filetype = FileType.UNKNOWN;
  readonly #out: P1Descriptor;
  #early: Uint8Array[] = [];
  #earlyBytes = 0;
  #open = false;
  constructor(out: P1Descriptor) {
    super(0n, 0n);
    this.#out = out;
  }
  override write(bufs: Uint8Array[]): number {
    let n = 0;
    for (const b of bufs) n += b.byteLength;
    if (this.#open) return this.#out.write(bufs);
    this.#earlyBytes += n;
    if (this.#earlyBytes > MAX_EARLY_BODY) throw new VmStop('output-limit', 'guest wrote a large response body before setting the response');
    for (const b of bufs) this.#early.push(b.slice());
    return n;
  }
  /** The head is on stdout: flush what was written before, and write through from now on. */
  open(): void {
    this.#open = true;
    if (this.#early.length > 0) this.#out.write(this.#early);
    this.#early = [];
  }
  override filestat() {
    return streamStat(this.filetype);
  }
}

class OutgoingBody {
  readonly sink: ResponseSink;
  readonly #vm: Blocking;
  #taken = false;
  finished = false;
  constructor(sink: ResponseSink, vm: Blocking) {
    this.sink = sink;
    this.#vm = vm;
  }
  write(): OutputStream {
    if (this.#taken) throw undefined;
    this.#taken = true;
    return new OutputStream({ desc: this.sink }, this.#vm);
  }
  static finish(body: OutgoingBody, _trailers: Fields | undefined): void {
    // Trailers have no CGI form; they are dropped (docs/components.md).
    body.finished = true;
  }
}

class OutgoingResponse {
  readonly #headers: Fields;
  #status = 200;
  #body: OutgoingBody | undefined;
  readonly #make: () => OutgoingBody;
  constructor(headers: Fields) {
    this.#headers = headers;
    this.#make = () => new OutgoingBody(new ResponseSink(currentStdout()), currentVm());
  }
  statusCode(): number {
    return this.#status;
  }
  setStatusCode(code: number): void {
    if (!Number.isInteger(code) || code < 200 || code > 599) throw undefined;
    this.#status = code;
  }
  headers(): Fields {
    return this.#headers;
  }
  body(): OutgoingBody {
    if (this.#body !== undefined) throw undefined;
    this.#body = this.#make();
    return this.#body;
  }
  /** The CGI head: status and the guest's headers, hop-by-hop ones dropped. */
  head(): Uint8Array {
    let s = `Status: ${this.#status}\r\n`;
    for (const [k, v] of this.#headers.entries()) if (!DROPPED.has(k)) s += `${k}: ${latin1(v)}\r\n`;
    return Buffer.from(`${s}\r\n`, 'latin1');
  }
  get bodyIfAny(): OutgoingBody | undefined {
    return this.#body;
  }
}

/** The VM being served: OutgoingResponse's constructor has no kernel argument (WIT). */
let serving: { stdout: P1Descriptor; vm: Blocking } | undefined;
function currentStdout(): P1Descriptor {
  if (serving === undefined) throw new Error('wasi:http response outside a request');
  return serving.stdout;
}
function currentVm(): Blocking {
  if (serving === undefined) throw new Error('wasi:http response outside a request');
  return serving.vm;
}

class ResponseOutparam {
  readonly state: { response?: OutgoingResponse; error?: ErrorCode; set: boolean } = { set: false };
  static set(param: ResponseOutparam, response: { tag: 'ok' | 'err'; val: unknown }): void {
    if (param.state.set) throw new WebAssembly.RuntimeError('wasi:http response-outparam set twice');
    param.state.set = true;
    const out = currentStdout();
    if (response.tag === 'err') {
      param.state.error = response.val as ErrorCode;
      out.write([Buffer.from('Status: 500\r\ncontent-type: text/plain\r\n\r\ninternal error\n', 'latin1')]);
      return;
    }
    const r = response.val as OutgoingResponse;
    param.state.response = r;
    r.headers().freeze();
    out.write([r.head()]);
    r.bodyIfAny?.sink.open();
  }
}

/** An outgoing request as the guest builds it; nothing sends it yet (default deny). */
class OutgoingRequest {
  readonly #headers: Fields;
  #method: Method = { tag: 'get' };
  #path: string | undefined;
  #scheme: Scheme | undefined;
  #authority: string | undefined;
  #body: OutgoingBody | undefined;
  constructor(headers: Fields) {
    this.#headers = headers.freeze();
  }
  body(): OutgoingBody {
    if (this.#body !== undefined) throw undefined;
    // Bytes written to a request that is never sent go nowhere.
    this.#body = new OutgoingBody(new ResponseSink(new NullSink()), currentVm());
    this.#body.sink.open();
    return this.#body;
  }
  method(): Method { return this.#method; }
  setMethod(m: Method): void { this.#method = m; }
  pathWithQuery(): string | undefined { return this.#path; }
  setPathWithQuery(p: string | undefined): void { this.#path = p; }
  scheme(): Scheme | undefined { return this.#scheme; }
  setScheme(s: Scheme | undefined): void { this.#scheme = s; }
  authority(): string | undefined { return this.#authority; }
  setAuthority(a: string | undefined): void { this.#authority = a; }
  headers(): Fields { return this.#headers; }
}

class NullSink extends P1Descriptor {
  readonly filetype = FileType.UNKNOWN;
  constructor() {
    super(0n, 0n);
  }
  override write(bufs: Uint8Array[]): number {
    return bufs.reduce((n, b) => n + b.byteLength, 0);
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
class FutureIncomingResponse {}
class IncomingResponse {}

/** The request as the gateway's CGI variables describe it (src/gateway/cgi.ts). */
export function requestFromCgi(env: readonly string[]): RequestHead {
  const vars = new Map<string, string>();
  for (const kv of env) {
    const i = kv.indexOf('=');
    if (i > 0) vars.set(kv.slice(0, i), kv.slice(i + 1));
  }
  const headers: [string, string][] = [];
  for (const [k, v] of vars) {
    if (k.startsWith('HTTP_')) headers.push([k.slice(5).toLowerCase().replaceAll('_', '-'), v]);
  }
  const ct = vars.get('CONTENT_TYPE');
  if (ct !== undefined && ct !== '') headers.push(['content-type', ct]);
  const cl = vars.get('CONTENT_LENGTH');
  if (cl !== undefined && cl !== '' && cl !== '0') headers.push(['content-length', cl]);
  const query = vars.get('QUERY_STRING') ?? '';
  const path = `${vars.get('SCRIPT_NAME') ?? ''}${vars.get('X_RAW_PATH_INFO') ?? vars.get('PATH_INFO') ?? ''}` || '/';
  const full = vars.get('X_FULL_URL') ?? '';
  const port = vars.get('SERVER_PORT');
  return {
    method: vars.get('REQUEST_METHOD') ?? 'GET',
    pathWithQuery: query === '' ? path : `${path}?${query}`,
    scheme: full.startsWith('https:') ? 'https' : 'http',
    authority: vars.get('HTTP_HOST') ?? `${vars.get('SERVER_NAME') ?? 'localhost'}${port === undefined ? '' : `:${port}`}`,
    headers,
  };
}

/** The wasi:http interfaces of one VM. */
export function httpInterfaces(): Record<string, object> {
  return {
    'wasi:http/types': {
      Fields, FutureTrailers, IncomingBody, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
      OutgoingRequest, RequestOptions, FutureIncomingResponse, IncomingResponse,
      httpErrorCode: () => undefined,
    },
    'wasi:http/outgoing-handler': {
      // Default deny: no destination is allowed until the network switch exists (issue 9, step 4).
      handle: () => {
        throw { tag: 'HTTP-request-denied' };
      },
    },
  };
}

/**
 * Serves the request of the VM's CGI environment through the component's
 * `wasi:http/incoming-handler.handle`. A guest that never sets its response gets a 502 from
 * the gateway (no CGI head on stdout) and a line on stderr.
 */
export function serveIncoming(k: Kernel, handle: (req: unknown, out: unknown) => unknown): void {
  const vm: Blocking = { deadlineNs: k.deadlineNs };
  const head = requestFromCgi(k.envStrings);
  const body = new IncomingBody(new InputStream({ desc: k.fds.get(0) }, vm), vm);
  const param = new ResponseOutparam();
  serving = { stdout: k.fds.get(1), vm };
  try {
    handle(new IncomingRequest(head, body), param);
    if (!param.state.set) k.fds.get(2).write([Buffer.from('nanovisor: the component returned from incoming-handler.handle without setting a response\n')]);
    else if (param.state.error !== undefined) k.fds.get(2).write([Buffer.from(`nanovisor: the component answered with error-code ${JSON.stringify(param.state.error.tag)}\n`)]);
  } finally {
    serving = undefined;
  }
}
