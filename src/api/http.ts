/**
 * The API's transport-neutral request and response, and the helpers every resource file
 * uses: JSON answers, bounded body reading, strict JSON parsing into an action's input,
 * and the mapping of error codes to HTTP statuses. Errors are always
 * `{ "error": { "code", "message", "requestId" } }`.
 */
import type * as z from 'zod/v4';
import type { ControlPlane } from '../control/index.ts';
import { parseInput } from '../control/index.ts';
import { NanovisorError, isNanovisorError, type ErrorCode } from '../shared/errors.ts';

export type HeaderValue = string | string[] | undefined;

/** One API request, as a handler sees it. */
export interface ApiRequest {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /** Path parameters of the matched route (`{name}`), decoded. */
  params: Record<string, string>;
  readonly requestId: string;
  /** The client's address (the socket's peer), when the request came over a socket. */
  readonly remoteAddress?: string;
  /** Aborted when the client goes away or the API closes. */
  readonly signal: AbortSignal;
  /** Reads the whole body; NV_API_BODY_TOO_LARGE beyond `limit` bytes. */
  body(limit: number): Promise<Uint8Array>;
  /** Writes the body to `file` (created 0600) as it arrives, returning its size; the same limit. */
  saveBody(limit: number, file: string): Promise<number>;
}

/** An answer: a JSON value, raw bytes/text, or a stream of text chunks (NDJSON). */
export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array | AsyncIterable<string>;
}

export interface ApiContext {
  readonly control: ControlPlane;
  /** Largest JSON body. */
  readonly maxJsonBytes: number;
  /** Largest tar upload (images, app directories). */
  readonly maxUploadBytes: number;
  /** Aborted when the API closes (ends streaming answers). */
  readonly closing: AbortSignal;
}

export type Handler = (req: ApiRequest, ctx: ApiContext) => ApiResponse | Promise<ApiResponse>;

/** One endpoint. `path` is a template such as `/v1/apps/{name}`; openapi.ts documents each. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  /** False only for what must work without a token (health, the OpenAPI document). */
  readonly auth: boolean;
  /** False where a dashboard session cookie must not stand in for the token (the answer carries the token). */
  readonly session?: false;
  readonly handler: Handler;
}

export const JSON_TYPE = 'application/json; charset=utf-8';

export function json(status: number, value: unknown): ApiResponse {
  return { status, headers: { 'content-type': JSON_TYPE }, body: `${JSON.stringify(value)}\n` };
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  NV_API_UNAUTHORIZED: 401,
  NV_API_THROTTLED: 429,
  NV_UI_CSRF: 403,
  NV_API_BAD_REQUEST: 400,
  NV_API_NOT_FOUND: 404,
  NV_API_METHOD_NOT_ALLOWED: 405,
  NV_API_MEDIA_TYPE: 415,
  NV_API_BODY_TOO_LARGE: 413,
  NV_APP_NOT_FOUND: 404,
  NV_VERSION_NOT_FOUND: 404,
  NV_IMAGE_NOT_FOUND: 404,
  NV_APP_EXISTS: 409,
  NV_ROUTE_CONFLICT: 409,
  NV_APP_NO_VERSION: 409,
  NV_IMAGE_AMBIGUOUS: 409,
  NV_IMAGE_PINNED: 409,
  NV_VOLUME_NOT_FOUND: 404,
  NV_VOLUME_EXISTS: 409,
  NV_VOLUME_IN_USE: 409,
  NV_VOLUME_NOT_EMPTY: 409,
};

/** The HTTP status of an error: by code; other user errors 400, system errors 500. */
export function statusOf(err: NanovisorError): number {
  return STATUS[err.code] ?? (err.class === 'user' ? 400 : 500);
}

/** A server location and the placeholder answers show instead (`<data>`). */
export interface ServerPath {
  path: string;
  name: string;
}

/**
 * The message as a client may see it: the server's own locations replaced by their
 * placeholders; a system error's (5xx) remaining absolute paths too, since those name server
 * files (user errors keep theirs: they are the client's routes and guest paths).
 */
