/**
 * The REST API: a router over the resource files (one per resource), bearer-token auth, JSON
 * errors with the request id, and two ways in: `request()` in process (tests drive it without
 * sockets) and `handle(req, res)` for a node:http server. Every request gets an
 * `x-request-id` and one structured log line (method, path, status, time; never headers or
 * bodies, so tokens and secrets cannot reach the log). Error answers never name the server's
 * files (`publicMessage`); the log line of the request has the whole message.
 */
import { open, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ControlPlane, Logger } from '../control/index.ts';
import { NanovisorError, isNanovisorError } from '../shared/errors.ts';
import { appRoutes } from './apps.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { healthRoutes } from './health.ts';
import { errorResponse, json, publicMessage, type ApiContext, type ApiRequest, type ApiResponse, type HeaderValue, type Route } from './http.ts';
import { imageRoutes } from './images.ts';
import { logRoutes } from './logs.ts';
import { metricsRoutes } from './metrics.ts';
import { OPENAPI } from './openapi.ts';
import { tokenRoutes } from './tokens.ts';
import { versionRoutes } from './versions.ts';
import { volumeRoutes } from './volumes.ts';

/** Default largest JSON body: 1 MiB. */
export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;
/** Default largest upload (image export or app directory tar): 256 MiB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

/** Every endpoint the API serves; openapi.ts documents each (a test checks). */
export const ROUTES: readonly Route[] = [
  ...healthRoutes,
  { method: 'GET', path: '/openapi.json', auth: false, handler: () => json(200, OPENAPI) },
  ...metricsRoutes,
  ...appRoutes,
  ...versionRoutes,
  ...imageRoutes,
  ...logRoutes,
  ...tokenRoutes,
  ...volumeRoutes,
];

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
}

/** A request for `request()`: what a client sends. */
export interface ApiInput {
  method: string;
  /** Path and query, e.g. `/v1/apps?x=1`. */
  url: string;
  headers?: Record<string, HeaderValue>;
  body?: Uint8Array | string | AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
  /** The client's address; wrong tokens are throttled per address (none: not throttled). */
  remoteAddress?: string;
}

export interface ApiOptions {
  control: ControlPlane;
  maxJsonBytes?: number;
  maxUploadBytes?: number;
  log?: Logger;
  /**
   * Accepts a request that has no Authorization header by another credential (the
   * dashboard's session cookie, src/dashboard): true when it is valid; it throws when the
   * credential is there but the request must be refused (NV_UI_CSRF). Routes with
   * `session: false` never take it.
   */
  sessionAuth?: (req: ApiRequest) => boolean;
  /** Counts wrong tokens per client address (shared with the dashboard's login). Default: a new one. */
  authThrottle?: AuthThrottle;
}

export interface Api {
  /** Handles one request in process. */
  request(input: ApiInput): Promise<ApiResponse & { requestId: string }>;
  /** The node:http handler. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  readonly routes: readonly Route[];
  /** Ends streaming answers (log follows); requests in flight finish. */
  close(): void;
}

