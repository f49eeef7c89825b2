/**
 * How the page talks to the daemon: the JSON API (/v1) and the dashboard's endpoints
 * (/ui/api) with the session cookie the browser holds (HttpOnly: this script never sees it)
 * and the session's CSRF token, kept in this module's memory only, on every change. The API
 * token is typed once into the login form and sent once; it is stored nowhere.
 */

export interface Problem {
  field: string;
  message: string;
}

/** An error answer of the API: its code, message and field problems. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problems: Problem[];
  constructor(status: number, code: string, message: string, problems: Problem[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems;
  }
}

let csrf: string | undefined;

/** Where a page goes when the session is gone. */
export function toLogin(reason?: string): void {
  location.assign(reason === undefined ? '/ui/login' : `/ui/login?reason=${encodeURIComponent(reason)}`);
}

async function errorOf(res: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; problems?: Problem[] } } = {};
  try {
    body = await res.json();
  } catch {
    // not JSON
  }
  return new ApiError(res.status, body.error?.code ?? 'NV_HOST_FAULT', body.error?.message ?? `HTTP ${res.status}`, body.error?.problems ?? []);
}

/** Reads the session's CSRF token; to the login page without a session. */
export async function loadSession(): Promise<void> {
  const res = await fetch('/ui/api/session', { credentials: 'same-origin' });
  if (res.status === 401) {
    toLogin();
    throw await errorOf(res);
  }
  if (!res.ok) throw await errorOf(res);
  csrf = ((await res.json()) as { csrf: string }).csrf;
}

/** One JSON request; changes carry the CSRF token. A 401 ends the page's session. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET' && csrf !== undefined) headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (res.status === 401) {
    toLogin('expired');
    throw await errorOf(res);
  }
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Uploads a file as a tar body, reporting progress (0..1); XHR because fetch has no upload progress. */
export function upload<T>(path: string, file: Blob, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('content-type', 'application/x-tar');
    if (csrf !== undefined) xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'NV_API_UNREACHABLE', 'the upload failed: the daemon could not be reached'));
    xhr.onload = () => {
      let body: { error?: { code?: string; message?: string; problems?: Problem[] } } & Record<string, unknown> = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status === 401) toLogin('expired');
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as T);
      } else reject(new ApiError(xhr.status, body.error?.code ?? 'NV_HOST_FAULT', body.error?.message ?? `HTTP ${xhr.status}`, body.error?.problems ?? []));
    };
    xhr.send(file);
  });
}

/** Exchanges the API token for a session (the only request that carries it). */
export async function login(token: string): Promise<void> {
  const res = await fetch('/ui/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, credentials: 'same-origin', body: JSON.stringify({ token }) });
  if (!res.ok) throw await errorOf(res);
  csrf = ((await res.json()) as { csrf: string }).csrf;
}

export async function logout(): Promise<void> {
  await call('POST', '/ui/api/logout');
  csrf = undefined;
}

// ---- shapes of the answers ---------------------------------------------------------------

export interface Route {
  path: string;
  host?: string;
  methods?: string[];
}

export interface App {
  name: string;
  routes: Route[];
  env: Record<string, string>;
  secrets: string[];
  limits: { memoryBytes?: number; timeoutMs?: number; maxBodyBytes?: number; concurrency: number; queue: number };
  currentVersion: number | null;
  currentDigest: string | null;
  created: string;
  updated: string;
}

export interface VolumeMount {
  volume: string;
  guest: string;
  readonly?: boolean;
}

export interface Version {
  app: string;
  version: number;
  digest: string;
  created: string;
  current: boolean;
  image: { name: string; version?: string };
  /** The config this version serves with (secret names only). */
  config: { routes: Route[]; env: Record<string, string>; secrets: string[]; limits: Record<string, number>; volumes: VolumeMount[] };
  /** What changed from the version before, one line each (the API's words); [] for the first. */
  changes: string[];
}

export interface Point {
  t: number;
  requests: number;
  errors: number;
  boots: number;
  p50Ms: number | null;
  p99Ms: number | null;
  liveVms: number;
}

export interface Summary {
  requestsPerSec: number | null;
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface Overview {
  intervalMs: number;
  capacity: number;
  totals: Summary & { liveVms: number; queueDepth: number; bootsPerSec: number };
  apps: Array<Summary & { name: string; currentVersion: number | null; routes: Route[]; liveVms: number; queueDepth: number }>;
  shards: Array<{ shard: number; state: string; pid: number | null; restarts: number; liveVms: number; rssBytes: number | null; uptimeMs: number | null }>;
  series: Point[];
}

export interface Image {
  digest: string;
  name: string;
  tags: string[];
  size: number;
  created: string;
}

export interface LogEntry {
  seq: number;
  time: string;
  app: string;
  requestId: string;
  method: string;
  url: string;
  status: number;
  durationMs: number;
  vmMs?: number;
  outcome?: string;
  exitCode?: number;
  errorCode?: string;
  stderr?: string;
}

export interface Volume {
  name: string;
  access: 'shared' | 'exclusive';
  quotaBytes: number;
  quotaFiles: number;
  location: 'data' | 'host';
  hostPath?: string;
  usedBytes: number;
  usedFiles: number;
  apps: string[];
  created: string;
  updated: string;
}

export interface Snapshot {
  volume: string;
  name: string;
  bytes: number;
  files: number;
  created: string;
}
