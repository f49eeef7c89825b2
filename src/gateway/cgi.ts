/**
 * CGI 1.1 (RFC 3875) the way WAGI speaks it to WebAssembly guests: an HTTP request becomes
 * the guest's environment (plus its body on stdin), and the guest's stdout becomes the HTTP
 * response (CGI header lines, a blank line, the body). Pure functions: no sockets, no VMs,
 * so every rule here is unit-tested in isolation (cgi.test.ts) and shared by the gateway and
 * the benchmark peers.
 */
import { NanovisorError } from '../shared/errors.ts';

export const GATEWAY_INTERFACE = 'CGI/1.1';
export const SERVER_SOFTWARE = 'nanovisor';

/** What the gateway knows about one request when it hands it to a guest. */
export interface CgiRequest {
  /** HTTP method as received (`GET`, `POST`, ...). */
  method: string;
  /** Request target as received: path and query, e.g. `/api/items?id=3` (node's `req.url`). */
  url: string;
  /** Request headers, names in lower case (node's `req.headers`); arrays are joined with `, `. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Client IP address (the socket's peer). */
  remoteAddress: string;
  /** Used when the request has no usable `Host` header. */
  serverName: string;
  /** The port the request arrived on; used when `Host` carries none. */
  serverPort: number;
  /** Protocol string, e.g. `HTTP/1.1`. */
  protocol: string;
  /** `http` or `https`, for `X_FULL_URL`. Default `http`. */
  scheme?: 'http' | 'https';
  /** The route that matched, as configured (e.g. `/api`, `/`). */
  route: string;
  /** Length of the body that will be on stdin, in bytes. */
  contentLength: number;
  /** SERVER_SOFTWARE. Default `nanovisor`. */
  serverSoftware?: string;
}

/**
 * Request headers that never become `HTTP_*` variables: hop-by-hop headers belong to the
 * connection, not to the app; `Content-Type`/`Content-Length` are `CONTENT_TYPE` /
 * `CONTENT_LENGTH` already (RFC 3875 4.1.18); `Proxy` would become `HTTP_PROXY`, which
 * many HTTP client libraries read as their outgoing proxy (httpoxy, CVE-2016-5385);
 * `Proxy-Authorization` is meant for a proxy on the way, not for the app.
 */
const SKIPPED_REQUEST_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-type', 'content-length', 'proxy', 'proxy-authorization',
]);

/** `HTTP_` + this must be a portable environment name: letters, digits, `_`. */
const HEADER_NAME_FOR_ENV = /^[A-Za-z0-9-]+$/;

/** Splits `host[:port]` (IPv6 in brackets); undefined when it is not a plausible authority. */
export function parseHostHeader(value: string): { name: string; port?: number } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (m === null) return undefined;
  const name = m[1]!.toLowerCase();
  if (m[2] === undefined) return { name };
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { name, port };
}

