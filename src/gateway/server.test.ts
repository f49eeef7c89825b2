// The gateway end to end over real sockets: a C CGI program compiled here for wasm32-wasi
// (clang + wasi-libc) is served with a fresh Nano-VM per request and called with a real
// node:http client. Its PATH_INFO picks a behaviour: echo, status, redirect, trap, spin,
// non-zero exit, huge output, malformed CGI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { InProcessHost, prepareModule, type HostRunOptions, type RunResult, type VmHandle, type VmHost } from '../host/index.ts';
import { isNanovisorError } from '../shared/errors.ts';
import { compileRoutes, createGateway, matchRoute, type Gateway, type GatewayApp, type RequestRecord } from './server.ts';

const GUEST_C = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
extern char **environ;

static const char *env(const char *k) { const char *v = getenv(k); return v ? v : ""; }

int main(void) {
  const char *path = env("PATH_INFO");
  if (strcmp(path, "/trap") == 0) __builtin_trap();
  if (strcmp(path, "/spin") == 0) { volatile unsigned long n = 0; for (;;) n++; }
  if (strcmp(path, "/exit") == 0) { fprintf(stderr, "something went wrong\n"); return 3; }
  if (strcmp(path, "/bad") == 0) { printf("this is not a CGI response"); return 0; }
  if (strcmp(path, "/hop") == 0) { printf("Transfer-Encoding: chunked\n\nx"); return 0; }
  if (strcmp(path, "/big") == 0) {
    printf("Content-Type: text/plain\n\n");
    for (int i = 0; i < 100000; i++) fputs("0123456789abcdef", stdout);
    return 0;
  }
  if (strcmp(path, "/status") == 0) { printf("Status: 418 I'm a teapot\nContent-Type: text/plain\nX-Request-Id: forged\n\nshort and stout"); return 0; }
  if (strcmp(path, "/redirect") == 0) { printf("Location: https://example.com/\n\n"); return 0; }
  if (strcmp(path, "/cookies") == 0) { printf("Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"); return 0; }
  /* Echo: every env var, one per line, then the body from stdin. */
  printf("Content-Type: text/plain\nX-Echo: yes\n\n");
  for (char **e = environ; *e; e++) printf("%s\n", *e);
  printf("--body--\n");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
  return 0;
}
`;

let dir: string;
let prepared: VmHandle;
const host = new InProcessHost();

/** A host whose runs are the test's function (for what a real guest cannot do on cue). */
function hostRunning(run: (h: VmHandle, o: HostRunOptions) => RunResult | Promise<RunResult>): VmHost {
  return {
    load: () => Promise.reject(new Error('not used')),
    run: async (h, o = {}) => run(h, o),
    unload: async () => {},
    stats: () => host.stats(),
    close: async () => {},
  };
}
let gw: Gateway;
let port: number;
const records: RequestRecord[] = [];

interface Reply { status: number; statusText: string; headers: Record<string, string | string[] | undefined>; body: string }

function call(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; port?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: init.port ?? port, path, method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

function envOf(body: string): Record<string, string> {
  const head = body.slice(0, body.indexOf('--body--\n'));
  return Object.fromEntries(head.split('\n').filter((l) => l !== '').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

function bodyOf(body: string): string {
  return body.slice(body.indexOf('--body--\n') + '--body--\n'.length);
}

function apps(p: VmHandle): GatewayApp[] {
  return [
    { name: 'echo', routes: [{ path: '/echo' }], handle: p, options: { env: { APP_SETTING: 'on' }, timeoutMs: 1000, maxOutputBytes: 256 * 1024 }, maxBodyBytes: 1000 },
    { name: 'root', routes: [{ path: '/' }], handle: p, options: { timeoutMs: 2000 } },
    { name: 'echo-deep', routes: [{ path: '/echo/deep' }], handle: p },
    { name: 'hosted', routes: [{ path: '/echo', host: 'tenant.example' }], handle: p },
    { name: 'by-method', routes: [{ path: '/read', methods: ['GET'] }, { path: '/write', methods: ['POST', 'PUT'] }], handle: p },
  ];
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nv-gateway-'));
  writeFileSync(join(dir, 'cgi.c'), GUEST_C);
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-Wl,--strip-all', '-o', join(dir, 'cgi.wasm'), join(dir, 'cgi.c')]);
  prepared = host.adopt(prepareModule(readFileSync(join(dir, 'cgi.wasm'))));
});

before(async () => {
  gw = createGateway({ host, apps: apps(prepared), onRequest: (r) => records.push(r) });
  port = (await gw.listen(0)).port;
});

after(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

test('echo: CGI variables, app env, body on stdin, guest headers, request id', async () => {
  const r = await call('/echo/some/where?x=1&y=%20', { method: 'POST', headers: { 'content-type': 'text/plain', 'x-custom': 'abc', proxy: 'http://evil' }, body: 'hello body' });
  assert.equal(r.status, 200);
  assert.equal(r.statusText, 'OK', 'the standard reason phrase when the guest gives none');
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.equal(r.headers['x-echo'], 'yes');
  const id = r.headers['x-request-id'];
  assert.equal(typeof id, 'string');
  const env = envOf(r.body);
  assert.equal(env['REQUEST_METHOD'], 'POST');
  assert.equal(env['SCRIPT_NAME'], '/echo');
  assert.equal(env['PATH_INFO'], '/some/where');
  assert.equal(env['X_RAW_PATH_INFO'], '/some/where');
  assert.equal(env['X_MATCHED_ROUTE'], '/echo');
  assert.equal(env['QUERY_STRING'], 'x=1&y=%20');
  assert.equal(env['CONTENT_LENGTH'], '10');
  assert.equal(env['CONTENT_TYPE'], 'text/plain');
  assert.equal(env['GATEWAY_INTERFACE'], 'CGI/1.1');
  assert.equal(env['SERVER_PROTOCOL'], 'HTTP/1.1');
  assert.equal(env['SERVER_NAME'], '127.0.0.1');
  assert.equal(env['SERVER_PORT'], String(port));
  assert.equal(env['REMOTE_ADDR'], '127.0.0.1');
  assert.equal(env['HTTP_X_CUSTOM'], 'abc');
  assert.equal(env['HTTP_PROXY'], undefined);
  assert.equal(env['APP_SETTING'], 'on');
  assert.equal(env['X_REQUEST_ID'], id);
  assert.equal(env['X_FULL_URL'], `http://127.0.0.1:${port}/echo/some/where?x=1&y=%20`);
  assert.equal(bodyOf(r.body), 'hello body');
});

