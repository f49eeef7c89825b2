/**
 * Slows down guessing of the API token: wrong tokens are counted per client address (the
 * bearer token on /v1 and the dashboard's login alike, one throttle for both), a burst of
 * them is allowed, then one more per refill interval. While an address has no attempt left,
 * every request of it that presents a token is refused with 429 `NV_API_THROTTLED` and a
 * `Retry-After` before the token is even compared, so a refusal tells a guesser nothing.
 * A right token resets the address. The token is 256 random bits, so this is a second line
 * of defence: it bounds how fast one address can guess, and what guessing costs the daemon.
 *
 * Bounded: at most `maxAddresses` addresses are tracked (the one least recently seen is
 * dropped first). Behind a reverse proxy every client has the proxy's address, so a guesser
 * there slows down everyone who presents a token through it.
 */
import { NanovisorError } from '../shared/errors.ts';

/** Wrong tokens one address may present in a row before it is slowed down. */
export const AUTH_FAILURE_BURST = 10;
/** ...then one more attempt per this interval: 6 s (10 a minute). */
export const AUTH_FAILURE_REFILL_MS = 6_000;
/** Most addresses tracked at once. */
export const AUTH_THROTTLE_ADDRESSES = 10_000;

export interface AuthThrottleOptions {
  burst?: number;
  refillMs?: number;
  maxAddresses?: number;
  now?: () => number;
}

interface Bucket {
  /** Attempts left (fractional while refilling). */
  attempts: number;
  at: number;
}

/**
 * @example
 * const throttle = new AuthThrottle();
 * throttle.check(addr);                          // throws NV_API_THROTTLED (429) when out of attempts
 * if (control.authenticate(h)) throttle.succeeded(addr); else throttle.failed(addr);
 */
export class AuthThrottle {
  readonly #by = new Map<string, Bucket>();
  readonly #o: Required<AuthThrottleOptions>;

  constructor(options: AuthThrottleOptions = {}) {
    this.#o = { burst: AUTH_FAILURE_BURST, refillMs: AUTH_FAILURE_REFILL_MS, maxAddresses: AUTH_THROTTLE_ADDRESSES, now: Date.now, ...options };
  }

  #refilled(address: string): Bucket | undefined {
    const b = this.#by.get(address);
    if (b === undefined) return undefined;
    const now = this.#o.now();
    b.attempts = Math.min(this.#o.burst, b.attempts + (now - b.at) / this.#o.refillMs);
    b.at = now;
    return b;
  }

  /**
   * Throws `NV_API_THROTTLED` (details.retryAfterSeconds) when `address` has no attempt left.
   * An unknown address (a request made in process) is never throttled.
   */
  check(address: string | undefined): void {
    if (address === undefined) return;
    const b = this.#refilled(address);
    if (b === undefined || b.attempts >= 1) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(((1 - b.attempts) * this.#o.refillMs) / 1000));
    throw new NanovisorError('NV_API_THROTTLED', `too many wrong tokens from this address: try again in ${retryAfterSeconds} s`, { details: { retryAfterSeconds } });
  }

  /** A wrong token from `address`. */
  failed(address: string | undefined): void {
    if (address === undefined) return;
    const b = this.#refilled(address) ?? { attempts: this.#o.burst, at: this.#o.now() };
    b.attempts -= 1;
    // Re-inserted: the map's order is least recently seen first.
    this.#by.delete(address);
    while (this.#by.size >= this.#o.maxAddresses) this.#by.delete(this.#by.keys().next().value!);
    this.#by.set(address, b);
  }

  /** The right token from `address`: its count starts again. */
  succeeded(address: string | undefined): void {
    if (address !== undefined) this.#by.delete(address);
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.#by.size;
  }
}
