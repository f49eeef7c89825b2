/**
 * The HTTP gateway core: HTTP/1.1 ingress (node:http) that routes each request by host and
 * longest path prefix to an app and serves it with a fresh Nano-VM, speaking CGI 1.1 to the
 * guest (cgi.ts). Every request gets its own VM, booted and thrown away; nothing of one
 * request survives into the next. Limits map to status codes: body too large 413, guest
 * too slow 504, guest trapped / exited non-zero / wrote too much / wrote no valid CGI 502,
 * unknown route 404, a method the route does not list 405 with `Allow`. Every response carries `x-request-id`.
 *
 * VMs come from a VmHost (src/host): each app holds a handle to its loaded image, and a
 * request is one `host.run(handle, ...)` — in process or on a shard, the gateway cannot tell.
 * This module is the core `nanovisor serve` mounts: it knows nothing of the control plane,
 * the database or auth. `handle` can be attached to any node:http server; `listen` makes
 * one. Routing is in routing.ts, per-app concurrency in concurrency.ts.
 */
import { channel } from 'node:diagnostics_channel';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HostRunOptions, RunResult, VmHandle, VmHost } from '../host/index.ts';
import { NanovisorError, isNanovisorError } from '../shared/errors.ts';
import type { Route } from '../shared/routes.ts';
import { DENY_ALL, type OutboundPolicy } from '../shared/outbound.ts';
import type { OutboundCallRecord } from '../shared/outbound-wire.ts';
import type { HttpSwitch } from '../switches/network/index.ts';
import { cgiEnv, parseCgiResponse, splitTarget, SERVER_SOFTWARE } from './cgi.ts';
import { Admission, type AdmissionOptions, type BodyReservation } from './admission.ts';
import { AppSlots, VolumeLocks } from './concurrency.ts';
import { VolumeQuotas, type Shares, type VolumeStats } from './volume-quotas.ts';
import { clientErrorAnswer, requestProblem } from './protocol.ts';
import { compileRoutes, matchRoute, type CompiledRoute } from './routing.ts';
import { proxy, type ProxyResponse, type Upstream } from './proxy.ts';

export { compileRoutes, matchRoute } from './routing.ts';

/** Default largest request body, in bytes. */
export const DEFAULT_MAX_BODY = 1024 * 1024;
/** Default wall-clock limit of one request's VM, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** One route of a gateway app: path prefix, optional host, optional methods (src/shared/routes.ts). */
export type GatewayRoute = Route;

export interface GatewayApp {
  /** Unique among the gateway's apps; shows in logs. */
  name: string;
  routes: readonly GatewayRoute[];
  /** The app's image loaded on the gateway's host; every request boots a fresh VM of it. */
  handle: VmHandle;
  /**
   * Set when the app cannot serve (its image is missing or corrupt): its routes stay, and
   * every request gets 503 NV_APP_BROKEN with this reason and the request id, not a 404.
   */
  broken?: string;
  /**
   * Run options for every request: env (CGI variables are added on top and win), mounts,
   * limits (`timeoutMs`, `maxOutputBytes`, `writableLayerBytes`). `args` default to `[name]`.
   * `timeoutMs` defaults to 30 s here; `Infinity` means no time limit.
   */
  options?: Omit<HostRunOptions, 'stdin'>;
  /** Largest request body, in bytes (413 beyond it). Default: the gateway's `maxBodyBytes`. */
  maxBodyBytes?: number;
  /**
   * Most requests of this app (by name, so across versions swapped in by `setApps`) whose
   * VMs run at once; more wait in a queue of `queue` places, and beyond that the gateway
   * answers 503 with `Retry-After`. Default: no limit.
   */
  concurrency?: number;
  /** Places in the app's wait queue when `concurrency` is reached. Default 0. */
  queue?: number;
  /**
   * Exclusive volumes the app's VMs mount (their mounts are in `options.mounts`): a request
   * boots its VM only while it holds every one of them, so one VM at a time has such a volume,
   * across apps and shards; the others wait in order, holding their app slot (docs/volumes.md).
   */
  exclusiveVolumes?: readonly string[];
  /**
   * A long-running server instance to proxy every request to (HTTP), instead of a fresh VM
   * per request over CGI. Routing, concurrency, body limits, `timeoutMs`, `maxOutputBytes`,
   * request ids, logs and metrics are the same.
   */
  upstream?: Upstream;
  /** Who the app's components may call over HTTP, through the gateway's `httpSwitch`. Default: no one. */
  outbound?: OutboundPolicy;
}

