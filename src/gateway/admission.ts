/**
 * Admission control for the HTTP servers of nanovisor (the gateway and the daemon's API):
 * what a client may hold of the server before it has sent a whole request, so that no number
 * of idle, slow or half-sent requests — no token needed — can take the descriptors or the
 * memory the daemon needs to answer everyone else.
 *
 * | cap | default | beyond it |
 * |---|---|---|
 * | `maxConnections` open at once | 10,000, at most half the open-files limit | the new connection gets a canned 503 (`Retry-After`) and is closed at once |
 * | `maxHeaderBytes` of one request head | 16 KiB (Node's) | 431, connection closed (Node) |
 * | `headersTimeoutMs` to send the whole head | 10 s | 408, connection closed (Node): slowloris |
 * | `requestTimeoutMs` to send the whole request | 60 s | 408, connection closed (Node): slow bodies |
 * | `keepAliveTimeoutMs` idle between requests | 5 s | connection closed |
 * | `maxBufferedBodyBytes` of request bodies held, all requests together | 128 MiB | 503 with `Retry-After`, the request's bytes freed, connection closed |
 *
 * Header bytes held in total are bounded by `maxConnections × maxHeaderBytes`. A request body
 * counts against the budget from its first byte until its response is done (it is the
 * guest's stdin meanwhile). Node's timeouts are checked every `checkIntervalMs` (so a
 * timeout fires up to that much late). Refusals are counted (`stats()`).
 *
 * @example
 * const admission = new Admission({ maxConnections: 1000 });
 * const server = admission.createServer(handler);   // caps and timeouts applied
 * const body = admission.body();                   // per request
 * if (!body.take(chunk.length)) { ... 503 ... }
 * res.once('close', () => body.free());
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { NanovisorError } from '../shared/errors.ts';

export interface AdmissionOptions {
  /** Most connections open at once; a new one beyond it gets a 503 and is closed. */
  maxConnections?: number;
  /** Largest request head (request line and headers), in bytes; 431 beyond it. */
  maxHeaderBytes?: number;
  /** Time a client has to send a request's whole head, in ms; 408 after it. */
  headersTimeoutMs?: number;
  /** Time a client has to send a whole request (head and body), in ms; 408 after it. */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept, in ms. */
  keepAliveTimeoutMs?: number;
  /** Request-body bytes held across all requests at once; 503 for a request that would go over. */
  maxBufferedBodyBytes?: number;
  /** How often Node checks the header and request timeouts, in ms. Default: a quarter of the shorter, at most 1 s. */
  checkIntervalMs?: number;
}

export type AdmissionLimits = Required<AdmissionOptions>;

/** Half the soft open-files limit (from /proc/self/limits), or undefined where it cannot be read. */
function openFilesBudget(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) && soft > 0 ? Math.floor(soft / 2) : undefined;
  } catch {
    return undefined;
  }
}

/** The gateway's defaults (see the table above). */
export function defaultAdmission(): AdmissionLimits {
  const headersTimeoutMs = 10_000;
  const requestTimeoutMs = 60_000;
  return {
    maxConnections: Math.min(10_000, openFilesBudget() ?? 10_000),
    maxHeaderBytes: 16 * 1024,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: 5_000,
    maxBufferedBodyBytes: 128 * 1024 * 1024,
    checkIntervalMs: 1_000,
  };
}

/**
 * The daemon API's defaults: at most 1,024 connections (and an eighth of the open-files limit,
 * so the gateway's flood cannot leave it without descriptors), 5 minutes to send a request
 * (image uploads), the rest as the gateway. The API reads a body only after the token
 * checked out, and then up to its upload limit, so it needs no body budget of its own.
 */
export function defaultApiAdmission(): AdmissionLimits {
  const budget = openFilesBudget();
  return {
    ...defaultAdmission(),
    maxConnections: Math.max(16, Math.min(1024, budget === undefined ? 1024 : Math.floor(budget / 4))),
    requestTimeoutMs: 300_000,
  };
}

