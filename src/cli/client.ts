/**
 * The CLI's typed client of the nanovisor REST API (`nanovisor serve`), over node:http.
 * Where it talks to: `--server URL`, else `$NANOVISOR_SERVER`, else http://127.0.0.1:7070.
 * Its token: `--token`, else `$NANOVISOR_TOKEN`, else the token file `<data>/token` (data is
 * `$NANOVISOR_HOME` or `~/.nanovisor`). API errors come back as NanovisorErrors carrying the
 * server's code and request id; a server that cannot be reached is NV_API_UNREACHABLE.
 * The token goes only into the Authorization header: never into URLs, errors or output.
 */
import type { Route } from '../shared/routes.ts';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AppLimits, AppView, DeletedVolume, LogEntry, SnapshotView, VersionView, VolumeView } from '../control/index.ts';
import type { AccessMode, VolumeMount } from '../shared/volumes.ts';
import { readTokenFile } from '../control/index.ts';
import type { ImageSummary } from '../image/index.ts';
import { ERROR_CODES, NanovisorError, type ErrorCode } from '../shared/errors.ts';
import { flagString, type FlagSpec, type ParsedFlags } from './flags.ts';

export type { AppView, DeletedVolume, LogEntry, VersionView, VolumeView };

export const DEFAULT_SERVER = 'http://127.0.0.1:7070';
/** Port of the gateway when nothing else says where it is (serve's default --listen). */
export const DEFAULT_GATEWAY_PORT = 8080;
/** How long a non-streaming request may stay silent before it is given up. */
const IDLE_TIMEOUT_MS = 120_000;
const UPLOAD_CHUNK = 64 * 1024;

/** The flags every command that talks to the daemon takes. */
export const REMOTE_FLAGS: FlagSpec[] = [
  { name: 'server', type: 'string' },
  { name: 'token', type: 'string' },
];

/** Usage lines for REMOTE_FLAGS, for each command's help. */
export const REMOTE_USAGE = `  --server URL           the daemon's API (default $NANOVISOR_SERVER or ${DEFAULT_SERVER})
  --token TOKEN          API token (default $NANOVISOR_TOKEN, else the token file <data>/token;
                         data is $NANOVISOR_HOME or ~/.nanovisor)`;

/** Where the client's settings came from (for `token` and error messages). */
export interface ClientConfig {
  server: string;
  token: string | undefined;
  /** The token file looked at (whether or not the token came from it). */
  tokenFile: string;
  tokenSource: 'flag' | 'env' | 'file' | 'none';
}

/** `<data>/token`, data being `$NANOVISOR_HOME` or `~/.nanovisor`. */
export function tokenFilePath(env: NodeJS.ProcessEnv, cwd: string): string {
  const home = env['NANOVISOR_HOME'];
  return join(home !== undefined && home !== '' ? resolve(cwd, home) : join(homedir(), '.nanovisor'), 'token');
}

