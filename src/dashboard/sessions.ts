/**
 * Dashboard sessions: what a browser holds instead of the API token. Logging in with the
 * token creates a session; the browser gets only its random id, in an HttpOnly,
 * SameSite=Strict cookie, so page scripts never see the token or the id. Sessions live in
 * the daemon's memory only (a restart logs everyone out), are bounded in time (absolute
 * lifetime and idle timeout), and each is bound to the token in force when it was made: a
 * rotation ends every session at once. Each session has its own CSRF token, which the page
 * reads from `GET /ui/api/session` and sends back in `X-CSRF-Token` on every change.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The cookie's name. */
export const SESSION_COOKIE = 'nv_session';
/** A session ends this long after login, whatever happens: 12 hours. */
export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;
/** ...or after this long without a request: 1 hour. */
export const SESSION_IDLE_MS = 60 * 60 * 1000;
/** Most sessions held at once; the oldest is dropped beyond it. */
export const MAX_SESSIONS = 1000;

export interface Session {
  /** The CSRF token of this session (sent back in `X-CSRF-Token`). */
  readonly csrf: string;
  readonly created: number;
  lastUsed: number;
  /** `ControlPlane.tokenEpoch()` at login. */
  readonly epoch: string;
  /** When it ends at the latest (ms since the epoch). */
  readonly expires: number;
}

function digest(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

export interface SessionOptions {
  /** The token in force now (`ControlPlane.tokenEpoch`). */
  epoch: () => string;
  now?: () => number;
  lifetimeMs?: number;
  idleMs?: number;
}

/**
 * The sessions of the daemon.
 *
 * @example
 * const sessions = new Sessions({ epoch: () => control.tokenEpoch() });
 * const { id } = sessions.create();          // id goes in the cookie, nowhere else
 * sessions.get(id)?.csrf;                    // undefined once rotated, expired or idle
 */
export class Sessions {
  /** By sha256 of the id: a heap dump or a timing probe of the map does not give ids away. */
  readonly #byHash = new Map<string, Session>();
  readonly #o: Required<SessionOptions>;

  constructor(options: SessionOptions) {
    this.#o = { now: Date.now, lifetimeMs: SESSION_LIFETIME_MS, idleMs: SESSION_IDLE_MS, ...options };
  }

  get lifetimeMs(): number {
    return this.#o.lifetimeMs;
  }

  /** A new session; `id` is for the cookie only. */
  create(): { id: string; session: Session } {
    const now = this.#o.now();
    this.#sweep(now);
    while (this.#byHash.size >= MAX_SESSIONS) this.#byHash.delete(this.#byHash.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    const session: Session = { csrf: randomBytes(32).toString('base64url'), created: now, lastUsed: now, epoch: this.#o.epoch(), expires: now + this.#o.lifetimeMs };
    this.#byHash.set(digest(id), session);
    return { id, session };
  }

  /** The live session of `id` (and marks it used); undefined when unknown, expired, idle or rotated. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined || id === '') return undefined;
    const key = digest(id);
    const s = this.#byHash.get(key);
    if (s === undefined) return undefined;
    const now = this.#o.now();
    if (now >= s.expires || now - s.lastUsed >= this.#o.idleMs || s.epoch !== this.#o.epoch()) {
      this.#byHash.delete(key);
      return undefined;
    }
    s.lastUsed = now;
    return s;
  }

  /** Ends one session (logout). */
  delete(id: string | undefined): void {
    if (id !== undefined) this.#byHash.delete(digest(id));
  }

  /** Sessions held now (expired ones may still count until the next sweep). */
  get size(): number {
    return this.#byHash.size;
  }

  #sweep(now: number): void {
    const epoch = this.#o.epoch();
    for (const [k, s] of this.#byHash) if (now >= s.expires || now - s.lastUsed >= this.#o.idleMs || s.epoch !== epoch) this.#byHash.delete(k);
  }
}

/** True when `presented` is the session's CSRF token (constant time). */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(digest(presented), 'hex');
  const b = Buffer.from(digest(session.csrf), 'hex');
  return timingSafeEqual(a, b);
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (text === undefined) return undefined;
  for (const part of text.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * The Set-Cookie value that gives the browser a session (Path=/: the page calls /v1 too);
 * `secure` (the page was reached over https) adds `Secure`, so the browser never sends it in clear.
 */
export function sessionCookie(id: string, maxAgeMs: number, secure = false): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure ? '; Secure' : ''}`;
}

/** The Set-Cookie value that removes it. */
export function clearedCookie(secure = false): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
