/**
 * One HTTP exchange with an address the switch has already checked: the connection goes to
 * that address (never to a name resolved again), TLS checks the certificate against the
 * name the guest asked for, bodies are bounded by the bytes the run has left and the whole
 * exchange by the time it has left. Redirects are never followed here: a 3xx goes back to the
 * guest, whose next call is checked again like any other.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { OutboundReply, WasiHttpErrorCode } from '../../../shared/outbound-wire.ts';

/** Headers the switch sets itself; a guest's are dropped. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'host', 'expect']);

export interface Exchange {
  scheme: 'http' | 'https';
  /** The name (or literal) the guest asked for: Host header, TLS server name. */
  host: string;
  authority: string;
  address: string;
  port: number;
  method: string;
  pathWithQuery: string;
  headers: [string, string][];
  body: Uint8Array;
  /** Most response body bytes accepted. */
  maxResponseBytes: number;
  /** Milliseconds the exchange may take in all. */
  timeoutMs: number;
}

export type ExchangeResult = OutboundReply & { bytesIn: number };

function failure(tag: string, reason: string, val?: unknown): ExchangeResult {
  return { ok: false, code: val === undefined ? { tag } : { tag, val }, reason, bytesIn: 0 };
}

/** The wasi:http error-code for a socket or TLS error. */
function codeOf(e: NodeJS.ErrnoException, connected: boolean): WasiHttpErrorCode {
  switch (e.code) {
    case 'ECONNREFUSED': return { tag: 'connection-refused' };
    case 'ECONNRESET': case 'EPIPE': return { tag: connected ? 'connection-terminated' : 'connection-refused' };
    case 'EHOSTUNREACH': case 'ENETUNREACH': return { tag: 'destination-unavailable' };
    case 'HPE_INVALID_CONSTANT': case 'HPE_INVALID_STATUS': case 'HPE_HEADER_OVERFLOW': return { tag: 'HTTP-protocol-error' };
    default:
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT/.test(e.code ?? '')) return { tag: 'TLS-certificate-error' };
      if (/SSL|TLS/.test(e.code ?? '') || /ssl|tls/i.test(e.message)) return { tag: 'TLS-protocol-error' };
      return { tag: 'internal-error', val: e.code ?? e.message };
  }
}

export function exchange(x: Exchange): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    let responded = false;
    const done = (r: ExchangeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of x.headers) {
      const n = k.toLowerCase();
      if (DROPPED.has(n)) continue;
      const prev = headers[n];
      headers[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    headers['host'] = x.authority;
    if (x.body.byteLength > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE'].includes(x.method)) headers['content-length'] = String(x.body.byteLength);
    const options = {
      host: x.address,
      port: x.port,
      method: x.method,
      path: x.pathWithQuery,
      headers,
      agent: false as const,
      // The address was checked; connect to it, never to a fresh resolution of the name.
      lookup: (_h: string, _o: unknown, cb: (e: Error | null, a: string, f: number) => void) => cb(null, x.address, x.address.includes(':') ? 6 : 4),
      ...(x.scheme === 'https' ? { servername: /^[\d.]+$|:/.test(x.host) ? undefined : x.host } : {}),
    };
    const req = (x.scheme === 'https' ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
      responded = true;
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.byteLength;
        if (n > x.maxResponseBytes) {
          req.destroy();
          done(failure('HTTP-response-body-size', `response body over the ${x.maxResponseBytes} bytes the request has left (outbound.maxBytes)`, BigInt(n)));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        const out: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          const k = res.rawHeaders[i]!.toLowerCase();
          if (k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out.push([k, res.rawHeaders[i + 1]!]);
        }
        done({ ok: true, status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks), bytesIn: n });
      });
      res.on('error', (e: NodeJS.ErrnoException) => done({ ...failure('HTTP-response-incomplete', e.message), bytesIn: n }));
    });
    req.on('socket', (s) => {
      s.once(x.scheme === 'https' ? 'secureConnect' : 'connect', () => { connected = true; });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const code = codeOf(e, connected);
      done(failure(code.tag, `${e.code ?? 'error'}: ${e.message}`, code.val));
    });
    const timer = setTimeout(() => {
      req.destroy();
      done(failure(responded ? 'HTTP-response-timeout' : connected ? 'HTTP-response-timeout' : 'connection-timeout', `no ${connected ? 'response' : 'connection'} within the ${Math.round(x.timeoutMs)} ms the guest had left`));
    }, Math.max(1, x.timeoutMs));
    req.end(x.body.byteLength > 0 ? Buffer.from(x.body) : undefined);
  });
}
