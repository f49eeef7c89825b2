/**
 * The dashboard's server side, under `/ui/` on the API listener: the built page (dist/ui,
 * nothing fetched at run time), login with the API token into a session cookie, the
 * session's CSRF token, the overview (apps, shards, the in-memory traffic series), a live
 * request log over server-sent events, and token rotation. Everything the page changes goes
 * through the JSON API (`/v1`), which takes the session cookie in place of the bearer token
 * only with the session's CSRF token and from the same origin (`sessionAuth`).
 *
 * Every answer carries a strict Content-Security-Policy (no inline script or style, nothing
 * from other origins, no framing). The token reaches the daemon only in the body of
 * `POST /ui/api/login` and is never written back, logged, or put in a URL.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { AuthThrottle, type ApiRequest } from '../api/index.ts';
import type { ControlPlane, LogEntry, Logger } from '../control/index.ts';
import type { SeriesPoint, TrafficSeries } from '../observability/series.ts';
import { ERROR_CODES, NanovisorError } from '../shared/errors.ts';
import { SESSION_COOKIE, Sessions, clearedCookie, csrfMatches, readCookie, sessionCookie, type Session } from './sessions.ts';

/** The policy of every /ui answer: the page's own script, style and data only. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Pages of the single-page app; each is answered with index.html (the script routes). */
const PAGES = /^\/ui\/(?:|images|token|volumes|(?:apps|volumes)\/[a-z0-9][a-z0-9-]{0,62})$/;
const ASSET = /^\/ui\/assets\/([A-Za-z0-9._-]+)$/;
const APP_API = /^\/ui\/api\/apps\/([a-z0-9][a-z0-9-]{0,62})\/(series|logs)$/;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
};

/** Log entries sent before following: the last ones of the app. */
const LOG_BACKLOG = 100;
/** An SSE comment this often keeps proxies and the browser from timing the stream out. */
const SSE_HEARTBEAT_MS = 15_000;

/** One host shard as the overview shows it. */
export interface ShardRow {
  shard: number;
  state: string;
  pid: number | null;
  restarts: number;
  liveVms: number;
  rssBytes: number | null;
  /** Since the shard's process (re)started; null while it is not up. */
  uptimeMs: number | null;
}

/** What the overview reads from the daemon besides the control plane. */
export interface DashboardSources {
  series: TrafficSeries;
  shards: () => Promise<ShardRow[]>;
  queueDepth: () => Record<string, number>;
  liveVmsByApp: () => Record<string, number>;
}

export interface DashboardOptions extends DashboardSources {
  control: ControlPlane;
  /** Where the built page is: index.html and assets/. Default: the package's dist/ui. */
  assetsDir?: string;
  log?: Logger;
  sessions?: Sessions;
  /** Wrong tokens per client address, shared with the API's bearer check. Default: a new one. */
  authThrottle?: AuthThrottle;
}

export interface Dashboard {
  /** Answers a request under /ui (true), or leaves it to the API (false). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** For `createApi({ sessionAuth })`: a session cookie (with its CSRF token on changes) in place of the bearer token. */
  sessionAuth(req: ApiRequest): boolean;
  readonly sessions: Sessions;
  /** Ends the live log streams. */
  close(): void;
}

export const DEFAULT_ASSETS_DIR = new URL('../../dist/ui/', import.meta.url);