function positive(name: string, v: number, min = 1): number {
  if (!(Number.isInteger(v) && v >= min)) throw new NanovisorError('NV_GATEWAY_CONFIG_INVALID', `admission: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** The options over the defaults, validated (`NV_GATEWAY_CONFIG_INVALID` names a bad one). */
export function resolveAdmission(options: AdmissionOptions = {}, defaults: AdmissionLimits = defaultAdmission()): AdmissionLimits {
  const o = { ...defaults, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as AdmissionLimits;
  positive('maxConnections', o.maxConnections);
  positive('maxHeaderBytes', o.maxHeaderBytes, 1024);
  positive('headersTimeoutMs', o.headersTimeoutMs);
  positive('requestTimeoutMs', o.requestTimeoutMs);
  positive('keepAliveTimeoutMs', o.keepAliveTimeoutMs);
  positive('maxBufferedBodyBytes', o.maxBufferedBodyBytes, 0);
  // Node refuses a headers timeout longer than the request timeout.
  if (o.headersTimeoutMs > o.requestTimeoutMs) o.headersTimeoutMs = o.requestTimeoutMs;
  if (options.checkIntervalMs === undefined) {
    o.checkIntervalMs = Math.max(10, Math.min(1000, Math.floor(Math.min(o.headersTimeoutMs, o.requestTimeoutMs) / 4)));
  }
  positive('checkIntervalMs', o.checkIntervalMs);
  return o;
}

/** What admission has let in and turned away since it was created. */
export interface AdmissionStats {
  connections: number;
  /** Connections closed at once because `maxConnections` were open. */
  refusedConnections: number;
  bufferedBodyBytes: number;
  /** Requests answered 503 because the body budget was spent. */
  refusedBodies: number;
}

/** Why admission turned a client away (timeouts and 431 are Node's and not counted here). */
export type RefusalReason = 'connections' | 'body-budget';

/** One request's share of the body budget. */
export interface BodyReservation {
  /** Reserves `bytes` more; false (and nothing reserved) when the budget would go over. */
  take(bytes: number): boolean;
  /** Gives back everything this request reserved. Idempotent. */
  free(): void;
}

const RETRY_AFTER_S = 1;
const BUSY_BODY = '503 Service Unavailable: too many open connections; retry later\n';
/** Sent to a connection over the cap, before anything of it is read. */
const BUSY_RESPONSE = Buffer.from(
  `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${BUSY_BODY.length}\r\nretry-after: ${RETRY_AFTER_S}\r\nconnection: close\r\n\r\n${BUSY_BODY}`,
);

/** The caps of one server (or of several sharing them). */
export class Admission {
  readonly limits: AdmissionLimits;
  #connections = 0;
  #refusedConnections = 0;
  #buffered = 0;
  #refusedBodies = 0;
  readonly #refused = new WeakSet<Socket>();
  readonly #listeners: ((reason: RefusalReason) => void)[] = [];

  constructor(options: AdmissionOptions = {}, defaults?: AdmissionLimits) {
    this.limits = resolveAdmission(options, defaults);
  }

  /** An HTTP server with every cap applied (see {@link guard}); `extra` adds node:http options such as `requireHostHeader`. */
  createServer<Req extends typeof IncomingMessage = typeof IncomingMessage, Res extends typeof ServerResponse = typeof ServerResponse>(handler: RequestListener<Req, Res>, extra: Pick<ServerOptions, 'requireHostHeader'> = {}): Server<Req, Res> {
    const l = this.limits;
    // A refused connection's parser may still deliver a request it had read: drop it.
    const guarded: RequestListener<Req, Res> = (req, res) => {
      if (this.#refused.has(req.socket)) res.destroy();
      else handler(req, res);
    };
    const server = createServer<Req, Res>({
      ...extra,
      maxHeaderSize: l.maxHeaderBytes,
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      connectionsCheckingInterval: l.checkIntervalMs,
    }, guarded);
    this.guard(server);
    return server;
  }

  /**
   * Counts `server`'s connections and turns away those beyond `maxConnections` (servers made
   * by {@link createServer} also drop any request a turned-away connection had sent).
   */
  guard(server: Server): void {
    server.on('connection', (socket: Socket) => {
      if (this.#connections >= this.limits.maxConnections) {
        this.#refusedConnections++;
        this.#refused.add(socket);
        this.#notify('connections');
        // Answer before reading anything and close: a flood must not hold descriptors.
        socket.on('error', () => {});
        socket.end(BUSY_RESPONSE);
        socket.destroySoon();
        return;
      }
      this.#connections++;
      socket.once('close', () => this.#connections--);
    });
  }

  /** A new request's share of the body budget; `free` it when its response is done. */
  body(): BodyReservation {
    let mine = 0;
    return {
      take: (bytes) => {
        if (this.#buffered + bytes > this.limits.maxBufferedBodyBytes) {
          this.#refusedBodies++;
          this.#notify('body-budget');
          return false;
        }
        this.#buffered += bytes;
        mine += bytes;
        return true;
      },
      free: () => {
        this.#buffered -= mine;
        mine = 0;
      },
    };
  }

  /** Calls `listener` for every client turned away (for metrics). */
  onRefused(listener: (reason: RefusalReason) => void): void {
    this.#listeners.push(listener);
  }

  #notify(reason: RefusalReason): void {
    for (const l of this.#listeners) {
      try {
        l(reason);
      } catch {
        // A metrics failure must not change what admission does.
      }
    }
  }

  /** Seconds a refused client is told to wait (`Retry-After`). */
  get retryAfterSeconds(): number {
    return RETRY_AFTER_S;
  }

  stats(): AdmissionStats {
    return { connections: this.#connections, refusedConnections: this.#refusedConnections, bufferedBodyBytes: this.#buffered, refusedBodies: this.#refusedBodies };
  }
}