test('every response carries a distinct x-request-id', async () => {
  const replies = await Promise.all([call('/echo'), call('/nowhere-special'), call('/echo/trap'), call('/echo', { method: 'POST', body: 'x'.repeat(2000) })]);
  const ids = replies.map((r) => r.headers['x-request-id']);
  for (const id of ids) assert.match(String(id), /^[0-9a-f]{10}-[0-9a-z]{6,}$/);
  assert.equal(new Set(ids).size, ids.length);
});

test('a guest cannot forge x-request-id; Status sets code and reason', async () => {
  const r = await call('/echo/status');
  assert.equal(r.status, 418);
  assert.equal(r.statusText, "I'm a teapot");
  assert.equal(r.body, 'short and stout');
  assert.notEqual(r.headers['x-request-id'], 'forged');
  assert.equal(r.headers['content-length'], String('short and stout'.length));
});

test('Location without Status is a 302; repeated headers stay repeated', async () => {
  const r = await call('/echo/redirect');
  assert.equal(r.status, 302);
  assert.equal(r.headers['location'], 'https://example.com/');
  const c = await call('/echo/cookies');
  assert.deepEqual(c.headers['set-cookie'], ['a=1', 'b=2']);
});

test('routing: longest prefix wins, then any-host routes; segment boundaries respected', async () => {
  const deep = envOf((await call('/echo/deep/x')).body);
  assert.equal(deep['X_MATCHED_ROUTE'], '/echo/deep');
  assert.equal(deep['PATH_INFO'], '/x');
  const notDeep = envOf((await call('/echo/deeper')).body);
  assert.equal(notDeep['X_MATCHED_ROUTE'], '/echo');
  const root = envOf((await call('/echoes')).body);
  assert.equal(root['X_MATCHED_ROUTE'], '/');
  assert.equal(root['SCRIPT_NAME'], '');
  assert.equal(root['PATH_INFO'], '/echoes');
  const hosted = envOf((await call('/echo/x', { headers: { host: 'Tenant.Example:8080' } })).body);
  assert.equal(hosted['APP_SETTING'], undefined, 'routed to the host-specific app');
  assert.equal(hosted['SERVER_NAME'], 'tenant.example');
  assert.equal(hosted['SERVER_PORT'], '8080');
  const otherHost = envOf((await call('/echo/x', { headers: { host: 'other.example' } })).body);
  assert.equal(otherHost['APP_SETTING'], 'on');
});