/** One finished request, for logs and metrics. */
export interface RequestRecord {
  requestId: string;
  app: string | undefined;
  method: string;
  url: string;
  status: number;
  /** How the VM ended; absent when no VM ran (404, 413, 400). */
  outcome?: RunResult['outcome'];
  exitCode?: number;
  /** Error code behind a 4xx/5xx answer the gateway made itself. */
  errorCode?: string;
  errorMessage?: string;
  /** The guest's stderr, as text (may be empty). */
  stderr?: string;
  /** From the first byte of the request being handled to the response being written. */
  durationMs: number;
  /** Time inside the VM (boot + run). */
  vmMs?: number;
  /** Time waiting for the app's exclusive volumes, when it has any. */
  volumeWaitMs?: number;
  /** The guest's outbound HTTP calls (allowed or refused), in order. */
  outbound?: OutboundCallRecord[];
}

export interface GatewayOptions {
  apps: readonly GatewayApp[];
  /**
   * The HTTP switch every outbound call of the apps' components goes through (one session per
   * request, with the app's `outbound`). Without one, every outbound call is refused.
   */
  httpSwitch?: HttpSwitch;
  /** Default largest request body for apps that set none. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest CGI header section a guest may print. Default 64 KiB. */
  maxResponseHeaderBytes?: number;
  /** SERVER_NAME when a request has no usable Host header. Default: the local address. */
  serverName?: string;
  /** SERVER_SOFTWARE. Default `nanovisor`. */
  serverSoftware?: string;
  /** Where VMs boot: the host the apps' handles were loaded on (in process or sharded). */
  host: VmHost;
  /** Called once per finished request. */
  onRequest?: (record: RequestRecord) => void;
  /**
   * Caps on connections, request heads, buffered bodies and slow clients (admission.ts has
   * the defaults); an `Admission` may be shared with other servers.
   */
  admission?: AdmissionOptions | Admission;
}

export interface Gateway {
  /**
   * The request handler; attach it to any node:http server (created with
   * `requireHostHeader: false`, so that a missing Host gets the gateway's 400 with a request id).
   */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * The `clientError` listener: answers what node:http cannot parse (400), a head too large
   * (431) or sent too slowly (408) with a request id, as the gateway's own answers, then
   * closes the connection. `listen` attaches it; attach it to your own server too.
   */
  readonly clientError: (err: Error, socket: Socket) => void;
  /**
   * Replaces every app and route at once. Requests already started finish with the app
   * they were routed to; the next request sees only the new set.
   */
  setApps(apps: readonly GatewayApp[]): void;
  /** Starts an HTTP server on `port` (0 picks a free one) and `host` (default 127.0.0.1). */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** The server `listen` started, if any. */
  readonly server: Server | undefined;
  /** The gateway's admission caps and what they turned away. */
  readonly admission: Admission;
  /** Stops accepting, closes idle connections and waits for in-flight requests. */
  close(): Promise<void>;
  /** Requests waiting for a concurrency slot, by app name (apps with none waiting left out). */
  queueDepth(): Record<string, number>;
  /**
   * Resolves once no request is running a VM of `handle` (at once if none is): a version
   * replaced by `setApps` is unloaded after this, so its requests in flight finish on it.
   */
  drained(handle: VmHandle): Promise<void>;
  /** VMs running for the gateway's requests now, over every app (the live-VM gauge). */
  liveVms(): number;
  /** Each volume's use, quotas and counters, as admission sees them (the per-volume metrics). */
  volumeStats(): VolumeStats[];
  /** Requests waiting for each exclusive volume (volumes with none waiting left out). */
  volumeQueueDepth(): Record<string, number>;
  /** Takes an exclusive volume's admission as a request would (in its queue); resolves with its release. */
  holdVolume(name: string): Promise<() => void>;
  /** Requests running VMs now, by app (apps with none left out). */
  liveVmsByApp(): Record<string, number>;
}

/** Published once per finished request (`RequestRecord`). */
const requestChannel = channel('nanovisor:gateway:request');