/** Splits a request target into its raw path and raw query (without `?`). */
export function splitTarget(url: string): { path: string; query: string } {
  const hash = url.indexOf('#');
  const target = hash === -1 ? url : url.slice(0, hash);
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/** `SCRIPT_NAME` for a route: the prefix without its trailing `/` (`/` becomes empty). */
export function scriptName(route: string): string {
  return route.endsWith('/') ? route.slice(0, -1) : route;
}

/**
 * True when `path` lies under the route prefix: `/api` matches `/api`, `/api/` and
 * `/api/x`, never `/apix`; `/` matches every path.
 */
export function routeMatches(route: string, path: string): boolean {
  const prefix = scriptName(route);
  if (prefix === '') return path.startsWith('/') || path === '';
  return path === prefix || path.startsWith(`${prefix}/`);
}

function headerValue(v: string | readonly string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(', ');
}

/**
 * Builds the guest's CGI environment for a request. Built-in variables are set last, so an
 * app's own `base` env can never shadow them. Throws `NV_CGI_REQUEST_INVALID` (the gateway
 * answers 400) when the path does not lie under the route or does not percent-decode.
 *
 * @example
 * const env = cgiEnv({ method: 'GET', url: '/api/a%20b?x=1', headers: { host: 'example.com' },
 *   remoteAddress: '127.0.0.1', serverName: 'localhost', serverPort: 8080, protocol: 'HTTP/1.1',
 *   route: '/api', contentLength: 0 });
 * // env.SCRIPT_NAME === '/api', env.PATH_INFO === '/a b', env.X_RAW_PATH_INFO === '/a%20b'
 */
export function cgiEnv(req: CgiRequest, base: Readonly<Record<string, string>> = {}): Record<string, string> {
  const { path, query } = splitTarget(req.url);
  if (!routeMatches(req.route, path)) {
    throw new NanovisorError('NV_CGI_REQUEST_INVALID', `request path "${path}" does not lie under route "${req.route}"`);
  }
  const script = scriptName(req.route);
  const rawPathInfo = path.slice(script.length);
  let pathInfo: string;
  try {
    pathInfo = decodeURIComponent(rawPathInfo);
  } catch {
    throw new NanovisorError('NV_CGI_REQUEST_INVALID', `request path "${path}" has a malformed percent-encoding`);
  }
  if (pathInfo.includes('\0')) {
    throw new NanovisorError('NV_CGI_REQUEST_INVALID', 'request path decodes to a NUL byte, which no environment variable can hold');
  }
  const host = parseHostHeader(headerValue(req.headers['host']) ?? '');
  const serverName = host?.name ?? req.serverName;
  const serverPort = host?.port ?? req.serverPort;
  const scheme = req.scheme ?? 'http';

  const env: Record<string, string> = { ...base };
  for (const [name, value] of Object.entries(req.headers)) {
    const lower = name.toLowerCase();
    if (SKIPPED_REQUEST_HEADERS.has(lower)) continue;
    // Names with `_` are dropped (as Apache 2.4 and nginx do): otherwise a client could send
    // `X_Forwarded_For` and pose as the `X-Forwarded-For` a trusted proxy sets.
    if (!HEADER_NAME_FOR_ENV.test(name)) continue;
    const v = headerValue(value);
    if (v === undefined || v.includes('\0')) continue;
    env[`HTTP_${lower.toUpperCase().replaceAll('-', '_')}`] = v;
  }
  Object.assign(env, {
    AUTH_TYPE: '',
    CONTENT_LENGTH: String(req.contentLength),
    CONTENT_TYPE: headerValue(req.headers['content-type']) ?? '',
    GATEWAY_INTERFACE,
    PATH_INFO: pathInfo,
    PATH_TRANSLATED: pathInfo,
    QUERY_STRING: query,
    REMOTE_ADDR: req.remoteAddress,
    REMOTE_HOST: req.remoteAddress,
    REMOTE_USER: '',
    REQUEST_METHOD: req.method,
    SCRIPT_NAME: script,
    SERVER_NAME: serverName,
    SERVER_PORT: String(serverPort),
    SERVER_PROTOCOL: req.protocol,
    SERVER_SOFTWARE: req.serverSoftware ?? SERVER_SOFTWARE,
    X_MATCHED_ROUTE: req.route,
    X_RAW_PATH_INFO: rawPathInfo,
    X_FULL_URL: `${scheme}://${serverName.includes(':') && !serverName.startsWith('[') ? `[${serverName}]` : serverName}:${serverPort}${path}${query === '' ? '' : `?${query}`}`,
  });
  return env;
}

/** The HTTP response a guest asked for. */
export interface CgiResponse {
  status: number;
  /** Reason phrase from `Status:`, when the guest gave one. */
  statusText?: string;
  /** Header fields in the guest's order, names as the guest spelled them (minus `Status`). */
  headers: [name: string, value: string][];
  body: Uint8Array;
}

export interface ParseOptions {
  /** Largest header section accepted, in bytes. Default 64 KiB. */
  maxHeaderBytes?: number;
}

/**
 * Response headers a guest may not send: they describe the connection between the gateway
 * and the client, which the gateway alone frames (RFC 9110 7.6.1).
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** RFC 9110 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field value: visible ASCII, obs-text, space and tab inside (no CR, LF, NUL or other controls). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;

function bad(message: string): never {
  throw new NanovisorError('NV_CGI_RESPONSE_INVALID', message);
}

/** Offset of the end of the header section and of the start of the body, or undefined. */
function findHeaderEnd(out: Uint8Array, limit: number): { end: number; bodyStart: number } | undefined {
  const n = Math.min(out.length, limit + 4);
  if (n > 0 && out[0] === 0x0a) return { end: 0, bodyStart: 1 };
  if (n > 1 && out[0] === 0x0d && out[1] === 0x0a) return { end: 0, bodyStart: 2 };
  for (let i = 0; i < n; i++) {
    if (out[i] !== 0x0a) continue;
    // A line ended at i; the next line is empty if it is `\n` or `\r\n`.
    if (out[i + 1] === 0x0a) return { end: i, bodyStart: i + 2 };
    if (out[i + 1] === 0x0d && out[i + 2] === 0x0a) return { end: i, bodyStart: i + 3 };
  }
  return undefined;
}

/**
 * Parses a guest's stdout as a CGI response: header lines up to a blank line (`\n` or
 * `\r\n` line ends), then the body. `Status: 404 Not Found` sets the status; `Location`
 * without `Status` means 302; otherwise 200. Throws `NV_CGI_RESPONSE_INVALID` (the gateway
 * answers 502) for output without a blank line, a malformed header line, a bad status, a
 * hop-by-hop header, or a `Content-Length` that does not match the body.
 *
 * @example
 * const r = parseCgiResponse(new TextEncoder().encode('Status: 404 Not Found\nContent-Type: text/plain\n\nnope'));
 * // r.status === 404, r.statusText === 'Not Found', r.headers == [['Content-Type', 'text/plain']]
 */
export function parseCgiResponse(stdout: Uint8Array, options: ParseOptions = {}): CgiResponse {
  const limit = options.maxHeaderBytes ?? 64 * 1024;
  const found = findHeaderEnd(stdout, limit);
  if (found === undefined) {
    bad(stdout.length > limit
      ? `guest output has no blank line ending the CGI headers within ${limit} bytes`
      : 'guest output has no blank line ending the CGI headers (print "Content-Type: ...", then an empty line, then the body)');
  }
  if (found.end > limit) bad(`guest CGI headers are longer than ${limit} bytes`);
  const head = Buffer.from(stdout.buffer, stdout.byteOffset, found.end).toString('latin1');
  const body = stdout.subarray(found.bodyStart);

  let status: number | undefined;
  let statusText: string | undefined;
  let location = false;
  let contentLength: string | undefined;
  const headers: [string, string][] = [];
  const lines = head === '' ? [] : head.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const colon = line.indexOf(':');
    if (colon <= 0) bad(`guest CGI header line ${i + 1} is not "Name: value": ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) bad(`guest CGI header line ${i + 1} has an invalid field name ${JSON.stringify(name.slice(0, 80))}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(value)) bad(`guest CGI header "${name}" has control characters in its value`);
    const lower = name.toLowerCase();
    if (lower === 'status') {
      if (status !== undefined) bad('guest sent "Status" twice');
      const m = /^(\d{3})(?:[ \t]+(.*))?$/.exec(value);
      if (m === null) bad(`guest sent a malformed Status ${JSON.stringify(value.slice(0, 80))}; expected e.g. "Status: 404 Not Found"`);
      status = Number(m[1]);
      if (status < 200 || status > 599) bad(`guest sent Status ${status}; only 200..599 are final responses`);
      if (m[2] !== undefined && m[2] !== '') {
        if (!REASON.test(m[2])) bad('guest sent a Status reason phrase with control characters');
        statusText = m[2];
      }
      continue;
    }
    if (HOP_BY_HOP.has(lower)) bad(`guest sent the hop-by-hop header "${name}"; the gateway frames the connection itself`);
    if (lower === 'location') {
      if (value === '') bad('guest sent an empty Location');
      location = true;
    }
    if (lower === 'content-length') {
      if (contentLength !== undefined && contentLength !== value) bad('guest sent two different Content-Length values');
      contentLength = value;
      continue;
    }
    headers.push([name, value]);
  }
  if (contentLength !== undefined && (!/^\d+$/.test(contentLength) || Number(contentLength) !== body.length)) {
    bad(`guest sent Content-Length ${JSON.stringify(contentLength)} but its body has ${body.length} bytes`);
  }
  const finalStatus = status ?? (location ? 302 : 200);
  if ((finalStatus === 204 || finalStatus === 304) && body.length > 0) {
    bad(`guest sent a body with status ${finalStatus}, which has none`);
  }
  return { status: finalStatus, ...(statusText === undefined ? {} : { statusText }), headers, body };
}