test('404 when no route matches', async () => {
  const g = createGateway({ host, apps: [{ name: 'a', routes: [{ path: '/a' }], handle: prepared }] });
  const { port: p } = await g.listen(0);
  try {
    const r = await call('/b', { port: p });
    assert.equal(r.status, 404);
    assert.match(r.body, /no app is routed/);
    assert.match(r.body, new RegExp(String(r.headers['x-request-id'])));
    assert.equal((await call('/a/x', { port: p })).status, 200);
  } finally {
    await g.close();
  }
});

test('413 for a body over the limit: declared by Content-Length, or streamed chunked', async () => {
  const r = await call('/echo', { method: 'POST', body: 'x'.repeat(1001) });
  assert.equal(r.status, 413);
  assert.ok(r.headers['x-request-id']);
  const chunked = await new Promise<Reply>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/echo', method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, statusText: '', headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    for (let i = 0; i < 5; i++) req.write('y'.repeat(300));
    req.end();
  });
  assert.equal(chunked.status, 413);
  const ok = await call('/echo', { method: 'POST', body: 'x'.repeat(1000) });
  assert.equal(ok.status, 200);
  assert.equal(bodyOf(ok.body).length, 1000);
});

test('502 with the request id when the guest traps; the next request is served', async () => {
  const before = records.length;
  const r = await call('/echo/trap');
  assert.equal(r.status, 502);
  const id = String(r.headers['x-request-id']);
  assert.match(r.body, /crashed \(NV_GUEST_TRAP\)/);
  assert.ok(r.body.includes(id));
  const rec = records.slice(before).find((x) => x.requestId === id);
  assert.equal(rec?.outcome, 'trap');
  assert.equal(rec?.errorCode, 'NV_GUEST_TRAP');
  assert.equal((await call('/echo')).status, 200);
});

test('502 when the guest exits non-zero; its stderr is in the request record', async () => {
  const r = await call('/echo/exit');
  assert.equal(r.status, 502);
  assert.match(r.body, /exited with code 3 \(NV_GUEST_EXIT\)/);
  const rec = records.find((x) => x.requestId === r.headers['x-request-id']);
  assert.equal(rec?.exitCode, 3);
  assert.equal(rec?.stderr, 'something went wrong\n');
});

test('502 for malformed CGI output and for hop-by-hop headers', async () => {
  for (const path of ['/echo/bad', '/echo/hop']) {
    const r = await call(path);
    assert.equal(r.status, 502, path);
    assert.match(r.body, /invalid CGI response \(NV_CGI_RESPONSE_INVALID\)/);
  }
});

test('502 when the response is larger than maxOutputBytes', async () => {
  const r = await call('/echo/big');
  assert.equal(r.status, 502);
  assert.match(r.body, /NV_GUEST_OUTPUT_LIMIT/);
  // The same guest under a route without that limit answers in full.
  const full = await call('/big');
  assert.equal(full.status, 200);
  assert.equal(full.body.length, 1_600_000);
});