function normaliseServer(text: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new NanovisorError('NV_USAGE', `--server "${text}" is not a URL (example: http://127.0.0.1:7070)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new NanovisorError('NV_USAGE', `--server "${text}": only http:// and https:// are supported`);
  if (u.username !== '' || u.password !== '') throw new NanovisorError('NV_USAGE', '--server: put the token in --token or NANOVISOR_TOKEN, not in the URL');
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** Resolves server and token from the flags, the environment and the token file. */
export function resolveClientConfig(flags: { server?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv, cwd: string): ClientConfig {
  const serverText = flags.server ?? (env['NANOVISOR_SERVER'] || undefined) ?? DEFAULT_SERVER;
  const tokenFile = tokenFilePath(env, cwd);
  let token: string | undefined;
  let tokenSource: ClientConfig['tokenSource'] = 'none';
  if (flags.token !== undefined && flags.token !== '') {
    token = flags.token;
    tokenSource = 'flag';
  } else if (env['NANOVISOR_TOKEN'] !== undefined && env['NANOVISOR_TOKEN'] !== '') {
    token = env['NANOVISOR_TOKEN'];
    tokenSource = 'env';
  } else {
    token = readTokenFile(tokenFile);
    if (token !== undefined) tokenSource = 'file';
  }
  return { server: normaliseServer(serverText), token, tokenFile, tokenSource };
}

/** A client from a command's parsed REMOTE_FLAGS. */
export function clientFromFlags(p: ParsedFlags, io: { env: NodeJS.ProcessEnv; cwd: string }): ApiClient {
  return new ApiClient(resolveClientConfig({ server: flagString(p, 'server'), token: flagString(p, 'token') }, io.env, io.cwd));
}

/** Upload progress: bytes handed to the socket so far, of `total`. */
export type ProgressFn = (sent: number, total: number) => void;

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  json?: unknown;
  body?: Uint8Array;
  contentType?: string;
  onProgress?: ProgressFn | undefined;
}

/** Input of `POST /v1/apps`. */
export interface CreateApp {
  name: string;
  routes: Route[];
  env?: Record<string, string>;
  secrets?: Record<string, string>;
  limits?: AppLimits;
  volumes?: VolumeMount[];
  outbound?: { allow: string[]; maxCalls?: number; maxBytes?: number };
}

/** Input of `POST /v1/volumes`. */
export interface CreateVolume {
  name: string;
  quotaBytes?: number;
  quotaFiles?: number;
  access?: AccessMode;
  hostPath?: string;
}

/** Input of `PATCH /v1/volumes/{name}`. */
export interface UpdateVolume {
  quotaBytes?: number;
  quotaFiles?: number;
  access?: AccessMode;
}

/** Input of `PATCH /v1/apps/{name}` (null removes a secret or resets a limit). */
export interface UpdateApp {
  routes?: Route[];
  env?: Record<string, string>;
  volumes?: VolumeMount[];
  outbound?: { allow: string[]; maxCalls?: number; maxBytes?: number } | null;
  secrets?: Record<string, string | null>;
  limits?: { [K in keyof AppLimits]?: AppLimits[K] | null };
}

export interface Health {
  status: string;
  version: string;
  /** The gateway's URL, when the daemon says. */
  gateway?: string;
}

function isKnownCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * A typed client of the nanovisor API.
 *
 * @example
 * const api = new ApiClient(resolveClientConfig({}, process.env, process.cwd()));
 * await api.createApp({ name: 'echo', routes: [{ path: '/echo' }] });
 * const { version } = await api.deploy('echo', 'sha256:...');
 * for await (const e of api.logs('echo', { follow: true })) console.log(e.requestId, e.status);
 */
export class ApiClient {
  readonly config: ClientConfig;

  constructor(config: ClientConfig) {
    this.config = config;
  }

  get server(): string {
    return this.config.server;
  }

  health(): Promise<Health> {
    return this.#json<Health>({ method: 'GET', path: '/healthz' });
  }

  async metrics(): Promise<string> {
    const res = await this.#send({ method: 'GET', path: '/metrics' });
    return (await readAll(res)).toString('utf8');
  }

  /** Uploads an image export tar (`nanovisor image export`). */
  uploadImage(tar: Uint8Array, onProgress?: ProgressFn): Promise<{ digest: string; tags: string[] }> {
    return this.#json({ method: 'POST', path: '/v1/images', body: tar, contentType: 'application/x-tar', onProgress });
  }

  /** Uploads a tar of an app directory to be built by the daemon. */
  buildImage(tar: Uint8Array, options: { tag?: string; onProgress?: ProgressFn } = {}): Promise<{ digest: string; name: string; tag: string }> {
    const q = options.tag === undefined ? '' : `?tag=${encodeURIComponent(options.tag)}`;
    return this.#json({ method: 'POST', path: `/v1/images/build${q}`, body: tar, contentType: 'application/x-tar', onProgress: options.onProgress });
  }

  listImages(): Promise<ImageSummary[]> {
    return this.#json({ method: 'GET', path: '/v1/images' });
  }

  createApp(input: CreateApp): Promise<AppView> {
    return this.#json({ method: 'POST', path: '/v1/apps', json: input });
  }

  listApps(): Promise<AppView[]> {
    return this.#json({ method: 'GET', path: '/v1/apps' });
  }

  getApp(name: string): Promise<AppView> {
    return this.#json({ method: 'GET', path: `/v1/apps/${encodeURIComponent(name)}` });
  }

  updateApp(name: string, patch: UpdateApp): Promise<AppView> {
    return this.#json({ method: 'PATCH', path: `/v1/apps/${encodeURIComponent(name)}`, json: patch });
  }

  async deleteApp(name: string): Promise<void> {
    await this.#json({ method: 'DELETE', path: `/v1/apps/${encodeURIComponent(name)}` });
  }

  /** Deploys an image (digest, 6+ hex digits, or NAME[:TAG] in the daemon's store) as a new version. */
  deploy(app: string, image: string): Promise<{ app?: string; version: number; digest: string }> {
    return this.#json({ method: 'POST', path: `/v1/apps/${encodeURIComponent(app)}/versions`, json: { image } });
  }

  versions(app: string): Promise<VersionView[]> {
    return this.#json({ method: 'GET', path: `/v1/apps/${encodeURIComponent(app)}/versions` });
  }

  /** Rolls back to `version`, or to the one before the current. */
  rollback(app: string, version?: number): Promise<{ app?: string; version: number; digest: string }> {
    return this.#json({ method: 'POST', path: `/v1/apps/${encodeURIComponent(app)}/rollback`, json: version === undefined ? {} : { version } });
  }

  createVolume(input: CreateVolume): Promise<VolumeView> {
    return this.#json({ method: 'POST', path: '/v1/volumes', json: input });
  }

  listVolumes(): Promise<VolumeView[]> {
    return this.#json({ method: 'GET', path: '/v1/volumes' });
  }

  getVolume(name: string): Promise<VolumeView> {
    return this.#json({ method: 'GET', path: `/v1/volumes/${encodeURIComponent(name)}` });
  }

  updateVolume(name: string, patch: UpdateVolume): Promise<VolumeView> {
    return this.#json({ method: 'PATCH', path: `/v1/volumes/${encodeURIComponent(name)}`, json: patch });
  }

  /** Deletes a volume; its files (of a data-directory volume) only with `deleteData`. */
  deleteVolume(name: string, deleteData = false): Promise<DeletedVolume> {
    return this.#json({ method: 'DELETE', path: `/v1/volumes/${encodeURIComponent(name)}${deleteData ? '?deleteData=true' : ''}` });
  }

  snapshotVolume(name: string, snapshot?: string): Promise<SnapshotView> {
    return this.#json({ method: 'POST', path: `/v1/volumes/${encodeURIComponent(name)}/snapshots`, json: snapshot === undefined ? {} : { name: snapshot } });
  }

  listSnapshots(name: string): Promise<SnapshotView[]> {
    return this.#json({ method: 'GET', path: `/v1/volumes/${encodeURIComponent(name)}/snapshots` });
  }

  deleteSnapshot(name: string, snapshot: string): Promise<{ deleted: string }> {
    return this.#json({ method: 'DELETE', path: `/v1/volumes/${encodeURIComponent(name)}/snapshots/${encodeURIComponent(snapshot)}` });
  }

  restoreVolume(name: string, snapshot: string, into?: string): Promise<VolumeView> {
    return this.#json({ method: 'POST', path: `/v1/volumes/${encodeURIComponent(name)}/restore`, json: { snapshot, ...(into === undefined ? {} : { into }) } });
  }

  async exportVolume(name: string, snapshot?: string): Promise<Uint8Array> {
    const res = await this.#send({ method: 'GET', path: `/v1/volumes/${encodeURIComponent(name)}/export${snapshot === undefined ? '' : `?snapshot=${encodeURIComponent(snapshot)}`}` });
    return new Uint8Array(await readAll(res));
  }

  importVolume(name: string, tar: Uint8Array): Promise<VolumeView> {
    return this.#json({ method: 'POST', path: `/v1/volumes/${encodeURIComponent(name)}/import`, body: tar, contentType: 'application/x-tar' });
  }

  rotateToken(): Promise<{ token: string }> {
    return this.#json({ method: 'POST', path: '/v1/tokens/rotate' });
  }

  /**
   * Request-log entries of `app` after `since`; with `follow`, keeps yielding new ones until
   * the server ends the stream or `signal` aborts.
   */
  async *logs(app: string, options: { since?: number; follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<LogEntry> {
    const q = new URLSearchParams();
    if (options.since !== undefined) q.set('since', String(options.since));
    if (options.follow === true) q.set('follow', '1');
    const qs = q.size === 0 ? '' : `?${q}`;
    const res = await this.#send({ method: 'GET', path: `/v1/apps/${encodeURIComponent(app)}/logs${qs}` }, options.follow === true ? 0 : IDLE_TIMEOUT_MS, options.signal);
    let rest = '';
    const decoder = new TextDecoder();
    const parse = (line: string): LogEntry => {
      try {
        return JSON.parse(line) as LogEntry;
      } catch {
        throw new NanovisorError('NV_API_RESPONSE_INVALID', `the log stream held a line that is not JSON: ${line.slice(0, 120)}`);
      }
    };
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        rest += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (line !== '') yield parse(line);
        }
      }
    } catch (e) {
      if (options.signal?.aborted === true) return;
      throw e;
    } finally {
      res.destroy();
    }
    rest += decoder.decode();
    if (rest.trim() !== '') yield parse(rest.trim());
  }

  async #json<T>(call: Call): Promise<T> {
    const res = await this.#send(call);
    const text = (await readAll(res)).toString('utf8');
    if (res.statusCode === 204 || text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new NanovisorError('NV_API_RESPONSE_INVALID', `${call.method} ${call.path}: HTTP ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /** Sends a request; resolves with a 2xx response, throws a NanovisorError for anything else. */
  #send(call: Call, idleMs = IDLE_TIMEOUT_MS, signal?: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(`${this.config.server}${call.path}`);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'nanovisor-cli' };
    if (this.config.token !== undefined) headers['authorization'] = `Bearer ${this.config.token}`;
    let body: Uint8Array | undefined = call.body;
    if (call.json !== undefined) {
      body = Buffer.from(JSON.stringify(call.json));
      headers['content-type'] = 'application/json';
    } else if (call.contentType !== undefined) {
      headers['content-type'] = call.contentType;
    }
    if (body !== undefined || call.method === 'POST' || call.method === 'PATCH') headers['content-length'] = String(body?.length ?? 0);
    const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    // A connection per request (`agent: false`): the CLI sends a handful, and a pooled
    // keep-alive socket that the server closed while the CLI was busy (e.g. packing a large
    // upload for longer than the server's keep-alive timeout) would fail the next request
    // with ECONNRESET.
    const options: RequestOptions = { method: call.method, headers, agent: false, ...(signal === undefined ? {} : { signal }) };
    const what = `${call.method} ${url.pathname}`;

    return new Promise<IncomingMessage>((resolvePromise, reject) => {
      let settled = false;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(e);
      };
      const req = requestFn(url, options, (res) => {
        if (settled) {
          res.resume();
          return;
        }
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          settled = true;
          resolvePromise(res);
          return;
        }
        readAll(res).then((buf) => fail(apiError(status, buf.toString('utf8'), what, this.config)), fail);
      });
      if (idleMs > 0) {
        req.setTimeout(idleMs, () => fail(new NanovisorError('NV_API_UNREACHABLE', `${this.config.server} did not answer ${what} within ${Math.round(idleMs / 1000)} s`)));
      }
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (signal?.aborted === true) return fail(e);
        fail(new NanovisorError('NV_API_UNREACHABLE', `cannot reach the nanovisor API at ${this.config.server}: ${e.code ?? e.message}`, { cause: e, details: { server: this.config.server, errno: e.code } }));
      });
      if (body === undefined) {
        req.end();
        return;
      }
      // Written in chunks so upload progress can be shown as the socket takes them.
      const total = body.length;
      let sent = 0;
      const pump = (): void => {
        while (sent < total && !settled) {
          const chunk = body.subarray(sent, Math.min(total, sent + UPLOAD_CHUNK));
          sent += chunk.length;
          const at = sent;
          const more = req.write(chunk, () => call.onProgress?.(at, total));
          if (!more) {
            req.once('drain', pump);
            return;
          }
        }
        if (sent >= total) req.end();
      };
      call.onProgress?.(0, total);
      pump();
    });
  }
}

/** The NanovisorError for a non-2xx answer. */
function apiError(status: number, text: string, what: string, config: ClientConfig): NanovisorError {
  let parsed: { error?: { code?: unknown; message?: unknown; requestId?: unknown; problems?: unknown } } | undefined;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const err = parsed?.error;
  const requestId = typeof err?.requestId === 'string' ? err.requestId : undefined;
  const message = typeof err?.message === 'string' ? err.message : undefined;
  const suffix = requestId === undefined ? '' : ` (request id ${requestId})`;
  const details: Record<string, unknown> = { status, ...(requestId === undefined ? {} : { requestId }) };
  if (err?.problems !== undefined) details['problems'] = err.problems;
  if (status === 401) {
    const from = config.tokenSource === 'flag' ? 'the --token flag'
      : config.tokenSource === 'env' ? 'NANOVISOR_TOKEN'
      : config.tokenSource === 'file' ? `the token file ${config.tokenFile}`
      : undefined;
    const why = from === undefined
      ? `no API token: none given with --token or NANOVISOR_TOKEN, and no token file at ${config.tokenFile}`
      : `the server refused the token from ${from}${message === undefined ? '' : ` (${message})`}`;
    return new NanovisorError('NV_API_UNAUTHORIZED', `${what}: ${why}${suffix}`, { details });
  }
  if (err !== undefined && isKnownCode(err.code) && message !== undefined) {
    return new NanovisorError(err.code, `${message}${suffix}`, { details });
  }
  if (err !== undefined && typeof err.code === 'string') {
    details['serverCode'] = err.code;
    return new NanovisorError('NV_API_RESPONSE_INVALID', `${what}: HTTP ${status} ${err.code}: ${message ?? ''}${suffix}`, { details });
  }
  return new NanovisorError('NV_API_RESPONSE_INVALID', `${what}: HTTP ${status} from ${config.server}, not a nanovisor API error: ${text.slice(0, 200).trim()}`, { details });
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * The gateway's base URL for "call it at ..." lines: `--gateway`, `$NANOVISOR_GATEWAY`, what
 * `/healthz` says, else the API's host on port 8080 (serve's default --listen).
 */
export function gatewayUrl(flag: string | undefined, env: NodeJS.ProcessEnv, server: string, health?: Health): string {
  const given = flag ?? (env['NANOVISOR_GATEWAY'] || undefined) ?? health?.gateway;
  if (given !== undefined) return given.replace(/\/+$/, '');
  const u = new URL(server);
  return `${u.protocol}//${u.hostname.includes(':') ? `[${u.hostname.replace(/^\[|\]$/g, '')}]` : u.hostname}:${DEFAULT_GATEWAY_PORT}`;
}

/** `/path` or `host/path`, as the tables show routes, with ` (GET POST)` when it lists methods. */
export function routeText(r: Route): string {
  const where = r.host === undefined ? r.path : `${r.host}${r.path}`;
  return r.methods === undefined ? where : `${where} (${r.methods.join(' ')})`;
}

/** A text progress line for uploads: `upload 1.2 MiB / 3.4 MiB  35%`, redrawn in place on a TTY. */
export function progressPrinter(write: (t: string) => void, label: string, tty: boolean): ProgressFn & { done(): void } {
  let last = -1;
  let started = false;
  const fmt = (n: number): string => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);
  const fn = ((sent: number, total: number) => {
    const pct = total === 0 ? 100 : Math.floor((sent / total) * 100);
    // On a TTY redraw every percent; otherwise one line per 25%.
    const step = tty ? pct : Math.floor(pct / 25) * 25;
    if (step === last) return;
    last = step;
    started = true;
    write(`${tty ? '\r' : ''}${label} ${fmt(sent)} / ${fmt(total)}  ${pct}%${tty ? '\u001b[K' : '\n'}`);
  }) as ProgressFn & { done(): void };
  fn.done = () => {
    if (started && tty) write('\n');
  };
  return fn;
}
