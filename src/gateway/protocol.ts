/**
 * HTTP/1.1 message rules the gateway enforces on top of node:http (RFC 9112), and the answers
 * for requests node:http cannot parse. node:http accepts an HTTP/0.9 request line (no
 * version) and keeps the first of two `Host` headers; RFC 9112 §2.3 and §3.2 say a server
 * answers those with 400. Its own canned answers to unparsable requests carry no request id;
 * `clientErrorAnswer` builds the same statuses with one, so that every answer of the gateway
 * can be found in its logs.
 */
import type { IncomingMessage } from 'node:http';

/** A request the gateway refuses before routing, and why. */
export interface ProtocolProblem {
  status: 400 | 505;
  code: 'NV_GATEWAY_BAD_REQUEST';
  message: string;
}

/**
 * What is wrong with a parsed request's framing, if anything: a request line without an HTTP
 * version (HTTP/0.9), a major version other than 1 (505), two `Host` headers, or an
 * HTTP/1.1 request without `Host`.
 *
 * @example
 * requestProblem(req); // { status: 400, code: 'NV_GATEWAY_BAD_REQUEST', message: 'the request has 2 Host headers ...' }
 */
export function requestProblem(req: IncomingMessage): ProtocolProblem | undefined {
  if (req.httpVersionMajor === 0) {
    return { status: 400, code: 'NV_GATEWAY_BAD_REQUEST', message: 'the request line has no HTTP version (HTTP/0.9 is not served; RFC 9112 section 2.3)' };
  }
  if (req.httpVersionMajor !== 1) {
    return { status: 505, code: 'NV_GATEWAY_BAD_REQUEST', message: `HTTP/${req.httpVersion} is not served over this connection; use HTTP/1.1` };
  }
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) return { status: 400, code: 'NV_GATEWAY_BAD_REQUEST', message: `the request has ${hosts} Host headers; RFC 9112 section 3.2 allows one` };
  if (hosts === 0 && req.httpVersionMinor >= 1) return { status: 400, code: 'NV_GATEWAY_BAD_REQUEST', message: 'an HTTP/1.1 request needs a Host header (RFC 9112 section 3.2)' };
  return undefined;
}

/** The status, code and message for an error node:http reports on a connection (`clientError`). */
export interface ClientErrorAnswer {
  status: 400 | 408 | 431;
  code: 'NV_GATEWAY_BAD_REQUEST' | 'NV_GATEWAY_REQUEST_TIMEOUT' | 'NV_GATEWAY_HEADERS_TOO_LARGE';
  message: string;
}

/**
 * Maps a `clientError` to the answer node:http would give (408 for its header and request
 * timeouts, 431 for a head over `maxHeaderSize`, 400 for anything else it cannot parse);
 * undefined when the client is gone and nothing should be written.
 */
export function clientErrorAnswer(err: Error & { code?: string }): ClientErrorAnswer | undefined {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'NV_GATEWAY_REQUEST_TIMEOUT', message: 'the request was not sent in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'NV_GATEWAY_HEADERS_TOO_LARGE', message: 'the request line and headers are larger than the gateway accepts' };
    default:
      return { status: 400, code: 'NV_GATEWAY_BAD_REQUEST', message: `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})` };
  }
}