async function collect(source: Uint8Array | string | AsyncIterable<Uint8Array> | undefined, limit: number): Promise<Uint8Array> {
  if (source === undefined) return new Uint8Array(0);
  if (typeof source === 'string') source = new TextEncoder().encode(source);
  if (source instanceof Uint8Array) {
    if (source.length > limit) throw tooLarge(limit);
    return source;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of source) {
    size += c.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(c);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Writes the body to `file` as it arrives (never more than one chunk in memory); removes the
 * file and throws NV_API_BODY_TOO_LARGE once more than `limit` bytes came. Returns the size.
 */
async function save(source: Uint8Array | string | AsyncIterable<Uint8Array> | undefined, limit: number, file: string): Promise<number> {
  const out = await open(file, 'wx', 0o600);
  let size = 0;
  try {
    if (source === undefined || typeof source === 'string' || source instanceof Uint8Array) {
      const bytes = await collect(source, limit);
      size = bytes.length;
      await out.writeFile(bytes);
    } else {
      for await (const c of source) {
        size += c.length;
        if (size > limit) throw tooLarge(limit);
        await out.write(c);
      }
    }
  } catch (e) {
    await out.close().catch(() => {});
    await rm(file, { force: true });
    throw e;
  }
  await out.close();
  return size;
}

function tooLarge(limit: number): NanovisorError {
  return new NanovisorError('NV_API_BODY_TOO_LARGE', `the request body is larger than ${limit} bytes`);
}

/**
 * Creates the API over a control plane.
 *
 * @example
 * const api = createApi({ control });
 * createServer(api.handle).listen(7070);
 * await api.request({ method: 'GET', url: '/healthz' }); // { status: 200, body: '{"status":"ok",...}' }
 */
export function createApi(options: ApiOptions): Api {
  const compiled = ROUTES.map(compile);
  const closing = new AbortController();
  const ctx: ApiContext = {
    control: options.control,
    maxJsonBytes: options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES,
    maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    closing: closing.signal,
  };
  const prefix = randomBytes(4).toString('hex');
  let n = 0;
  const log = options.log ?? (() => {});
  const throttle = options.authThrottle ?? new AuthThrottle();
  const serverPaths = options.control.serverPaths();

  async function dispatch(req: ApiRequest): Promise<ApiResponse> {
    const allowed: string[] = [];
    for (const c of compiled) {
      const m = c.pattern.exec(req.path);
      if (m === null) continue;
      if (c.route.method !== req.method) {
        allowed.push(c.route.method);
        continue;
      }
      if (c.route.auth) {
        const auth = req.headers['authorization'];
        const value = Array.isArray(auth) ? auth[0] : auth;
        if (value === undefined && c.route.session !== false && options.sessionAuth?.(req) === true) {
          // A dashboard session (cookie + CSRF token) stands in for the bearer token.
        } else if (value === undefined) throw new NanovisorError('NV_API_UNAUTHORIZED', 'this endpoint needs a token: send "Authorization: Bearer <token>" (the token is in <data>/token)');
        else {
          throttle.check(req.remoteAddress);
          if (!options.control.authenticate(value)) {
            throttle.failed(req.remoteAddress);
            throw new NanovisorError('NV_API_UNAUTHORIZED', 'the token is wrong or was rotated; use the one in <data>/token');
          }
          throttle.succeeded(req.remoteAddress);
        }
      }
      const params: Record<string, string> = {};
      try {
        c.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
      } catch {
        throw new NanovisorError('NV_API_BAD_REQUEST', `path: bad percent-encoding in ${req.path}`);
      }
      req.params = params;
      return c.route.handler(req, ctx);
    }
    if (allowed.length > 0) {
      throw new NanovisorError('NV_API_METHOD_NOT_ALLOWED', `${req.path} does not take ${req.method} (it takes ${[...new Set(allowed)].join(', ')})`, {
        details: { allow: [...new Set(allowed)] },
      });
    }
    throw new NanovisorError('NV_API_NOT_FOUND', `no endpoint ${req.method} ${req.path}; GET /openapi.json lists them`);
  }

  async function request(input: ApiInput & { requestId?: string }): Promise<ApiResponse & { requestId: string }> {
    const started = performance.now();
    const requestId = input.requestId ?? `api-${prefix}-${(n++).toString(36)}`;
    const url = new URL(input.url, 'http://api');
    const headers: Record<string, HeaderValue> = {};
    for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = v;
    const signal = input.signal === undefined ? closing.signal : AbortSignal.any([input.signal, closing.signal]);
    let read = false;
    const req: ApiRequest = {
      method: input.method.toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers,
      params: {},
      requestId,
      ...(input.remoteAddress === undefined ? {} : { remoteAddress: input.remoteAddress }),
      signal,
      body: (limit) => {
        if (read) throw new Error('the body was read already');
        read = true;
        // A declared length over the limit is refused before one byte of the body is read
        // (413; the connection is closed, so the unread body is never parsed as a request).
        const declared = headers['content-length'];
        const length = Number(Array.isArray(declared) ? declared[0] : declared);
        if (Number.isFinite(length) && length > limit) return Promise.reject(new NanovisorError('NV_API_BODY_TOO_LARGE', `the request body (${length} bytes, from Content-Length) is larger than ${limit} bytes`));
        return collect(input.body, limit);
      },
      saveBody: (limit, file) => {
        if (read) throw new Error('the body was read already');
        read = true;
        const declared = headers['content-length'];
        const length = Number(Array.isArray(declared) ? declared[0] : declared);
        if (Number.isFinite(length) && length > limit) return Promise.reject(new NanovisorError('NV_API_BODY_TOO_LARGE', `the request body (${length} bytes, from Content-Length) is larger than ${limit} bytes`));
        return save(input.body, limit, file);
      },
    };
    let res: ApiResponse;
    try {
      res = await dispatch(req);
    } catch (e) {
      res = errorResponse(e, requestId, serverPaths);
      if (res.status === 405) res.headers!['allow'] = ((e as NanovisorError).details['allow'] as string[]).join(', ');
      if (res.status >= 500) log('error', 'API request failed', { requestId, method: req.method, path: req.path, error: (e as Error)?.stack ?? String(e) });
      else if (isNanovisorError(e) && publicMessage(e.message, serverPaths, false) !== e.message) {
        // The answer left server paths out; the operator sees the whole message.
        log('info', 'API request refused', { requestId, method: req.method, path: req.path, code: e.code, error: e.message });
      }
    }
    res.headers = { ...res.headers, 'x-request-id': requestId };
    const fields: Record<string, unknown> = { requestId, method: req.method, path: req.path, status: res.status, durationMs: Math.round((performance.now() - started) * 1000) / 1000 };
    log('info', 'api request', fields);
    return { ...res, requestId };
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const aborted = new AbortController();
    res.on('close', () => aborted.abort());
    const declared = Number(req.headers['content-length']);
    const body: AsyncIterable<Uint8Array> = req;
    void request({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body, signal: aborted.signal, ...(req.socket.remoteAddress === undefined ? {} : { remoteAddress: req.socket.remoteAddress }) }).then(async (answer) => {
      const headers = { ...answer.headers };
      const b = answer.body;
      if (b === undefined || typeof b === 'string' || b instanceof Uint8Array) {
        const bytes = b === undefined ? new Uint8Array(0) : typeof b === 'string' ? Buffer.from(b) : b;
        if (answer.status !== 204) headers['content-length'] = String(bytes.length);
        // A body we refused unread (too large) would be parsed as the next request: close.
        if (answer.status === 413 || (!req.complete && Number.isFinite(declared) && declared > 0)) headers['connection'] = 'close';
        res.writeHead(answer.status, headers);
        res.end(answer.status === 204 ? undefined : bytes);
        return;
      }
      res.writeHead(answer.status, headers);
      res.flushHeaders();
      const it = b[Symbol.asyncIterator]();
      try {
        for (;;) {
          const { value, done } = await it.next();
          if (done === true) break;
          if (!res.write(value)) await new Promise<void>((r) => { res.once('drain', r); res.once('close', r); });
          if (res.destroyed) break;
        }
      } finally {
        await it.return?.();
        res.end();
      }
    }).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"NV_HOST_FAULT","message":"internal error"}}\n');
      } else res.destroy();
    });
  }

  return {
    request,
    handle,
    routes: ROUTES,
    close() {
      closing.abort();
    },
  };
}
