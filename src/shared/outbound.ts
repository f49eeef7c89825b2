/**
 * Outbound destinations an app may call (the HTTP network switch, src/switches/network/http):
 * one pattern grammar and one schema for the manifest's `outbound` and the API's app config.
 *
 * A pattern is `SCHEME://HOST[:PORT]`, nothing after the authority:
 *   SCHEME  `http`, `https` or `*` (either);
 *   HOST    a DNS name, `*.SUFFIX` (any name ending in `.SUFFIX`, not SUFFIX itself), `*` (any
 *           name), an IPv4 address or a bracketed IPv6 address;
 *   PORT    a number, or `*`; absent, the scheme's default (80, 443; both for `*://`).
 * As Spin's `allowed_outbound_hosts`: "https://api.example.com", "http://*.internal:8080".
 */
import { isIP } from 'node:net';
import * as z from 'zod/v4';

export interface DestinationPattern {
  readonly text: string;
  readonly scheme: 'http' | 'https' | '*';
  /** Lower case; `*` any; `*.x` a suffix; an IPv6 address without brackets. */
  readonly host: string;
  /** undefined: the scheme's default port. */
  readonly port: number | '*' | undefined;
}

export const MAX_OUTBOUND_PATTERNS = 64;
export const MAX_OUTBOUND_CALLS = 1000;
export const MAX_OUTBOUND_BYTES = 1 << 30;
/** Defaults of the per-request caps when `outbound` names no other. */
export const DEFAULT_OUTBOUND = { maxCalls: 16, maxBytes: 16 << 20 } as const;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function validName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((l) => LABEL.test(l));
}

/** Parses one pattern; the reason when it is not one. */
export function parseDestination(text: string): DestinationPattern | string {
  const m = /^(https?|\*):\/\/(\[[0-9a-fA-F:.]+\]|[^/:?#[\]@]+)(?::(\d{1,5}|\*))?$/.exec(text);
  if (m === null) return 'must be SCHEME://HOST[:PORT] with scheme http, https or *, e.g. "https://api.example.com" or "http://*.internal:8080" (no path, no user)';
  const scheme = m[1] as DestinationPattern['scheme'];
  let host = m[2]!.toLowerCase();
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return `"${m[2]}" is not an IPv6 address`;
  } else if (host !== '*' && isIP(host) === 0) {
    const name = host.startsWith('*.') ? host.slice(2) : host;
    if (!validName(name)) return `"${m[2]}" is not a host name (letters, digits, "-" and "." labels; "*." only as the first label)`;
  }
  let port: DestinationPattern['port'];
  if (m[3] === '*') port = '*';
  else if (m[3] !== undefined) {
    port = Number(m[3]);
    if (port < 1 || port > 65535) return `port ${m[3]} is not 1..65535`;
  }
  return { text, scheme, host, port };
}

function defaultPort(scheme: 'http' | 'https'): number {
  return scheme === 'https' ? 443 : 80;
}

/** Whether a request to scheme://host:port matches the pattern. `host` as the URL has it (lower case, IPv6 without brackets). */
export function destinationMatches(p: DestinationPattern, scheme: 'http' | 'https', host: string, port: number): boolean {
  if (p.scheme !== '*' && p.scheme !== scheme) return false;
  if (p.port === undefined ? port !== defaultPort(scheme) : p.port !== '*' && p.port !== port) return false;
  const h = host.toLowerCase();
  if (p.host === '*') return true;
  if (p.host.startsWith('*.')) return isIP(h) === 0 && h.endsWith(p.host.slice(1));
  return p.host === h;
}

const pattern = z.string().check((ctx) => {
  const r = parseDestination(ctx.value);
  if (typeof r === 'string') ctx.issues.push({ code: 'custom', message: r, input: ctx.value });
});

/**
 * The `outbound` section: `allow` (the destinations, default none: default deny), and the
 * per-request caps `maxCalls` (outbound requests a guest may start while serving one
 * request) and `maxBytes` (request plus response bodies of all of them). Time has no cap of
 * its own: every call counts against the guest's time limit (`limits.timeoutMs`).
 */
export const outboundSchema = z.strictObject({
  allow: z.array(pattern).max(MAX_OUTBOUND_PATTERNS, { message: `must list at most ${MAX_OUTBOUND_PATTERNS} destinations` }).default([]),
  maxCalls: z.number().int({ message: 'must be an integer' }).positive({ message: 'must be positive' }).max(MAX_OUTBOUND_CALLS, { message: `must be at most ${MAX_OUTBOUND_CALLS}` }).default(DEFAULT_OUTBOUND.maxCalls),
  maxBytes: z.number().int({ message: 'must be an integer' }).positive({ message: 'must be positive' }).max(MAX_OUTBOUND_BYTES, { message: `must be at most ${MAX_OUTBOUND_BYTES} (1 GiB)` }).default(DEFAULT_OUTBOUND.maxBytes),
});

export type OutboundPolicy = z.output<typeof outboundSchema>;

/** What an app may call when it says nothing: nothing. */
export const DENY_ALL: OutboundPolicy = { allow: [], ...DEFAULT_OUTBOUND };