test('504 when the guest runs past its time limit; the gateway keeps serving', async () => {
  const t = performance.now();
  const r = await call('/echo/spin');
  assert.equal(r.status, 504);
  assert.match(r.body, /did not answer in time \(NV_GUEST_TIMEOUT\)/);
  assert.ok(performance.now() - t < 10_000);
  assert.equal((await call('/echo')).status, 200);
});

test('400 for a path that does not percent-decode', async () => {
  const r = await call('/echo/%zz');
  assert.equal(r.status, 400);
  assert.match(r.body, /percent-encoding/);
});

test('HEAD gets the headers without a body', async () => {
  const r = await call('/echo', { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.ok(Number(r.headers['content-length']) > 0);
});

test('a VM that cannot boot is a 502 naming the error code; a runner fault of ours is 500', async () => {
  const bad = host.adopt(prepareModule(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])));
  const calls: string[] = [];
  const g = createGateway({
    apps: [
      { name: 'nomem', routes: [{ path: '/nomem' }], handle: bad },
      { name: 'boom', routes: [{ path: '/boom' }], handle: prepared },
    ],
    host: hostRunning((p, o): RunResult => {
      calls.push(String(o.args?.[0]));
      if (p === prepared) throw new Error('runner exploded');
      throw Object.assign(new Error('no memory'), { code: 'NV_MODULE_BAD_MEMORY' });
    }),
  });
  const { port: p } = await g.listen(0);
  try {
    const r = await call('/nomem', { port: p });
    assert.equal(r.status, 502);
    assert.match(r.body, /NV_MODULE_BAD_MEMORY/);
    const r2 = await call('/boom', { port: p });
    assert.equal(r2.status, 500);
    assert.match(r2.body, /NV_HOST_FAULT/);
    assert.deepEqual(calls, ['nomem', 'boom']);
  } finally {
    await g.close();
  }
});

test('the runner is swappable and may be async; it gets the app options and the CGI env', async () => {
  let seen: { timeoutMs?: number; env?: Record<string, string>; stdin?: unknown } = {};
  const g = createGateway({
    apps: [{ name: 'a', routes: [{ path: '/' }], handle: prepared, options: { timeoutMs: 123, env: { K: 'v' } } }],
    host: hostRunning(async (_p, o) => {
      seen = { timeoutMs: o.timeoutMs, env: o.env as Record<string, string>, stdin: o.stdin };
      await new Promise((r) => setTimeout(r, 5));
      return { outcome: 'exit', exitCode: 0, stdout: new TextEncoder().encode('Content-Type: text/plain\n\nfrom runner'), stderr: new Uint8Array(), durationMs: 0 };
    }),
  });
  const { port: p } = await g.listen(0);
  try {
    const r = await call('/x', { port: p, method: 'POST', body: 'abc' });
    assert.equal(r.body, 'from runner');
    assert.equal(seen.timeoutMs, 123);
    assert.equal(seen.env?.['K'], 'v');
    assert.equal(seen.env?.['PATH_INFO'], '/x');
    assert.equal(Buffer.from(seen.stdin as Uint8Array).toString(), 'abc');
  } finally {
    await g.close();
  }
});

test('timeoutMs: 30 s by default, Infinity for none', async () => {
  const seen: (number | undefined)[] = [];
  const g = createGateway({
    apps: [
      { name: 'a', routes: [{ path: '/a' }], handle: prepared },
      { name: 'b', routes: [{ path: '/b' }], handle: prepared, options: { timeoutMs: Infinity } },
    ],
    host: hostRunning((_p, o) => {
      seen.push(o.timeoutMs);
      return { outcome: 'exit', exitCode: 0, stdout: new TextEncoder().encode('\n'), stderr: new Uint8Array(), durationMs: 0 };
    }),
  });
  const { port: p } = await g.listen(0);
  try {
    await call('/a', { port: p });
    await call('/b', { port: p });
    assert.deepEqual(seen, [30_000, undefined]);
  } finally {
    await g.close();
  }
});