/** Request ids: a random per-process prefix and a counter; unique across shards, cheap. */
function requestIds(): () => string {
  const prefix = randomBytes(5).toString('hex');
  let n = 0;
  return () => `${prefix}-${(n++).toString(36).padStart(6, '0')}`;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Content Too Large', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

/**
 * Creates the gateway. Apps are validated at once (`NV_GATEWAY_CONFIG_INVALID` names the
 * bad app or route).
 *
 * @example
 * const host = new InProcessHost();
 * const handle = await host.load({ module: readFileSync('cgi-echo.wasm') });
 * const gw = createGateway({ host, apps: [{ name: 'echo', routes: [{ path: '/echo' }], handle, options: { timeoutMs: 1000 } }] });
 * const { port } = await gw.listen(8080);
 * // curl -d hi http://127.0.0.1:8080/echo/x?y=1
 */
export function createGateway(options: GatewayOptions): Gateway {
  let router = compileRoutes(options.apps);
  const admission = options.admission instanceof Admission ? options.admission : new Admission(options.admission);
  const defaultMaxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const host = options.host;
  const nextId = requestIds();
  const serverSoftware = options.serverSoftware ?? SERVER_SOFTWARE;
  const parseOptions = options.maxResponseHeaderBytes === undefined ? {} : { maxHeaderBytes: options.maxResponseHeaderBytes };
  let server: Server | undefined;
  const inFlight = new Set<Promise<void>>();
  const slots = new AppSlots();
  const volumeLocks = new VolumeLocks();
  const volumeQuotas = new VolumeQuotas();
  /** Runs in flight by handle key, and who waits for each key to drain. */
  const running = new Map<string, number>();
  let live = 0;
  const drainWaiters = new Map<string, (() => void)[]>();
  function runStarted(key: string): void {
    live++;
    running.set(key, (running.get(key) ?? 0) + 1);
  }
  function runEnded(key: string): void {
    live--;
    const n = (running.get(key) ?? 1) - 1;
    if (n > 0) {
      running.set(key, n);
      return;
    }
    running.delete(key);
    const waiters = drainWaiters.get(key);
    drainWaiters.delete(key);
    for (const w of waiters ?? []) w();
  }

  function finish(record: RequestRecord): void {
    if (options.onRequest !== undefined) {
      try {
        options.onRequest(record);
      } catch {
        // A logger's failure must not take a request down with it.
      }
    }
    if (requestChannel.hasSubscribers) requestChannel.publish(record);
  }

  /** An answer the gateway makes itself (no guest body), plain text with the request id. */
  function answer(res: ServerResponse, status: number, id: string, text: string, close = false, extra: readonly string[] = []): void {
    const body = `${status} ${STATUS_TEXT[status] ?? ''}: ${text}\nrequest id: ${id}\n`;
    const headers: string[] = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), 'x-request-id', id, ...extra];
    if (close) headers.push('connection', 'close');
    res.writeHead(status, STATUS_TEXT[status], headers);
    res.end(body);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, id: string, started: number, route: CompiledRoute, body: Uint8Array): Promise<void> {
    const app = route.app;
    const record: RequestRecord = { requestId: id, app: app.name, method: req.method ?? 'GET', url: req.url ?? '/', status: 0, durationMs: 0 };
    const done = (status: number): void => {
      record.status = status;
      record.durationMs = performance.now() - started;
      finish(record);
    };
    let env: Record<string, string>;
    try {
      env = cgiEnv({
        method: record.method,
        url: record.url,
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress ?? '',
        serverName: options.serverName ?? req.socket.localAddress ?? 'localhost',
        serverPort: req.socket.localPort ?? 0,
        protocol: `HTTP/${req.httpVersion}`,
        route: route.path,
        contentLength: body.length,
        serverSoftware,
      }, app.options?.env);
    } catch (e) {
      const err = e as NanovisorError;
      record.errorCode = err.code;
      record.errorMessage = err.message;
      answer(res, 400, id, err.message);
      return done(400);
    }
    env['X_REQUEST_ID'] = id;

    let granted = slots.acquire(app);
    if (granted instanceof Promise) granted = await granted;
    if (!granted) {
      record.errorCode = 'NV_GATEWAY_OVERLOADED';
      record.errorMessage = `the app "${app.name}" is at its concurrency limit of ${app.concurrency} and its queue of ${app.queue ?? 0} is full`;
      answer(res, 503, id, record.errorMessage, false, ['retry-after', '1']);
      return done(503);
    }
    if (app.upstream !== undefined) return serveUpstream(app, app.upstream, req, res, id, record, body, done);
    const exclusive = app.exclusiveVolumes ?? [];
    if (exclusive.length > 0) {
      const waitStarted = performance.now();
      const wait = volumeLocks.acquire(exclusive);
      if (wait !== undefined) await wait;
      record.volumeWaitMs = performance.now() - waitStarted;
    }
    // Each volume mount gets its share of the volume's quota (volume-quotas.ts).
    const volumeMounts = app.options?.mounts?.some((m) => m.volume !== undefined) === true
      ? volumeQuotas.reserve(app.options!.mounts!, exclusive, record.volumeWaitMs ?? 0)
      : undefined;
    let shares: Shares | undefined = volumeMounts?.shares;
    const vmStarted = performance.now();
    let result: RunResult;
    runStarted(app.handle.key);
    try {
      const timeoutMs = app.options?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const { timeoutMs: _t, ...appOptions } = app.options ?? {};
      // One switch session per run: the app's allowlist and caps, the run's deadline.
      const session = options.httpSwitch?.session({ app: app.name, requestId: id }, app.outbound ?? DENY_ALL, Number.isFinite(timeoutMs) ? vmStarted + timeoutMs : undefined);
      if (session !== undefined) record.outbound = session.calls;
      result = await host.run(app.handle, {
        ...appOptions,
        ...(session === undefined ? {} : { outbound: session }),
        ...(volumeMounts === undefined ? {} : { mounts: volumeMounts.mounts }),
        ...(Number.isFinite(timeoutMs) ? { timeoutMs } : {}),
        args: app.options?.args ?? [app.name],
        env,
        stdin: body,
      });
      if (shares !== undefined) {
        volumeQuotas.settle(shares, result);
        shares = undefined;
      }
    } catch (e) {
      // The VM could not even boot (e.g. a module without an exported memory): the app's
      // fault is 502, ours is 500.
      const err = isNanovisorError(e) ? e : new NanovisorError('NV_HOST_FAULT', `could not boot a VM: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      record.errorCode = err.code;
      record.errorMessage = err.message;
      if (err.code === 'NV_HOST_SHARD_CRASHED' || err.code === 'NV_HOST_CLOSED') {
        // The host process under the VM went away (it restarts on its own): worth a retry.
        answer(res, 503, id, `the host process running the app "${app.name}" stopped during the request (${err.code}); retry`, false, ['retry-after', '1']);
        return done(503);
      }
      if (err.code === 'NV_LINUX_UNAVAILABLE') {
        answer(res, 503, id, `the app "${app.name}" cannot run on this host: ${err.message} (${err.code})`);
        return done(503);
      }
      const status = err.class === 'system' ? 500 : 502;
      answer(res, status, id, `the app "${app.name}" could not be started (${err.code})`);
      return done(status);
    } finally {
      if (shares !== undefined) volumeQuotas.settle(shares, undefined);
      runEnded(app.handle.key);
      volumeLocks.release(exclusive);
      slots.release(app);
    }
    record.vmMs = performance.now() - vmStarted;
    record.outcome = result.outcome;
    record.exitCode = result.exitCode;
    if (result.stderr.length > 0) record.stderr = Buffer.from(result.stderr.buffer, result.stderr.byteOffset, result.stderr.length).toString('utf8');

    if (result.outcome !== 'exit' || result.exitCode !== 0) {
      const timeout = result.outcome === 'timeout';
      const status = timeout ? 504 : 502;
      const code = result.error?.code ?? 'NV_GUEST_EXIT';
      record.errorCode = code;
      record.errorMessage = result.error?.message ?? `guest exited with code ${result.exitCode}`;
      const why = timeout ? 'did not answer in time'
        : result.outcome === 'trap' ? 'crashed'
        : result.outcome === 'output-limit' ? 'wrote too large a response'
        : `exited with code ${result.exitCode}`;
      answer(res, status, id, `the app "${app.name}" ${why} (${code})`);
      return done(status);
    }

    let cgi;
    try {
      cgi = parseCgiResponse(result.stdout, parseOptions);
    } catch (e) {
      const err = e as NanovisorError;
      record.errorCode = err.code;
      record.errorMessage = err.message;
      answer(res, 502, id, `the app "${app.name}" wrote an invalid CGI response (${err.code})`);
      return done(502);
    }
    const headers: string[] = [];
    for (const [name, value] of cgi.headers) {
      if (name.length === 12 && name.toLowerCase() === 'x-request-id') continue;
      headers.push(name, value);
    }
    headers.push('content-length', String(cgi.body.length), 'x-request-id', id);
    if (cgi.statusText === undefined) res.writeHead(cgi.status, headers);
    else res.writeHead(cgi.status, cgi.statusText, headers);
    res.end(cgi.body);
    return done(cgi.status);
  }

  async function serveUpstream(app: GatewayApp, upstream: Upstream, req: IncomingMessage, res: ServerResponse, id: string, record: RequestRecord, body: Uint8Array, done: (status: number) => void): Promise<void> {
    const started = performance.now();
    let r: ProxyResponse;
    runStarted(app.handle.key);
    try {
      const timeoutMs = app.options?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      r = await proxy(upstream, {
        method: record.method, url: record.url, headers: req.headers, body, requestId: id, remoteAddress: req.socket.remoteAddress ?? '',
        timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : 2 ** 31 - 1, maxResponseBytes: app.options?.maxOutputBytes ?? 16 * 1024 * 1024,
      });
    } catch (e) {
      const err = isNanovisorError(e) ? e : new NanovisorError('NV_HOST_FAULT', String(e));
      record.errorCode = err.code;
      record.errorMessage = err.message;
      record.vmMs = performance.now() - started;
      const cause = (err.cause as { code?: string } | undefined)?.code;
      const status = err.code === 'NV_GUEST_TIMEOUT' ? 504 : err.code === 'NV_GUEST_OUTPUT_LIMIT' ? 502
        : cause === 'NV_LINUX_UNAVAILABLE' || cause === 'NV_INSTANCE_UNAVAILABLE' || cause === 'NV_HOST_SHARD_CRASHED' || cause === 'NV_HOST_CLOSED' ? 503 : 502;
      if (cause !== undefined && status === 503) record.errorCode = cause;
      answer(res, status, id, `the app "${app.name}" ${status === 504 ? 'did not answer in time' : status === 503 ? `is not available: ${err.message}` : 'could not be reached'} (${record.errorCode})`, false, status === 503 ? ['retry-after', '1'] : []);
      return done(status);
    } finally {
      runEnded(app.handle.key);
      slots.release(app);
    }
    record.vmMs = performance.now() - started;
    r.headers.push('content-length', String(r.body.length), 'x-request-id', id);
    if (r.statusText === undefined) res.writeHead(r.status, r.headers);
    else res.writeHead(r.status, r.statusText, r.headers);
    res.end(r.body);
    return done(r.status);
  }

  /**
   * Responses not yet finished, by connection: a client error that comes after them (a bad
   * request pipelined behind a good one) is answered once they are done, in order.
   */
  const pending = new WeakMap<Socket, Set<ServerResponse>>();

  function clientError(err: Error & { code?: string }, socket: Socket): void {
    const what = clientErrorAnswer(err);
    if (what === undefined) {
      socket.destroy();
      return;
    }
    socket.on('error', () => {});
    const before = pending.get(socket);
    if (before !== undefined && [...before].some((r) => !r.req.complete)) {
      // The error is about a request still being read (its body timed out or broke off):
      // answer it now unless its answer has begun, and close, as node:http does.
      if ([...before].some((r) => r.headersSent)) socket.destroy();
      else answerClientError(what, socket);
      return;
    }
    if (before !== undefined && before.size > 0) {
      void Promise.all([...before].map((r) => new Promise((resolve) => r.once('close', resolve)))).then(() => answerClientError(what, socket));
      return;
    }
    answerClientError(what, socket);
  }

  function answerClientError(what: NonNullable<ReturnType<typeof clientErrorAnswer>>, socket: Socket): void {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const id = nextId();
    const body = `${what.status} ${STATUS_TEXT[what.status]}: ${what.message}\nrequest id: ${id}\n`;
    socket.end(`HTTP/1.1 ${what.status} ${STATUS_TEXT[what.status]}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`);
    socket.destroySoon();
    finish({ requestId: id, app: undefined, method: '', url: '', status: what.status, errorCode: what.code, errorMessage: what.message, durationMs: 0 });
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const id = nextId();
    const socket = req.socket;
    let mine = pending.get(socket);
    if (mine === undefined) pending.set(socket, (mine = new Set()));
    mine.add(res);
    res.once('close', () => mine.delete(res));
    const url = req.url ?? '/';
    const host = req.headers.host;
    const route = matchRoute(router, host, splitTarget(url).path);
    const bare: RequestRecord = { requestId: id, app: route?.app.name, method: req.method ?? 'GET', url, status: 0, durationMs: 0 };
    const early = (status: number, text: string, code: string, close: boolean, extra: readonly string[] = []): void => {
      answer(res, status, id, text, close, extra);
      finish({ ...bare, status, errorCode: code, errorMessage: text, durationMs: performance.now() - started });
    };
    const problem = requestProblem(req);
    if (problem !== undefined) {
      req.resume();
      return early(problem.status, problem.message, problem.code, true);
    }
    if (route === undefined) {
      req.resume();
      return early(404, `no app is routed for ${host ?? ''}${splitTarget(url).path}`, 'NV_GATEWAY_NO_ROUTE', false);
    }
    if (route.methods !== undefined && !route.methods.has(bare.method)) {
      const allow = route.allow ?? '';
      req.resume();
      return early(405, `the app "${route.app.name}" serves ${route.path} only for ${allow}, not ${bare.method}`, 'NV_GATEWAY_METHOD_NOT_ALLOWED', false, ['allow', allow]);
    }
    if (route.app.broken !== undefined) {
      req.resume();
      return early(503, `the app "${route.app.name}" is broken and cannot serve: ${route.app.broken}`, 'NV_APP_BROKEN', false);
    }
    const limit = route.app.maxBodyBytes ?? defaultMaxBody;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      // Do not read a body we will refuse; close so the rest of it is not parsed as a request.
      return early(413, `the request body (${declared} bytes) is larger than the app's limit of ${limit} bytes`, 'NV_GATEWAY_BODY_TOO_LARGE', true);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    // The body's bytes count against the gateway's budget until its response is done
    // (taken at the first chunk, so a request without a body pays nothing for it).
    let reserved: BodyReservation | undefined;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (reserved === undefined) {
        reserved = admission.body();
        res.once('close', reserved.free);
      }
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reserved.free();
        early(413, `the request body is larger than the app's limit of ${limit} bytes`, 'NV_GATEWAY_BODY_TOO_LARGE', true);
        return;
      }
      if (!reserved.take(chunk.length)) {
        refused = true;
        chunks.length = 0;
        reserved.free();
        early(503, `the gateway holds its limit of ${admission.limits.maxBufferedBodyBytes} bytes of request bodies; retry later`, 'NV_GATEWAY_BUSY', true, ['retry-after', String(admission.retryAfterSeconds)]);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0]! : chunks.length === 0 ? new Uint8Array(0) : Buffer.concat(chunks, size);
      const p = serve(req, res, id, started, route, body).catch((e: unknown) => {
        // Only a bug of ours gets here; answer if we still can.
        if (!res.headersSent) answer(res, 500, id, `internal error (${isNanovisorError(e) ? e.code : 'NV_HOST_FAULT'})`);
        else res.destroy();
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    });
    req.on('error', () => {
      // The client went away mid-body; nothing to answer.
    });
  }

  return {
    handle,
    clientError,
    setApps(apps) {
      router = compileRoutes(apps);
    },
    async listen(port = 0, host = '127.0.0.1') {
      if (server !== undefined) throw new NanovisorError('NV_GATEWAY_CONFIG_INVALID', 'the gateway is already listening');
      const s = admission.createServer(handle, { requireHostHeader: false });
      s.on('clientError', clientError);
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      return s.address() as AddressInfo;
    },
    get server() {
      return server;
    },
    admission,
    volumeStats() {
      return volumeQuotas.stats();
    },
    volumeQueueDepth() {
      return volumeLocks.queueDepth();
    },
    async holdVolume(name) {
      await volumeLocks.acquire([name]);
      let released = false;
      return () => {
        if (!released) volumeLocks.release([name]);
        released = true;
      };
    },
    queueDepth() {
      return slots.queueDepth();
    },
    liveVmsByApp() {
      return slots.active();
    },
    liveVms() {
      return live;
    },
    drained(handle) {
      if (!running.has(handle.key)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const list = drainWaiters.get(handle.key) ?? [];
        list.push(resolve);
        drainWaiters.set(handle.key, list);
      });
    },
    async close() {
      const s = server;
      if (s !== undefined) {
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        await Promise.allSettled([...inFlight]);
        s.closeIdleConnections();
        await closed;
      } else {
        await Promise.allSettled([...inFlight]);
      }
    },
  };
}
