/**
 * wasi:http — types, and the incoming side of the proxy world — over the kernel's CGI view
 * of a request: the gateway hands every VM a request as CGI variables plus the body on stdin
 * (src/gateway/cgi.ts), and reads a CGI response from stdout. So a wasi:http component runs
 * behind the same gateway, host boundary and shards as a CGI app: the incoming-request is
 * rebuilt from the environment, the body is an input stream over stdin, and the response
 * the guest sets is written to stdout as `Status:` and header lines, then its body as the
 * guest writes it (through the kernel's output budget). Outgoing requests go to the VM's
 * outbound port (outgoing.ts), the daemon's HTTP switch; without one they are refused
 * (`HTTP-request-denied`): default deny. The classes that need their VM (a response's
 * stdout, a request's port) are made per VM, so VMs suspended on one thread never mix.
 */
import type { Kernel } from '../kernel.ts';
import { Descriptor as P1Descriptor, streamStat } from '../descriptor.ts';
import { FileType } from '../abi.ts';
import { VmStop } from '../unwind.ts';
import type { OutboundPort } from '../../shared/outbound-wire.ts';
import { ALWAYS_READY, InputStream, OutputStream, Pollable, type Blocking } from './io.ts';
import { outgoingInterfaces } from './outgoing.ts';

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

export const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

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

export class FutureTrailers {
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

export class IncomingBody {
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
export class ResponseSink extends P1Descriptor {
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

export class OutgoingBody {
  readonly sink: ResponseSink;
  readonly #vm: Blocking;
  #taken = false;
  finished = false;
  /** Told when the guest finishes the body (an outgoing request is sent then). */
  onFinish: (() => void) | undefined;
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
    body.onFinish?.();
  }
}

class OutgoingResponse {
  readonly #headers: Fields;
  #status = 200;
  #body: OutgoingBody | undefined;
  readonly #make: () => OutgoingBody;
  constructor(headers: Fields, ctx?: HttpContext) {
    this.#headers = headers;
    this.#make = () => {
      if (ctx?.stdout === undefined) throw new Error('wasi:http response outside a request');
      return new OutgoingBody(new ResponseSink(ctx.stdout), ctx.vm);
    };
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

/** One VM's wasi:http state: its blocking, its stdout once serving, its outbound port. */
export interface HttpContext {
  readonly vm: Blocking;
  stdout?: P1Descriptor;
  readonly port?: OutboundPort;
  /** Whether the guest can wait for a response without blocking its thread (it suspends). */
  readonly canWait: boolean;
  /** Wakes the VM's waiter when something it may wait on became ready. */
  readonly notify?: () => void;
}

const contexts = new WeakMap<Kernel, HttpContext>();

class ResponseOutparam {
  readonly state: { response?: OutgoingResponse; error?: ErrorCode; set: boolean } = { set: false };
  readonly #out: P1Descriptor;
  constructor(out: P1Descriptor) {
    this.#out = out;
  }
  static set(param: ResponseOutparam, response: { tag: 'ok' | 'err'; val: unknown }): void {
    if (param.state.set) throw new WebAssembly.RuntimeError('wasi:http response-outparam set twice');
    param.state.set = true;
    const out = param.#out;
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

/**
 * The wasi:http interfaces of one VM. `port`: where its outgoing requests go (none: every
 * one is refused, HTTP-request-denied). `canWait`: the VM suspends while it waits for a
 * response; otherwise every call is refused at once (still told to the port, for the record).
 * `notify` wakes its waiter when a response arrives.
 */
export function httpInterfaces(k: Kernel, vm: Blocking, port?: OutboundPort, canWait = false, notify?: () => void): Record<string, object> {
  const ctx: HttpContext = { vm, canWait, ...(port === undefined ? {} : { port }), ...(notify === undefined ? {} : { notify }) };
  contexts.set(k, ctx);
  class VmOutgoingResponse extends OutgoingResponse {
    constructor(headers: Fields) {
      super(headers, ctx);
    }
  }
  const outgoing = outgoingInterfaces(ctx);
  // The guest's own stdout is its stderr: stdout carries the response the host writes, so a
  // `console.log` (or printf) goes to the app's log instead of corrupting the response.
  let stdout: OutputStream | undefined;
  return {
    'wasi:cli/stdout': { getStdout: () => (stdout ??= new OutputStream({ desc: k.fds.get(2) }, vm)) },
    'wasi:http/types': {
      Fields, FutureTrailers, IncomingBody, IncomingRequest, OutgoingBody, OutgoingResponse: VmOutgoingResponse, ResponseOutparam,
      ...outgoing.types,
      httpErrorCode: () => undefined,
    },
    'wasi:http/outgoing-handler': outgoing.handler,
  };
}

/**
 * Serves the request of the VM's CGI environment through the component's
 * `wasi:http/incoming-handler.handle`. A guest that never sets its response gets a 502 from
 * the gateway (no CGI head on stdout) and a line on stderr.
 */
export function serveIncoming(k: Kernel, handle: (req: unknown, out: unknown) => unknown, completion?: () => Promise<unknown> | undefined): Promise<void> | undefined {
  const ctx = contexts.get(k);
  if (ctx === undefined) throw new Error('serveIncoming: the VM has no wasi:http interfaces');
  const vm = ctx.vm;
  const head = requestFromCgi(k.envStrings);
  const body = new IncomingBody(new InputStream({ desc: k.fds.get(0) }, vm), vm);
  ctx.stdout = k.fds.get(1);
  const param = new ResponseOutparam(k.fds.get(1));
  const report = (): void => {
    if (!param.state.set) k.fds.get(2).write([Buffer.from('nanovisor: the component returned from incoming-handler.handle without setting a response\n')]);
    else if (param.state.error !== undefined) k.fds.get(2).write([Buffer.from(`nanovisor: the component answered with error-code ${JSON.stringify(param.state.error.tag)}\n`)]);
  };
  handle(new IncomingRequest(head, body), param);
  // On the asynchronous path the guest may be suspended still: report when its call ends.
  const pending = completion?.();
  if (pending === undefined) {
    report();
    return undefined;
  }
  return pending.then(report);
}