test('routes[].methods: a listed method is served, another is 405 with Allow and a request id; HEAD goes with GET', async () => {
  assert.equal((await call('/read/x')).status, 200);
  assert.equal((await call('/read/x', { method: 'HEAD' })).status, 200, 'HEAD is served where GET is');
  const put = await call('/read/x', { method: 'PUT', body: 'data' });
  assert.equal(put.status, 405);
  assert.equal(put.statusText, 'Method Not Allowed');
  assert.equal(put.headers['allow'], 'GET, HEAD');
  assert.equal(typeof put.headers['x-request-id'], 'string');
  assert.match(put.body, /serves \/read only for GET, HEAD, not PUT/);
  const rec = records.find((x) => x.requestId === put.headers['x-request-id']);
  assert.equal(rec?.status, 405);
  assert.equal(rec?.errorCode, 'NV_GATEWAY_METHOD_NOT_ALLOWED');
  assert.equal(rec?.outcome, undefined, 'no VM ran');
  assert.equal((await call('/write', { method: 'PUT', body: 'x' })).status, 200);
  assert.equal((await call('/write', { method: 'POST', body: 'x' })).status, 200);
  const get = await call('/write');
  assert.equal(get.status, 405);
  assert.equal(get.headers['allow'], 'POST, PUT', 'no HEAD without GET');
  assert.equal((await call('/write', { method: 'HEAD' })).status, 405);
  // The connection stays usable after a 405 with a body: the next request is served.
  assert.equal((await call('/read')).status, 200);
});

/** Sends `data` on a fresh TCP connection and resolves with everything the server wrote until it closed. */
function rawExchange(data: string, p = port): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(p, '127.0.0.1', () => c.write(data));
    let out = '';
    c.setEncoding('latin1');
    c.on('data', (d: string) => (out += d));
    c.on('close', () => resolve(out));
    c.on('error', reject);
  });
}

function rawHead(text: string): { status: number; headers: Map<string, string[]>; body: string } {
  const end = text.indexOf('\r\n\r\n');
  assert.ok(end > 0, `a whole response head: ${JSON.stringify(text)}`);
  const [line, ...fields] = text.slice(0, end).split('\r\n');
  const headers = new Map<string, string[]>();
  for (const f of fields) {
    const name = f.slice(0, f.indexOf(':')).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), f.slice(f.indexOf(':') + 1).trim()]);
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(line!)?.[1]), headers, body: text.slice(end + 4) };
}