function header(headers: IncomingMessage['headers'] | ApiRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Refuses a change that another site made the browser send: `Sec-Fetch-Site` (when the
 * browser sends it) must be same-origin, and `Origin` (when present) must be this host —
 * the `Host` header, or the `X-Forwarded-Host` a reverse proxy in front sets (a page of
 * another site cannot make the browser send that header without a CORS preflight, which
 * the daemon never grants).
 */
function checkSameOrigin(headers: IncomingMessage['headers'] | ApiRequest['headers']): void {
  const site = header(headers, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new NanovisorError('NV_UI_CSRF', `refused: the request came from another site (Sec-Fetch-Site: ${site})`);
  }
  const origin = header(headers, 'origin');
  if (origin === undefined) return;
  const hosts = [header(headers, 'host'), header(headers, 'x-forwarded-host')?.split(',')[0]!.trim()].filter((h) => h !== undefined && h !== '');
  if (!hosts.some((h) => origin === `http://${h}` || origin === `https://${h}`)) {
    throw new NanovisorError('NV_UI_CSRF', 'refused: the request came from another origin');
  }
}

/**
 * True when the browser reached the page over https: the connection is TLS (an embedder's
 * https server), or a reverse proxy that ends TLS says so in `X-Forwarded-Proto`. The
 * cookie is then `Secure`. (A client that claims https over plain http only gets a cookie
 * its browser will not send back over http.)
 */
function overHttps(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  return header(req.headers, 'x-forwarded-proto')?.split(',')[0]!.trim().toLowerCase() === 'https';
}

function isChange(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

function errorBody(e: NanovisorError): string {
  return `${JSON.stringify({ error: { code: e.code, message: e.message } })}\n`;
}

function statusOf(e: NanovisorError): number {
  switch (e.code) {
    case 'NV_API_UNAUTHORIZED': return 401;
    case 'NV_UI_CSRF': return 403;
    case 'NV_API_THROTTLED': return 429;
    case 'NV_API_NOT_FOUND': case 'NV_APP_NOT_FOUND': return 404;
    case 'NV_API_METHOD_NOT_ALLOWED': return 405;
    case 'NV_API_MEDIA_TYPE': return 415;
    case 'NV_API_BODY_TOO_LARGE': return 413;
    case 'NV_UI_NOT_BUILT': return 503;
    default: return ERROR_CODES[e.code].class === 'user' ? 400 : 500;
  }
}

async function readSmallBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new NanovisorError('NV_API_BODY_TOO_LARGE', `the request body is larger than ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function round(v: number | null, digits = 3): number | null {
  return v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits;
}

/**
 * Creates the dashboard over a running daemon's parts.
 *
 * @example
 * const ui = createDashboard({ control, series, shards, queueDepth, liveVmsByApp });
 * const api = createApi({ control, sessionAuth: ui.sessionAuth });
 * createServer((req, res) => ui.handle(req, res) || api.handle(req, res));
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const { control, series } = options;
  const log = options.log ?? (() => {});
  const sessions = options.sessions ?? new Sessions({ epoch: () => control.tokenEpoch() });
  const throttle = options.authThrottle ?? new AuthThrottle();
  const assetsDir = options.assetsDir ?? DEFAULT_ASSETS_DIR.pathname;
  const closing = new AbortController();
  let assets: Map<string, { type: string; body: Buffer }> | undefined;

  /** The built files, read once (they are small); undefined when not built. */
  function built(): Map<string, { type: string; body: Buffer }> | undefined {
    if (assets !== undefined) return assets;
    if (!existsSync(join(assetsDir, 'index.html'))) return undefined;
    const m = new Map<string, { type: string; body: Buffer }>();
    m.set('index.html', { type: TYPES['.html']!, body: readFileSync(join(assetsDir, 'index.html')) });
    const dir = join(assetsDir, 'assets');
    if (existsSync(dir)) {
      for (const f of readdirSync(dir)) {
        const ext = f.slice(f.lastIndexOf('.'));
        const type = TYPES[ext];
        if (type !== undefined) m.set(`assets/${f}`, { type, body: readFileSync(join(dir, f)) });
      }
    }
    assets = m;
    return m;
  }

  function sessionOf(headers: IncomingMessage['headers'] | ApiRequest['headers']): { id: string; session: Session } | undefined {
    const id = readCookie(headers['cookie'], SESSION_COOKIE);
    const session = sessions.get(id);
    return session === undefined || id === undefined ? undefined : { id, session };
  }

  /** A session, and for a change its CSRF token and same origin; throws otherwise. */
  function requireSession(method: string, headers: IncomingMessage['headers'] | ApiRequest['headers']): { id: string; session: Session } {
    const s = sessionOf(headers);
    if (s === undefined) throw new NanovisorError('NV_API_UNAUTHORIZED', 'no dashboard session (or it ended: logged out, expired, or the token was rotated); log in at /ui/login');
    if (isChange(method)) {
      checkSameOrigin(headers);
      if (!csrfMatches(s.session, header(headers, 'x-csrf-token'))) {
        throw new NanovisorError('NV_UI_CSRF', 'refused: a change made with a dashboard session needs its X-CSRF-Token');
      }
    }
    return s;
  }

  function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...SECURITY_HEADERS, 'cache-control': 'no-store', 'content-type': type, 'content-length': String(bytes.length), ...extra });
    res.end(bytes);
  }

  function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
    send(res, status, `${JSON.stringify(value)}\n`, 'application/json; charset=utf-8', extra);
  }

  async function overview(): Promise<unknown> {
    const apps = control.execute({ kind: 'ListApps' });
    const live = options.liveVmsByApp();
    const queue = options.queueDepth();
    const shards = await options.shards();
    const total = series.summary();
    return {
      intervalMs: series.intervalMs,
      capacity: series.capacity,
      totals: { ...roundSummary(total), liveVms: Object.values(live).reduce((a, b) => a + b, 0), queueDepth: Object.values(queue).reduce((a, b) => a + b, 0), bootsPerSec: bootsPerSec(series.points()) },
      apps: apps.map((a) => ({
        name: a.name,
        currentVersion: a.currentVersion,
        routes: a.routes,
        ...roundSummary(series.summary(a.name)),
        liveVms: live[a.name] ?? 0,
        queueDepth: queue[a.name] ?? 0,
      })),
      shards,
      series: series.points(),
    };
  }

  function bootsPerSec(points: SeriesPoint[]): number {
    const last = points.slice(-7);
    const boots = last.reduce((n, p) => n + p.boots, 0);
    const seconds = Math.max(1, (Date.now() - (last[0]?.t ?? Date.now())) / 1000);
    return round(boots / seconds)!;
  }

  function roundSummary(s: ReturnType<TrafficSeries['summary']>): Record<string, number | null> {
    return { requestsPerSec: round(s.requestsPerSec), errorRate: round(s.errorRate, 4), p50Ms: round(s.p50Ms), p99Ms: round(s.p99Ms) };
  }

  /** The app's recent requests, then each new one, as server-sent events (id = log seq). */
  function streamLogs(req: IncomingMessage, res: ServerResponse, app: string): void {
    const lastId = Number(header(req.headers, 'last-event-id'));
    const backlog = control.execute({ kind: 'GetLogs', app, ...(Number.isInteger(lastId) && lastId >= 0 ? { since: lastId } : {}) }).slice(-LOG_BACKLOG);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    let last = 0;
    const write = (e: LogEntry): void => {
      if (e.seq <= last) return;
      last = e.seq;
      res.write(`id: ${e.seq}\nevent: request\ndata: ${JSON.stringify(e)}\n\n`);
    };
    // The backlog was read in this turn and the subscription starts in it: nothing falls between.
    const stop = control.subscribeLogs(app, write);
    res.write(': nanovisor log stream\nretry: 2000\n\n');
    for (const e of backlog) write(e);
    res.write('event: ready\ndata: {}\n\n');
    const beat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    beat.unref();
    const end = (): void => {
      clearInterval(beat);
      stop();
      closing.signal.removeEventListener('abort', end);
      res.end();
    };
    res.on('close', end);
    closing.signal.addEventListener('abort', end);
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/ui') {
      res.writeHead(308, { ...SECURITY_HEADERS, location: '/ui/', 'content-length': '0' });
      res.end();
      return;
    }
    const asset = ASSET.exec(path);
    if (asset !== null || PAGES.test(path) || path === '/ui/login') {
      if (method !== 'GET' && method !== 'HEAD') throw new NanovisorError('NV_API_METHOD_NOT_ALLOWED', `${path} takes GET only`);
      const files = built();
      if (files === undefined) throw new NanovisorError('NV_UI_NOT_BUILT', 'the dashboard is not built (no dist/ui/index.html): run npm run build');
      if (asset !== null) {
        const f = files.get(`assets/${asset[1]}`);
        if (f === undefined) throw new NanovisorError('NV_API_NOT_FOUND', `no dashboard asset ${asset[1]}`);
        send(res, 200, f.body, f.type, { 'cache-control': 'no-cache' });
        return;
      }
      if (path !== '/ui/login' && sessionOf(req.headers) === undefined) {
        res.writeHead(303, { ...SECURITY_HEADERS, location: '/ui/login', 'cache-control': 'no-store', 'content-length': '0' });
        res.end();
        return;
      }
      const index = files.get('index.html')!;
      send(res, 200, index.body, index.type);
      return;
    }
    if (path === '/ui/api/login') {
      if (method !== 'POST') throw new NanovisorError('NV_API_METHOD_NOT_ALLOWED', `${path} takes POST only`);
      // No session yet, so no CSRF token: the same-origin check and the JSON body (which a
      // cross-site form cannot send without a preflight) keep other sites from logging a
      // browser in to a session of their choosing.
      checkSameOrigin(req.headers);
      const type = (header(req.headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') throw new NanovisorError('NV_API_MEDIA_TYPE', 'send the login as application/json: {"token": "..."}');
      let token: unknown;
      try {
        token = (JSON.parse(await readSmallBody(req, 4096)) as { token?: unknown }).token;
      } catch (e) {
        if (e instanceof NanovisorError) throw e;
        throw new NanovisorError('NV_API_BAD_REQUEST', 'body: not valid JSON');
      }
      const address = req.socket.remoteAddress;
      // Before the token is compared: a throttled guess learns nothing.
      throttle.check(address);
      if (typeof token !== 'string' || !control.authenticate(`Bearer ${token}`)) {
        throttle.failed(address);
        log('warn', 'dashboard login refused', {});
        throw new NanovisorError('NV_API_UNAUTHORIZED', 'the token is wrong or was rotated; it is in <data>/token (`nanovisor token` prints it)');
      }
      throttle.succeeded(address);
      const { id, session } = sessions.create();
      log('info', 'dashboard login', { sessions: sessions.size });
      sendJson(res, 200, { csrf: session.csrf, expires: new Date(session.expires).toISOString() }, { 'set-cookie': sessionCookie(id, sessions.lifetimeMs, overHttps(req)) });
      return;
    }
    if (path === '/ui/api/logout') {
      if (method !== 'POST') throw new NanovisorError('NV_API_METHOD_NOT_ALLOWED', `${path} takes POST only`);
      const s = requireSession(method, req.headers);
      sessions.delete(s.id);
      res.writeHead(204, { ...SECURITY_HEADERS, 'set-cookie': clearedCookie(overHttps(req)) });
      res.end();
      return;
    }
    if (path === '/ui/api/session') {
      if (method !== 'GET') throw new NanovisorError('NV_API_METHOD_NOT_ALLOWED', `${path} takes GET only`);
      const { session } = requireSession(method, req.headers);
      sendJson(res, 200, { csrf: session.csrf, expires: new Date(session.expires).toISOString() });
      return;
    }
    if (path === '/ui/api/overview') {
      if (method !== 'GET') throw new NanovisorError('NV_API_METHOD_NOT_ALLOWED', `${path} takes GET only`);
      requireSession(method, req.headers);
      sendJson(res, 200, await overview());
      return;
    }
    if (path === '/ui/api/token/rotate') {
      if (method !== 'POST') throw new NanovisorError('NV_API_METHOD_NOT_ALLOWED', `${path} takes POST only`);
      requireSession(method, req.headers);
      // The new token goes to <data>/token only: never into a page.
      control.execute({ kind: 'RotateToken' });
      log('info', 'dashboard rotated the token: every session ended', {});
      sendJson(res, 200, { rotated: true, tokenFile: '<data>/token' }, { 'set-cookie': clearedCookie(overHttps(req)) });
      return;
    }
    const m = APP_API.exec(path);
    if (m !== null) {
      if (method !== 'GET') throw new NanovisorError('NV_API_METHOD_NOT_ALLOWED', `${path} takes GET only`);
      requireSession(method, req.headers);
      const app = m[1]!;
      control.execute({ kind: 'GetApp', name: app }); // NV_APP_NOT_FOUND
      if (m[2] === 'series') sendJson(res, 200, { intervalMs: series.intervalMs, capacity: series.capacity, points: series.points(app) });
      else streamLogs(req, res, app);
      return;
    }
    throw new NanovisorError('NV_API_NOT_FOUND', `no dashboard page or endpoint ${path}`);
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== '/ui' && !path.startsWith('/ui/')) return false;
    const started = performance.now();
    res.on('finish', () => log('info', 'ui request', { method: req.method, path, status: res.statusCode, durationMs: Math.round((performance.now() - started) * 1000) / 1000 }));
    route(req, res, path).catch((e: unknown) => {
      const err = e instanceof NanovisorError ? e : new NanovisorError('NV_HOST_FAULT', 'internal error', { cause: e });
      if (!(e instanceof NanovisorError)) log('error', 'ui request failed', { path, error: (e as Error)?.stack ?? String(e) });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = statusOf(err);
      const extra: Record<string, string> = status === 401 ? { 'set-cookie': clearedCookie(overHttps(req)) } : {};
      if (status === 429) extra['retry-after'] = String(err.details['retryAfterSeconds']);
      // A refused body may still be on the wire: do not read it as the next request.
      if (!req.complete) extra['connection'] = 'close';
      sendJson(res, status, JSON.parse(errorBody(err)), extra);
    });
    return true;
  }

  return {
    handle,
    sessions,
    sessionAuth(req) {
      if (readCookie(req.headers['cookie'], SESSION_COOKIE) === undefined) return false;
      return requireSession(req.method, req.headers) !== undefined;
    },
    close() {
      closing.abort();
    },
  };
}
