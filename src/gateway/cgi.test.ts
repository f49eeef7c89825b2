import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNanovisorError } from '../shared/errors.ts';
import { cgiEnv, parseCgiResponse, parseHostHeader, routeMatches, scriptName, splitTarget, type CgiRequest } from './cgi.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function req(over: Partial<CgiRequest> = {}): CgiRequest {
  return {
    method: 'GET',
    url: '/',
    headers: {},
    remoteAddress: '10.0.0.7',
    serverName: 'gateway.local',
    serverPort: 8080,
    protocol: 'HTTP/1.1',
    route: '/',
    contentLength: 0,
    ...over,
  };
}

function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isNanovisorError(e), `not a NanovisorError: ${String(e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('routeMatches: prefix on segment boundaries; / matches everything', () => {
  assert.ok(routeMatches('/api', '/api'));
  assert.ok(routeMatches('/api', '/api/'));
  assert.ok(routeMatches('/api', '/api/x/y'));
  assert.ok(!routeMatches('/api', '/apix'));
  assert.ok(!routeMatches('/api', '/'));
  assert.ok(routeMatches('/api/', '/api/x'));
  assert.ok(routeMatches('/api/', '/api'));
  assert.ok(routeMatches('/', '/'));
  assert.ok(routeMatches('/', '/anything/at/all'));
  assert.equal(scriptName('/'), '');
  assert.equal(scriptName('/api/'), '/api');
  assert.equal(scriptName('/api'), '/api');
});

test('splitTarget and parseHostHeader', () => {
  assert.deepEqual(splitTarget('/a/b?x=1&y=2'), { path: '/a/b', query: 'x=1&y=2' });
  assert.deepEqual(splitTarget('/a?'), { path: '/a', query: '' });
  assert.deepEqual(splitTarget('/a?q=1?2#frag'), { path: '/a', query: 'q=1?2' });
  assert.deepEqual(splitTarget('/a'), { path: '/a', query: '' });
  assert.deepEqual(parseHostHeader('Example.COM:8443'), { name: 'example.com', port: 8443 });
  assert.deepEqual(parseHostHeader('example.com'), { name: 'example.com' });
  assert.deepEqual(parseHostHeader('[::1]:9000'), { name: '[::1]', port: 9000 });
  assert.equal(parseHostHeader('a b'), undefined);
  assert.equal(parseHostHeader('x:99999'), undefined);
  assert.equal(parseHostHeader('x:0'), undefined);
  assert.equal(parseHostHeader(''), undefined);
});

test('cgiEnv: the RFC 3875 variables and the WAGI extensions', () => {
  const env = cgiEnv(req({
    method: 'POST',
    url: '/api/items/a%20b?id=3&x=%41',
    route: '/api',
    contentLength: 11,
    headers: { host: 'example.com:9000', 'content-type': 'text/plain', 'content-length': '11', 'user-agent': 'test/1' },
  }));
  assert.deepEqual(env, {
    AUTH_TYPE: '',
    CONTENT_LENGTH: '11',
    CONTENT_TYPE: 'text/plain',
    GATEWAY_INTERFACE: 'CGI/1.1',
    PATH_INFO: '/items/a b',
    PATH_TRANSLATED: '/items/a b',
    QUERY_STRING: 'id=3&x=%41',
    REMOTE_ADDR: '10.0.0.7',
    REMOTE_HOST: '10.0.0.7',
    REMOTE_USER: '',
    REQUEST_METHOD: 'POST',
    SCRIPT_NAME: '/api',
    SERVER_NAME: 'example.com',
    SERVER_PORT: '9000',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'nanovisor',
    X_MATCHED_ROUTE: '/api',
    X_RAW_PATH_INFO: '/items/a%20b',
    X_FULL_URL: 'http://example.com:9000/api/items/a%20b?id=3&x=%41',
    HTTP_HOST: 'example.com:9000',
    HTTP_USER_AGENT: 'test/1',
  });
});

test('cgiEnv: route / gives an empty SCRIPT_NAME and the whole path as PATH_INFO', () => {
  const env = cgiEnv(req({ url: '/x/y', route: '/' }));
  assert.equal(env['SCRIPT_NAME'], '');
  assert.equal(env['PATH_INFO'], '/x/y');
  assert.equal(env['X_MATCHED_ROUTE'], '/');
});

test('cgiEnv: exact route match gives an empty PATH_INFO; trailing-slash routes keep the slash in PATH_INFO', () => {
  assert.equal(cgiEnv(req({ url: '/api', route: '/api' }))['PATH_INFO'], '');
  const e = cgiEnv(req({ url: '/api/', route: '/api/' }));
  assert.equal(e['SCRIPT_NAME'], '/api');
  assert.equal(e['PATH_INFO'], '/');
});

test('cgiEnv: without a usable Host header, SERVER_NAME and SERVER_PORT come from the listener', () => {
  for (const host of [undefined, 'bad host', 'x:0']) {
    const env = cgiEnv(req({ headers: host === undefined ? {} : { host } }));
    assert.equal(env['SERVER_NAME'], 'gateway.local');
    assert.equal(env['SERVER_PORT'], '8080');
  }
  const env = cgiEnv(req({ headers: { host: 'only-name' } }));
  assert.equal(env['SERVER_NAME'], 'only-name');
  assert.equal(env['SERVER_PORT'], '8080');
  assert.equal(env['X_FULL_URL'], 'http://only-name:8080/');
  assert.equal(cgiEnv(req({ scheme: 'https', headers: { host: 'h:1' } }))['X_FULL_URL'], 'https://h:1/');
  assert.equal(cgiEnv(req({ serverName: '::1' }))['X_FULL_URL'], 'http://[::1]:8080/');
});

test('cgiEnv: HTTP_* from headers: upper case, - to _, arrays joined', () => {
  const env = cgiEnv(req({ headers: { 'x-custom-thing': 'v', accept: ['a', 'b'], authorization: 'Bearer t', cookie: 'a=1; b=2' } }));
  assert.equal(env['HTTP_X_CUSTOM_THING'], 'v');
  assert.equal(env['HTTP_ACCEPT'], 'a, b');
  assert.equal(env['HTTP_AUTHORIZATION'], 'Bearer t');
  assert.equal(env['HTTP_COOKIE'], 'a=1; b=2');
});

test('cgiEnv: httpoxy — a Proxy header never becomes HTTP_PROXY', () => {
  const env = cgiEnv(req({ headers: { proxy: 'http://evil:1', 'proxy-authorization': 'x' } }));
  assert.equal(env['HTTP_PROXY'], undefined);
  assert.equal(env['HTTP_PROXY_AUTHORIZATION'], undefined);
});

test('cgiEnv: hop-by-hop and content headers are not HTTP_* variables', () => {
  const env = cgiEnv(req({
    headers: {
      connection: 'keep-alive', 'keep-alive': 'timeout=5', te: 'trailers', trailer: 'x', 'transfer-encoding': 'chunked',
      upgrade: 'h2c', 'proxy-connection': 'x', 'content-type': 'a/b', 'content-length': '5',
    },
  }));
  assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('HTTP_')), []);
  assert.equal(env['CONTENT_TYPE'], 'a/b');
});

test('cgiEnv: header names that are not valid env names, or carry _, are dropped', () => {
  const env = cgiEnv(req({ headers: { 'x_forwarded_for': 'spoofed', 'x.dotted': 'v', 'x!bang': 'v', 'x-ok': 'fine', 'x-nul': 'a\0b' } }));
  assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('HTTP_')), ['HTTP_X_OK']);
});

test('cgiEnv: app env is kept, but never overrides the CGI variables', () => {
  const env = cgiEnv(req({ url: '/p' }), { LANG: 'C', PATH_INFO: '/evil', REQUEST_METHOD: 'NOPE' });
  assert.equal(env['LANG'], 'C');
  assert.equal(env['PATH_INFO'], '/p');
  assert.equal(env['REQUEST_METHOD'], 'GET');
  // A header cannot override them either.
  const env2 = cgiEnv(req({ headers: { 'gateway-interface': 'x' } }));
  assert.equal(env2['GATEWAY_INTERFACE'], 'CGI/1.1');
  assert.equal(env2['HTTP_GATEWAY_INTERFACE'], 'x');
});

test('cgiEnv: bad percent-encoding, %00 and a path outside the route are NV_CGI_REQUEST_INVALID', () => {
  throwsCode(() => cgiEnv(req({ url: '/a%zz' })), 'NV_CGI_REQUEST_INVALID', /percent/);
  throwsCode(() => cgiEnv(req({ url: '/a%00b' })), 'NV_CGI_REQUEST_INVALID', /NUL/);
  throwsCode(() => cgiEnv(req({ url: '/other', route: '/api' })), 'NV_CGI_REQUEST_INVALID', /route/);
});

test('parseCgiResponse: headers, blank line, body; no Status means 200', () => {
  const r = parseCgiResponse(enc('Content-Type: text/plain\nX-A: 1\n\nhello\n\nworld'));
  assert.equal(r.status, 200);
  assert.equal(r.statusText, undefined);
  assert.deepEqual(r.headers, [['Content-Type', 'text/plain'], ['X-A', '1']]);
  assert.equal(dec(r.body), 'hello\n\nworld');
});

test('parseCgiResponse: CRLF line ends, and mixed ones', () => {
  const r = parseCgiResponse(enc('Content-Type: text/html\r\nX-B:  spaced  \r\n\r\n<p>'));
  assert.deepEqual(r.headers, [['Content-Type', 'text/html'], ['X-B', 'spaced']]);
  assert.equal(dec(r.body), '<p>');
  assert.equal(dec(parseCgiResponse(enc('A: 1\r\n\nbody')).body), 'body');
  assert.equal(dec(parseCgiResponse(enc('A: 1\n\r\nbody')).body), 'body');
});

test('parseCgiResponse: Status sets the status and reason phrase', () => {
  const r = parseCgiResponse(enc('Status: 404 Not Found\nContent-Type: text/plain\n\nnope'));
  assert.equal(r.status, 404);
  assert.equal(r.statusText, 'Not Found');
  assert.deepEqual(r.headers, [['Content-Type', 'text/plain']]);
  const bare = parseCgiResponse(enc('status:201\n\n'));
  assert.equal(bare.status, 201);
  assert.equal(bare.statusText, undefined);
});

test('parseCgiResponse: Location without Status is a 302; with Status it keeps the Status', () => {
  const r = parseCgiResponse(enc('Location: https://example.com/\n\n'));
  assert.equal(r.status, 302);
  assert.deepEqual(r.headers, [['Location', 'https://example.com/']]);
  assert.equal(parseCgiResponse(enc('Location: /x\nStatus: 301 Moved Permanently\n\n')).status, 301);
});

test('parseCgiResponse: an empty header section is a 200 with the rest as body', () => {
  const r = parseCgiResponse(enc('\nbody'));
  assert.equal(r.status, 200);
  assert.deepEqual(r.headers, []);
  assert.equal(dec(r.body), 'body');
  assert.equal(dec(parseCgiResponse(enc('\r\nbody')).body), 'body');
});

test('parseCgiResponse: repeated headers stay repeated (Set-Cookie)', () => {
  const r = parseCgiResponse(enc('Set-Cookie: a=1\nSet-Cookie: b=2\n\n'));
  assert.deepEqual(r.headers, [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
});

test('parseCgiResponse: binary bodies are passed through byte for byte', () => {
  const head = enc('Content-Type: application/octet-stream\n\n');
  const bytes = new Uint8Array(256).map((_, i) => i);
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head);
  out.set(bytes, head.length);
  assert.deepEqual(parseCgiResponse(out).body, bytes);
});

test('parseCgiResponse: a matching Content-Length is accepted (and left to the gateway); a wrong one is not', () => {
  const r = parseCgiResponse(enc('Content-Length: 3\n\nabc'));
  assert.deepEqual(r.headers, []);
  throwsCode(() => parseCgiResponse(enc('Content-Length: 4\n\nabc')), 'NV_CGI_RESPONSE_INVALID', /Content-Length/);
  throwsCode(() => parseCgiResponse(enc('Content-Length: -3\n\nabc')), 'NV_CGI_RESPONSE_INVALID', /Content-Length/);
});

test('parseCgiResponse: malformed output is NV_CGI_RESPONSE_INVALID', () => {
  const cases: [string, RegExp][] = [
    ['', /blank line/],
    ['hello world', /blank line/],
    ['Content-Type: text/plain\nbody without blank line', /blank line/],
    ['no colon here\n\n', /line 1/],
    [': empty name\n\n', /line 1/],
    ['Bad Name: x\n\n', /field name/],
    ['Status: abc\n\n', /Status/],
    ['Status: 99\n\n', /Status/],
    ['Status: 1000\n\n', /Status/],
    ['Status: 100 Continue\n\n', /200\.\.599/],
    ['Status: 600\n\n', /200\.\.599/],
    ['Status: 200\nStatus: 404\n\n', /twice/],
    ['Transfer-Encoding: chunked\n\n', /hop-by-hop/],
    ['Connection: close\n\n', /hop-by-hop/],
    ['keep-alive: 5\n\n', /hop-by-hop/],
    ['Upgrade: websocket\n\n', /hop-by-hop/],
    ['X-A: a\x01b\n\n', /control/],
    ['Location:\n\n', /Location/],
    ['Status: 204\n\nbody', /204/],
  ];
  for (const [out, message] of cases) {
    throwsCode(() => parseCgiResponse(enc(out)), 'NV_CGI_RESPONSE_INVALID', message);
  }
});

test('parseCgiResponse: the header section has a size limit', () => {
  const big = `X-Big: ${'a'.repeat(200)}\n\nbody`;
  throwsCode(() => parseCgiResponse(enc(big), { maxHeaderBytes: 100 }), 'NV_CGI_RESPONSE_INVALID', /100 bytes/);
  assert.equal(dec(parseCgiResponse(enc(big), { maxHeaderBytes: 1000 }).body), 'body');
  throwsCode(() => parseCgiResponse(enc('x'.repeat(500)), { maxHeaderBytes: 100 }), 'NV_CGI_RESPONSE_INVALID', /within 100 bytes/);
});