test('RFC 9112 over raw sockets: HTTP/0.9, two Host headers, no Host on 1.1, HTTP/2.0 on the wire: refused, each with a request id', async () => {
  const cases: [string, number, RegExp][] = [
    ['GET /echo\r\n\r\n', 400, /no HTTP version \(HTTP\/0\.9/],
    ['GET /echo HTTP/1.1\r\nHost: a.example\r\nHost: tenant.example\r\n\r\n', 400, /2 Host headers/],
    ['GET /echo HTTP/1.1\r\nhost: a.example\r\nHOST: a.example\r\n\r\n', 400, /2 Host headers/],
    ['GET /echo HTTP/1.1\r\n\r\n', 400, /needs a Host header/],
    ['GET /echo HTTP/2.0\r\nHost: a\r\n\r\n', 505, /HTTP\/2\.0 is not served/],
  ];
  for (const [request, status, message] of cases) {
    const r = rawHead(await rawExchange(request));
    assert.equal(r.status, status, request);
    const id = r.headers.get('x-request-id');
    assert.equal(id?.length, 1, `one x-request-id for ${JSON.stringify(request)}`);
    assert.match(r.body, message);
    assert.ok(r.body.includes(id![0]!));
    assert.deepEqual(r.headers.get('connection'), ['close']);
    const rec = records.find((x) => x.requestId === id![0]);
    assert.equal(rec?.errorCode, 'NV_GATEWAY_BAD_REQUEST');
    assert.equal(rec?.outcome, undefined, 'no VM ran');
  }
  // HTTP/1.0 without Host is still served, and so is one Host.
  assert.equal(rawHead(await rawExchange('GET /echo HTTP/1.0\r\n\r\n')).status, 200);
  assert.equal(rawHead(await rawExchange('GET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).status, 200);
});

test('the 400s node:http makes itself (unparsable requests) carry x-request-id and are logged', async () => {
  for (const request of ['GARBAGE\r\n\r\n', 'GET /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx', 'GET /echo HTTP/1.1\r\nHost: a\r\nbad header\r\n\r\n']) {
    const r = rawHead(await rawExchange(request));
    assert.equal(r.status, 400, request);
    const id = r.headers.get('x-request-id')?.[0];
    assert.equal(typeof id, 'string', JSON.stringify(request));
    assert.match(r.body, /not valid HTTP\/1\.1 \(HPE_/);
    assert.equal(records.find((x) => x.requestId === id)?.errorCode, 'NV_GATEWAY_BAD_REQUEST');
  }
  // A bad request after a good one on the same keep-alive connection is answered too.
  const two = await rawExchange('GET /echo HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\r\n\r\n');
  const second = two.slice(two.indexOf('HTTP/1.1 400'));
  assert.ok(two.startsWith('HTTP/1.1 200'), two.slice(0, 40));
  assert.equal(rawHead(second).status, 400);
  assert.ok(rawHead(second).headers.get('x-request-id'));
});

test('setApps swaps the routing table atomically', async () => {
  const g = createGateway({ host, apps: [{ name: 'one', routes: [{ path: '/one' }], handle: prepared }] });
  const { port: p } = await g.listen(0);
  try {
    assert.equal((await call('/one', { port: p })).status, 200);
    g.setApps([{ name: 'two', routes: [{ path: '/two' }], handle: prepared }]);
    assert.equal((await call('/one', { port: p })).status, 404);
    assert.equal((await call('/two', { port: p })).status, 200);
    assert.throws(() => g.setApps([{ name: 'x', routes: [{ path: 'nope' }], handle: prepared }]), (e) => isNanovisorError(e, 'NV_GATEWAY_CONFIG_INVALID'));
    assert.equal((await call('/two', { port: p })).status, 200, 'a rejected update leaves the old table');
  } finally {
    await g.close();
  }
});

test('request records are published on nanovisor:gateway:request', async () => {
  const got: RequestRecord[] = [];
  const listener = (m: unknown) => got.push(m as RequestRecord);
  subscribe('nanovisor:gateway:request', listener);
  try {
    const r = await call('/echo');
    const rec = got.find((x) => x.requestId === r.headers['x-request-id']);
    assert.equal(rec?.app, 'echo');
    assert.equal(rec?.status, 200);
    assert.equal(rec?.outcome, 'exit');
    assert.ok((rec?.vmMs ?? -1) >= 0);
  } finally {
    unsubscribe('nanovisor:gateway:request', listener);
  }
});

test('compileRoutes rejects bad configurations with NV_GATEWAY_CONFIG_INVALID', () => {
  const bad: [GatewayApp[], RegExp][] = [
    [[{ name: '', routes: [{ path: '/' }], handle: prepared }], /name/],
    [[{ name: 'a', routes: [{ path: '/' }], handle: prepared }, { name: 'a', routes: [{ path: '/b' }], handle: prepared }], /two apps/],
    [[{ name: 'a', routes: [], handle: prepared }], /no routes/],
    [[{ name: 'a', routes: [{ path: 'x' }], handle: prepared }], /must start/],
    [[{ name: 'a', routes: [{ path: '/a b' }], handle: prepared }], /must start/],
    [[{ name: 'a', routes: [{ path: '/a?b' }], handle: prepared }], /must start/],
    [[{ name: 'a', routes: [{ path: '/', host: 'h:80' }], handle: prepared }], /without a port/],
    [[{ name: 'a', routes: [{ path: '/x' }], handle: prepared }, { name: 'b', routes: [{ path: '/x/' }], handle: prepared }], /claimed by both "a" and "b"/],
    [[{ name: 'a', routes: [{ path: '/x' }], handle: prepared, maxBodyBytes: -1 }], /maxBodyBytes/],
    [[{ name: 'a', routes: [{ path: '/x', methods: [] }], handle: prepared }], /methods must be a non-empty list/],
    [[{ name: 'a', routes: [{ path: '/x', methods: ['get'] }], handle: prepared }], /upper-case HTTP methods/],
    [[{ name: 'a', routes: [{ path: '/x', methods: ['GET POST'] }], handle: prepared }], /upper-case HTTP methods/],
    [[{ name: 'a', routes: [{ path: '/x' }], handle: prepared, maxBodyBytes: 256 * 1024 * 1024 + 1 }], /maxBodyBytes must be an integer from 0 to 268435456/],
  ];
  for (const [config, message] of bad) {
    assert.throws(() => compileRoutes(config), (e: unknown) => isNanovisorError(e, 'NV_GATEWAY_CONFIG_INVALID') && message.test((e as Error).message));
  }
  // The same path on different hosts is fine.
  compileRoutes([{ name: 'a', routes: [{ path: '/x' }], handle: prepared }, { name: 'b', routes: [{ path: '/x', host: 'b.example' }], handle: prepared }]);
});

test('matchRoute: host-specific routes first, then longest any-host prefix', () => {
  const router = compileRoutes([
    { name: 'any-root', routes: [{ path: '/' }], handle: prepared },
    { name: 'any-api', routes: [{ path: '/api' }], handle: prepared },
    { name: 'host-root', routes: [{ path: '/', host: 'h.example' }], handle: prepared },
  ]);
  assert.equal(matchRoute(router, 'h.example', '/api/x')?.app.name, 'host-root');
  assert.equal(matchRoute(router, 'H.EXAMPLE:99', '/z')?.app.name, 'host-root');
  assert.equal(matchRoute(router, 'other', '/api/x')?.app.name, 'any-api');
  assert.equal(matchRoute(router, undefined, '/apix')?.app.name, 'any-root');
  assert.equal(matchRoute(compileRoutes([{ name: 'a', routes: [{ path: '/a' }], handle: prepared }]), undefined, '/b'), undefined);
});

test('concurrency: a full app queues requests, and beyond its queue answers 503 with Retry-After', async () => {
  let running = 0;
  let most = 0;
  const releases: (() => void)[] = [];
  const g = createGateway({
    apps: [{ name: 'a', routes: [{ path: '/' }], handle: prepared, concurrency: 2, queue: 1 }],
    host: hostRunning(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => releases.push(r));
      running--;
      return { outcome: 'exit', exitCode: 0, stdout: new TextEncoder().encode('\nok'), stderr: new Uint8Array(), durationMs: 0 };
    }),
  });
  const { port: p } = await g.listen(0);
  try {
    const first = [call('/1', { port: p }), call('/2', { port: p }), call('/3', { port: p })];
    while (releases.length < 2 || Object.keys(g.queueDepth()).length === 0) await new Promise((r) => setTimeout(r, 2));
    assert.deepEqual(g.queueDepth(), { a: 1 });
    const over = await call('/4', { port: p });
    assert.equal(over.status, 503);
    assert.equal(over.headers['retry-after'], '1');
    assert.match(over.body, /concurrency limit of 2/);
    assert.ok(over.headers['x-request-id']);
    // Free the slots one by one: the queued request gets one.
    while (releases.length > 0 || running > 0) {
      releases.shift()?.();
      await new Promise((r) => setTimeout(r, 2));
    }
    const replies = await Promise.all(first);
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200]);
    assert.equal(most, 2);
    assert.deepEqual(g.queueDepth(), {});
  } finally {
    await g.close();
  }
});

test('concurrency: bad limits are refused by name', () => {
  assert.throws(() => compileRoutes([{ name: 'a', routes: [{ path: '/' }], handle: prepared, concurrency: 0 }]), /concurrency must be a positive integer/);
  assert.throws(() => compileRoutes([{ name: 'a', routes: [{ path: '/' }], handle: prepared, concurrency: 1, queue: -1 }]), /queue must be a non-negative integer/);
});
