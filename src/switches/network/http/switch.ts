/**
 * The HTTP network switch: every outbound call of every guest goes through here, in the
 * daemon (shards have no network). Per call: the run's caps (calls, bytes, time left), the
 * app's allowlist (scheme, host, port), then the switch resolves the name itself and refuses
 * any address the operator did not allow (loopback, private, link-local, the daemon's own:
 * addresses.ts) and connects to the address it checked (exchange.ts). Each call is recorded
 * for the request's log line and metrics; each refusal is also logged for the operator.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { destinationMatches, parseDestination, type DestinationPattern, type OutboundPolicy } from '../../../shared/outbound.ts';
import type { OutboundCallRecord, OutboundPort, OutboundReply, OutboundRequest } from '../../../shared/outbound-wire.ts';
import { AddressPolicy, type Cidr } from './addresses.ts';
import { exchange } from './exchange.ts';

export type Resolve = (host: string) => Promise<string[]>;

export interface HttpSwitchOptions {
  /** Address ranges the operator allows despite the SSRF rules (`serve --outbound-allow-net`). */
  allowNets?: readonly Cidr[];
  /** Name resolution; default the system's (getaddrinfo: /etc/hosts, DNS). */
  resolve?: Resolve;
  /** The daemon's own addresses; default those of this host's interfaces. */
  ownAddresses?: Iterable<string>;
  /** Told of every refused or failed call (the operator's log line). */
  onRefused?: (session: SessionInfo, call: OutboundCallRecord) => void;
  /** Told of every call (metrics). */
  onCall?: (session: SessionInfo, call: OutboundCallRecord) => void;
}

export interface SessionInfo {
  readonly app: string;
  readonly requestId?: string;
}

const systemResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export class HttpSwitch {
  readonly #addresses: AddressPolicy;
  readonly #options: HttpSwitchOptions;

  constructor(options: HttpSwitchOptions = {}) {
    this.#options = options;
    this.#addresses = new AddressPolicy(options.allowNets ?? [], options.ownAddresses);
  }

  /**
   * The port of one guest run: its app's policy, its caps, its deadline (`deadline`, a
   * `performance.now()` time; undefined: no time limit).
   */
  session(info: SessionInfo, policy: OutboundPolicy, deadline?: number): OutboundSession {
    return new OutboundSession(this, info, policy, deadline);
  }

  /** For sessions: the address check, the resolver and the hooks. */
  get addresses(): AddressPolicy { return this.#addresses; }
  get resolve(): Resolve { return this.#options.resolve ?? systemResolve; }
  get options(): HttpSwitchOptions { return this.#options; }
}

export class OutboundSession implements OutboundPort {
  readonly #sw: HttpSwitch;
  readonly info: SessionInfo;
  readonly #patterns: DestinationPattern[];
  readonly #policy: OutboundPolicy;
  readonly #deadline: number | undefined;
  /** Every call of the run, in order. */
  readonly calls: OutboundCallRecord[] = [];
  #started = 0;
  #bytes = 0;
  readonly mayConnect: boolean;

  constructor(sw: HttpSwitch, info: SessionInfo, policy: OutboundPolicy, deadline: number | undefined) {
    this.#sw = sw;
    this.info = info;
    this.#policy = policy;
    this.#patterns = policy.allow.map((t) => parseDestination(t)).filter((p): p is DestinationPattern => typeof p === 'object');
    this.#deadline = deadline;
    this.mayConnect = this.#patterns.length > 0;
  }

  async call(req: OutboundRequest): Promise<OutboundReply> {
    const t0 = performance.now();
    const target = splitAuthority(req.authority, req.scheme);
    const record: OutboundCallRecord = {
      destination: target === undefined ? `${req.scheme}://${req.authority}` : `${req.scheme}://${target.urlHost}:${target.port}`,
      host: target?.host ?? req.authority, method: req.method, status: 0, bytesOut: req.body.byteLength, bytesIn: 0, ms: 0,
    };
    const finish = (reply: OutboundReply & { bytesIn?: number }, address?: string): OutboundReply => {
      record.ms = Math.round((performance.now() - t0) * 10) / 10;
      record.bytesIn = reply.bytesIn ?? 0;
      if (address !== undefined) record.address = address;
      if (reply.ok) record.status = reply.status;
      else {
        record.status = reply.code.tag;
        record.reason = reply.reason;
      }
      this.calls.push(record);
      this.#sw.options.onCall?.(this.info, record);
      if (!reply.ok) this.#sw.options.onRefused?.(this.info, record);
      return reply.ok ? { ok: true, status: reply.status, headers: reply.headers, body: reply.body } : { ok: false, code: reply.code, reason: reply.reason };
    };
    const refuse = (tag: string, reason: string, val?: unknown): OutboundReply => finish({ ok: false, code: val === undefined ? { tag } : { tag, val }, reason });

    if (this.#started >= this.#policy.maxCalls) return refuse('connection-limit-reached', `more than ${this.#policy.maxCalls} outbound calls in one request (outbound.maxCalls)`);
    this.#started++;
    if (target === undefined) return refuse('HTTP-request-URI-invalid', `"${req.authority}" is not a host[:port]`);
    if (!this.#patterns.some((p) => destinationMatches(p, req.scheme, target.host, target.port))) {
      return refuse('HTTP-request-denied', `${record.destination} is not in the app's outbound.allow`);
    }
    const left = this.#policy.maxBytes - this.#bytes;
    if (req.body.byteLength > left) return refuse('HTTP-request-body-size', `request body of ${req.body.byteLength} bytes is over the ${left} the request has left (outbound.maxBytes)`, BigInt(req.body.byteLength));
    this.#bytes += req.body.byteLength;
    const timeLeft = () => (this.#deadline === undefined ? 30_000 : this.#deadline - performance.now());
    if (timeLeft() <= 0) return refuse('connection-timeout', 'the guest has no time left (limits.timeoutMs)');

    let addresses: string[];
    if (isIP(target.host) !== 0) addresses = [target.host];
    else {
      try {
        addresses = await withTimeout(this.#sw.resolve(target.host), timeLeft());
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ETIMEOUT_NV') return refuse('DNS-timeout', `resolving ${target.host} took longer than the guest had left`);
        if (code === 'ENOTFOUND' || code === 'ENODATA') return refuse('destination-not-found', `${target.host} does not resolve (${code})`);
        return refuse('DNS-error', `resolving ${target.host}: ${code ?? String(e)}`, { rcode: code, infoCode: undefined });
      }
    }
    const reasons: string[] = [];
    const address = addresses.find((a) => {
      const why = this.#sw.addresses.refusal(a);
      if (why !== undefined) reasons.push(`${a}: ${why}`);
      return why === undefined;
    });
    if (address === undefined) {
      return refuse('destination-IP-prohibited', `${target.host} resolves only to refused addresses (${reasons.join('; ') || 'none'}); the operator allows ranges with serve --outbound-allow-net`);
    }
    const r = await exchange({
      scheme: req.scheme, host: target.host, authority: req.authority, address, port: target.port, method: req.method,
      pathWithQuery: req.pathWithQuery, headers: req.headers, body: req.body, maxResponseBytes: this.#policy.maxBytes - this.#bytes, timeoutMs: timeLeft(),
    });
    this.#bytes += r.bytesIn;
    return finish(r, address);
  }
}

/** `host[:port]` (or `[v6]:port`): the host as compared and connected, the port (default by scheme). */
export function splitAuthority(authority: string, scheme: 'http' | 'https'): { host: string; urlHost: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:@/[\]\s]+))(?::(\d{1,5}))?$/.exec(authority);
  if (m === null) return undefined;
  const port = m[3] === undefined ? (scheme === 'https' ? 443 : 80) : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const host = (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, '');
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  return { host, urlHost: m[1] !== undefined ? `[${host}]` : host, port };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT_NV' })), Math.max(1, ms));
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e); });
  });
}