export function publicMessage(message: string, paths: readonly ServerPath[], system: boolean): string {
  let out = message;
  for (const p of [...paths].sort((a, b) => b.path.length - a.path.length)) out = out.replaceAll(p.path, p.name);
  if (system) out = out.replace(/(^|[\s"'(=])\/(?:[^\s"'():,]+\/)+[^\s"'():,]*/g, '$1<path>');
  return out;
}

/**
 * The error body; `details` of bad-request errors (the field problems) are kept. Server
 * paths are left out of the message (`paths`, `publicMessage`): the caller logs the original.
 */
export function errorResponse(err: unknown, requestId: string, paths: readonly ServerPath[] = []): ApiResponse {
  const e = isNanovisorError(err) ? err : new NanovisorError('NV_HOST_FAULT', 'internal error', { cause: err });
  const status = statusOf(e);
  let message = publicMessage(e.message, paths, status >= 500);
  if (status >= 500) message += ` (the daemon's log has the details, request id ${requestId})`;
  const error: Record<string, unknown> = { code: e.code, message, requestId };
  if (e.code === 'NV_API_BAD_REQUEST' && e.details['problems'] !== undefined) error['problems'] = e.details['problems'];
  const res = json(status, { error });
  if (status === 401) res.headers!['www-authenticate'] = 'Bearer realm="nanovisor"';
  if (status === 429) res.headers!['retry-after'] = String(e.details['retryAfterSeconds']);
  return res;
}

function header(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function mediaType(req: ApiRequest): string {
  return (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Reads a JSON body and parses it with `schema` (strict: unknown fields are refused by name).
 * An empty body counts as `{}`.
 */
export async function readJson<S extends z.ZodType>(req: ApiRequest, ctx: ApiContext, schema: S): Promise<z.output<S>> {
  const type = mediaType(req);
  const bytes = await req.body(ctx.maxJsonBytes);
  if (bytes.length > 0 && type !== 'application/json' && type !== '') {
    throw new NanovisorError('NV_API_MEDIA_TYPE', `send the body as application/json (got ${type})`);
  }
  let value: unknown = {};
  if (bytes.length > 0) {
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (e) {
      throw new NanovisorError('NV_API_BAD_REQUEST', `body: not valid JSON (${(e as Error).message})`, { details: { problems: [{ field: '(body)', message: 'not valid JSON' }] } });
    }
  }
  return parseInput(schema, value, 'body');
}

/** Reads a tar body (`application/x-tar`, or `application/octet-stream`). */
export async function readTar(req: ApiRequest, ctx: ApiContext): Promise<Uint8Array> {
  const type = mediaType(req);
  if (type !== 'application/x-tar' && type !== 'application/octet-stream') {
    throw new NanovisorError('NV_API_MEDIA_TYPE', `send the tar as application/x-tar (got ${type === '' ? 'no Content-Type' : type})`);
  }
  const bytes = await req.body(ctx.maxUploadBytes);
  if (bytes.length === 0) throw new NanovisorError('NV_API_BAD_REQUEST', 'body: the tar is empty');
  return bytes;
}

/**
 * Receives a tar body into a scratch file of the control plane, streamed to disk as it
 * arrives (a 256 MiB upload never sits in memory while a slow client sends it); the caller
 * removes it (`ControlPlane.scratch`).
 */
export async function saveTar(req: ApiRequest, ctx: ApiContext, file: string): Promise<void> {
  const type = mediaType(req);
  if (type !== 'application/x-tar' && type !== 'application/octet-stream') {
    throw new NanovisorError('NV_API_MEDIA_TYPE', `send the tar as application/x-tar (got ${type === '' ? 'no Content-Type' : type})`);
  }
  if ((await req.saveBody(ctx.maxUploadBytes, file)) === 0) throw new NanovisorError('NV_API_BAD_REQUEST', 'body: the tar is empty');
}

/** A query parameter that must be a non-negative integer, or undefined when absent. */
export function queryInt(req: ApiRequest, name: string): number | undefined {
  const v = req.query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) {
    throw new NanovisorError('NV_API_BAD_REQUEST', `query: ${name}: must be a non-negative integer`, { details: { problems: [{ field: name, message: 'must be a non-negative integer' }] } });
  }
  return Number(v);
}

/** A boolean query flag: `1`, `true` or `yes`. */
export function queryFlag(req: ApiRequest, name: string): boolean {
  const v = req.query.get(name);
  return v === '1' || v === 'true' || v === 'yes';
}
