// The dashboard's server side against a real daemon over real sockets: login into an
// HttpOnly SameSite=Strict session, the redirect without one, CSP and the other headers on
// every /ui answer, CSRF (forged cross-site changes refused), the session standing in for the
// bearer token on /v1 (but not for the token rotation), the overview and its time series,
// the live log over server-sent events, rotation ending every session, and the token in no
// answer and no log line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { runCli } from '../src/cli/main.ts';
import { tempDir } from '../src/image/testing.ts';

const data = tempDir('nv-ui-');
let d: Daemon;
let token: string;
const bodies: string[] = [];
const logLines: string[] = [];
/** Every token in force during the run. */
const tokens: string[] = [];

interface Reply { status: number; headers: Headers; text: string; json: any }

async function http(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const res = await fetch(`${d.apiUrl}${path}`, { method, redirect: 'manual', headers: init.headers ?? {}, ...(init.body === undefined ? {} : { body: init.body }) });
  const text = await res.text();
  bodies.push(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A request over its own socket from `localAddress` (any address of 127.0.0.0/8 reaches the daemon on 127.0.0.1). */
function httpFrom(localAddress: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${d.apiUrl}${path}`, { method, headers, localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => {
        bodies.push(text);
        resolve({ status: res.statusCode!, headers: res.headers, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function login(): Promise<{ cookie: string; csrf: string }> {
  const r = await http('POST', '/ui/api/login', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  assert.equal(r.status, 200, r.text);
  const set = r.headers.get('set-cookie')!;
  return { cookie: set.split(';')[0]!, csrf: r.json.csrf };
}

before(async () => {
  d = await startDaemon({
    dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, graceMs: 2000, shards: 1,
    log: (level, msg, fields) => logLines.push(JSON.stringify({ level, msg, ...fields })),
  });
  token = readFileSync(d.tokenFile, 'utf8').trim();
  tokens.push(token);
});

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
});

test('no session: pages redirect to the login page; API endpoints answer 401', async () => {
  for (const path of ['/ui/', '/ui/images', '/ui/token', '/ui/volumes', '/ui/volumes/counter', '/ui/apps/cgi-echo-c']) {
    const r = await http('GET', path);
    assert.equal(r.status, 303, path);
    assert.equal(r.headers.get('location'), '/ui/login');
    assert.ok(r.headers.get('content-security-policy'));
  }
  const root = await http('GET', '/ui');
  assert.equal(root.status, 308);
  assert.equal(root.headers.get('location'), '/ui/');
  for (const path of ['/ui/api/overview', '/ui/api/session', '/ui/api/apps/cgi-echo-c/series', '/ui/api/apps/cgi-echo-c/logs']) {
    assert.equal((await http('GET', path)).status, 401, path);
  }
  assert.equal((await http('GET', '/v1/apps', { headers: { cookie: 'nv_session=forged' } })).status, 401);
  assert.equal((await http('GET', '/ui/nope')).status, 404);
});

test('the login page and assets: a strict CSP, no inline script or style', async () => {
  const page = await http('GET', '/ui/login');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type')!, /text\/html/);
  const csp = page.headers.get('content-security-policy')!;
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) assert.ok(csp.includes(directive), directive);
  assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  // Every script has a src, there is no style element or attribute, no handler attribute.
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(page.text), 'inline script');
  assert.ok(!/<style|\sstyle=|\son[a-z]+=/i.test(page.text), 'inline style or handler');
  const js = await http('GET', '/ui/assets/app.js');
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type')!, /text\/javascript/);
  assert.ok(js.headers.get('content-security-policy'));
  const css = await http('GET', '/ui/assets/app.css');
  assert.match(css.headers.get('content-type')!, /text\/css/);
  assert.equal((await http('GET', '/ui/assets/nope.js')).status, 404);
  assert.equal((await http('GET', '/ui/assets/..%2F..%2Fpackage.json')).status, 404);
  assert.equal((await http('POST', '/ui/login')).status, 405);
});

test('login: a wrong token, another origin, or a form post is refused; the right one gives a session cookie', async () => {
  const wrong = await http('POST', '/ui/api/login', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'nvt_wrong' }) });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.error.code, 'NV_API_UNAUTHORIZED');
  assert.equal(wrong.headers.get('set-cookie')?.includes('Max-Age=0'), true);
  const cross = await http('POST', '/ui/api/login', { headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: JSON.stringify({ token }) });
  assert.equal(cross.status, 403);
  assert.equal(cross.json.error.code, 'NV_UI_CSRF');
  const site = await http('POST', '/ui/api/login', { headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, body: JSON.stringify({ token }) });
  assert.equal(site.status, 403);
  const form = await http('POST', '/ui/api/login', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${token}` });
  assert.equal(form.status, 415);
  const bad = await http('POST', '/ui/api/login', { headers: { 'content-type': 'application/json' }, body: '{' });
  assert.equal(bad.status, 400);

  const ok = await http('POST', '/ui/api/login', { headers: { 'content-type': 'application/json', origin: d.apiUrl, 'sec-fetch-site': 'same-origin' }, body: JSON.stringify({ token }) });
  assert.equal(ok.status, 200);
  const cookie = ok.headers.get('set-cookie')!;
  assert.match(cookie, /^nv_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
  assert.deepEqual(Object.keys(ok.json).sort(), ['csrf', 'expires']);
  const id = cookie.split(';')[0]!;
  const page = await http('GET', '/ui/', { headers: { cookie: id } });
  assert.equal(page.status, 200);
  assert.match(page.text, /<div id="root">/);
  const session = await http('GET', '/ui/api/session', { headers: { cookie: id } });
  assert.equal(session.json.csrf, ok.json.csrf);
});

test('CSRF: a change with the session cookie needs its X-CSRF-Token and the same origin', async () => {
  const { cookie, csrf } = await login();
  const body = JSON.stringify({ name: 'made-by-ui', routes: [{ path: '/made-by-ui' }] });
  const json = { 'content-type': 'application/json', cookie };
  // Reads need no CSRF token.
  const list = await http('GET', '/v1/apps', { headers: { cookie } });
  assert.equal(list.status, 200);
  assert.ok(list.json.some((a: { name: string }) => a.name === 'cgi-echo-c'));
  // A forged cross-site POST: the browser would add the cookie (were it not SameSite=Strict) but not the header.
  const forged = await http('POST', '/v1/apps', { headers: { ...json, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, body });
  assert.equal(forged.status, 403);
  assert.equal(forged.json.error.code, 'NV_UI_CSRF');
  const noHeader = await http('POST', '/v1/apps', { headers: json, body });
  assert.equal(noHeader.status, 403);
  const wrongHeader = await http('POST', '/v1/apps', { headers: { ...json, 'x-csrf-token': 'guess' }, body });
  assert.equal(wrongHeader.status, 403);
  const otherOrigin = await http('POST', '/v1/apps', { headers: { ...json, 'x-csrf-token': csrf, origin: 'http://evil.example' }, body });
  assert.equal(otherOrigin.status, 403);
  const textPlain = await http('POST', '/v1/apps', { headers: { cookie, 'content-type': 'text/plain' }, body });
  assert.equal(textPlain.status, 403);
  const del = await http('DELETE', '/v1/apps/cgi-echo-c', { headers: { cookie } });
  assert.equal(del.status, 403, 'DELETE is a change too');
  const logout = await http('POST', '/ui/api/logout', { headers: { cookie } });
  assert.equal(logout.status, 403);
  assert.equal((await http('GET', '/v1/apps', { headers: { cookie } })).json.length, 2, 'nothing was created or deleted');

  const made = await http('POST', '/v1/apps', { headers: { ...json, 'x-csrf-token': csrf, origin: d.apiUrl, 'sec-fetch-site': 'same-origin' }, body });
  assert.equal(made.status, 201, made.text);
  const gone = await http('DELETE', '/v1/apps/made-by-ui', { headers: { cookie, 'x-csrf-token': csrf } });
  assert.equal(gone.status, 204);
  // Bearer tokens work as before, with no CSRF token.
  assert.equal((await http('GET', '/v1/apps', { headers: { authorization: `Bearer ${token}` } })).status, 200);
  // The rotation answers with the new token: a session cannot call it.
  const rotate = await http('POST', '/v1/tokens/rotate', { headers: { cookie, 'x-csrf-token': csrf } });
  assert.equal(rotate.status, 401);
});

test('overview and series count a call to an app; the live log streams it as server-sent events', async () => {
  const { cookie } = await login();
  const before = await http('GET', '/ui/api/overview', { headers: { cookie } });
  assert.equal(before.status, 200);
  assert.equal(before.json.intervalMs, 10_000);
  assert.equal(before.json.capacity, 360);
  assert.deepEqual(before.json.apps.map((a: { name: string }) => a.name), ['cgi-echo-c', 'cgi-echo-rust']);
  assert.equal(before.json.shards.length, 1);
  assert.equal(before.json.shards[0].state, 'ready');
  assert.ok(before.json.shards[0].uptimeMs > 0, 'the shard says how long it has been up');
  assert.ok(before.json.shards[0].rssBytes > 0);
  const requestsBefore = before.json.series.reduce((n: number, p: { requests: number }) => n + p.requests, 0);

  // Open the stream, wait for its "ready" event, then call the app.
  const events: string[] = [];
  let onData: (() => void) | undefined;
  const req = httpRequest(`${d.apiUrl}/ui/api/apps/cgi-echo-c/logs`, { headers: { cookie } });
  const res = await new Promise<import('node:http').IncomingMessage>((r) => {
    req.on('response', r);
    req.end();
  });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type']!, /text\/event-stream/);
  assert.ok(res.headers['content-security-policy']);
  res.setEncoding('utf8');
  res.on('data', (c: string) => {
    events.push(c);
    onData?.();
  });
  const waitFor = (pred: () => boolean): Promise<void> => new Promise((r) => {
    const check = (): void => {
      if (pred()) r();
    };
    onData = check;
    check();
  });
  await waitFor(() => events.join('').includes('event: ready'));
  const call = await fetch(`${d.gatewayUrl}/echo-c/from-the-test`);
  const requestId = call.headers.get('x-request-id')!;
  await call.text();
  await waitFor(() => events.join('').includes(requestId));
  const text = events.join('');
  assert.match(text, /id: \d+\nevent: request\ndata: \{/);
  const entry = JSON.parse(/data: (\{.*"requestId":"[^"]*".*\})\n/.exec(text.slice(text.indexOf('event: ready')))![1]!);
  assert.equal(entry.requestId, requestId);
  assert.equal(entry.status, 200);
  req.destroy();

  const afterwards = await http('GET', '/ui/api/overview', { headers: { cookie } });
  const requestsAfter = afterwards.json.series.reduce((n: number, p: { requests: number }) => n + p.requests, 0);
  assert.ok(requestsAfter > requestsBefore, `${requestsAfter} > ${requestsBefore}`);
  const app = afterwards.json.apps.find((a: { name: string }) => a.name === 'cgi-echo-c');
  assert.ok(app.requestsPerSec > 0);
  assert.ok(app.p50Ms > 0);
  const series = await http('GET', '/ui/api/apps/cgi-echo-c/series', { headers: { cookie } });
  assert.ok(series.json.points.at(-1).requests >= 1);
  assert.equal((await http('GET', '/ui/api/apps/nope/series', { headers: { cookie } })).status, 404);
});

test('wrong tokens are throttled per address, at the login and on /v1 alike: 429 with Retry-After, the right token too, other addresses unaffected', async () => {
  const from = '127.0.0.2';
  const loginAs = (t: string) => httpFrom(from, 'POST', '/ui/api/login', { 'content-type': 'application/json' }, JSON.stringify({ token: t }));
  for (let i = 0; i < 6; i++) assert.equal((await loginAs(`nvt_guess${i}`)).status, 401);
  for (let i = 0; i < 4; i++) assert.equal((await httpFrom(from, 'GET', '/v1/apps', { authorization: `Bearer nvt_guess${i}` })).status, 401);
  // Ten wrong tokens: the eleventh attempt is refused before its token is compared.
  const throttled = await loginAs(token);
  assert.equal(throttled.status, 429, throttled.text);
  assert.equal(JSON.parse(throttled.text).error.code, 'NV_API_THROTTLED');
  assert.ok(Number(throttled.headers['retry-after']) >= 1, String(throttled.headers['retry-after']));
  assert.equal(throttled.headers['set-cookie'], undefined, 'no session');
  const api = await httpFrom(from, 'GET', '/v1/apps', { authorization: `Bearer ${token}` });
  assert.equal(api.status, 429);
  assert.ok(Number(api.headers['retry-after']) >= 1);
  assert.equal(JSON.parse(api.text).error.code, 'NV_API_THROTTLED');
  // Without a token nothing is guessed: a token-less call is answered as usual.
  assert.equal((await httpFrom(from, 'GET', '/v1/apps', {})).status, 401);
  // Another address logs in and calls the API as before.
  assert.equal((await httpFrom('127.0.0.3', 'POST', '/ui/api/login', { 'content-type': 'application/json' }, JSON.stringify({ token }))).status, 200);
  assert.equal((await http('GET', '/v1/apps', { headers: { authorization: `Bearer ${token}` } })).status, 200);
  assert.ok(logLines.every((l) => !l.includes('nvt_guess')), 'guesses are not logged');
});

test('over https (TLS, or a proxy that says X-Forwarded-Proto: https) the cookie is Secure; the proxy\'s X-Forwarded-Host is this origin', async () => {
  const viaProxy = await http('POST', '/ui/api/login', { headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'nv.example', origin: 'https://nv.example', 'sec-fetch-site': 'same-origin' }, body: JSON.stringify({ token }) });
  assert.equal(viaProxy.status, 200, viaProxy.text);
  assert.match(viaProxy.headers.get('set-cookie')!, /^nv_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/);
  const cookie = viaProxy.headers.get('set-cookie')!.split(';')[0]!;
  const out = await http('POST', '/ui/api/logout', { headers: { cookie, 'x-csrf-token': viaProxy.json.csrf, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'nv.example', origin: 'https://nv.example' } });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie')!, /Max-Age=0; Secure$/);
  // Without the proxy's header that origin is another site's.
  const noHost = await http('POST', '/ui/api/login', { headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https', origin: 'https://nv.example' }, body: JSON.stringify({ token }) });
  assert.equal(noHost.status, 403);
  // Plain http: no Secure (the browser would drop the cookie).
  assert.doesNotMatch((await login()).cookie, /Secure/);

  // The dashboard behind a real TLS listener (an embedder's https server).
  const dir = join(data.path, 'tls');
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const tls = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    if (!d.dashboard.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  try {
    const set = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: (tls.address() as AddressInfo).port, path: '/ui/api/login', method: 'POST', headers: { 'content-type': 'application/json' }, ca: readFileSync(join(dir, 'cert.pem')), servername: 'localhost', checkServerIdentity: () => undefined }, (res) => {
        res.resume();
        assert.equal(res.statusCode, 200);
        resolve(String(res.headers['set-cookie']));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ token }));
    });
    assert.match(set, /; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/);
  } finally {
    await new Promise((r) => tls.close(r));
  }
});

test('rotation ends every session (by the dashboard or by the API); logout ends one', async () => {
  const a = await login();
  const b = await login();
  const out = await http('POST', '/ui/api/logout', { headers: { cookie: a.cookie, 'x-csrf-token': a.csrf } });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
  assert.equal((await http('GET', '/ui/', { headers: { cookie: a.cookie } })).status, 303);
  assert.equal((await http('GET', '/ui/', { headers: { cookie: b.cookie } })).status, 200);

  const noCsrf = await http('POST', '/ui/api/token/rotate', { headers: { cookie: b.cookie } });
  assert.equal(noCsrf.status, 403);
  const rotated = await http('POST', '/ui/api/token/rotate', { headers: { cookie: b.cookie, 'x-csrf-token': b.csrf } });
  assert.equal(rotated.status, 200);
  assert.deepEqual(rotated.json, { rotated: true, tokenFile: '<data>/token' });
  assert.match(rotated.headers.get('set-cookie')!, /Max-Age=0/);
  assert.equal((await http('GET', '/ui/', { headers: { cookie: b.cookie } })).status, 303);
  assert.equal((await http('GET', '/v1/apps', { headers: { cookie: b.cookie } })).status, 401);
  const old = token;
  token = readFileSync(d.tokenFile, 'utf8').trim();
  tokens.push(token);
  assert.notEqual(token, old);
  assert.equal((await http('GET', '/v1/apps', { headers: { authorization: `Bearer ${old}` } })).status, 401);
  assert.equal((await http('GET', '/v1/apps', { headers: { authorization: `Bearer ${token}` } })).status, 200);

  // A rotation through the JSON API ends sessions too.
  const c = await login();
  const r = await http('POST', '/v1/tokens/rotate', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  token = r.json.token;
  tokens.push(token);
  bodies.pop(); // the API's own rotation answer is the one body that carries a token
  assert.equal((await http('GET', '/ui/api/session', { headers: { cookie: c.cookie } })).status, 401);
});

test('the token appears in no answer body and no log line', () => {
  assert.equal(tokens.length, 3);
  for (const t of tokens) {
    for (const b of bodies) assert.ok(!b.includes(t), 'a body carries the token');
    for (const l of logLines) assert.ok(!l.includes(t), `a log line carries the token: ${l}`);
  }
  assert.ok(logLines.some((l) => l.includes('"msg":"dashboard login"')));
  assert.ok(logLines.some((l) => l.includes('"msg":"ui request"')));
});

test('nanovisor ui prints the address once the daemon answers; --no-open; an unreachable daemon is NV_API_UNREACHABLE', async () => {
  const run = async (args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runCli(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: data.path, env });
    return { code, out, err };
  };
  const ok = await run(['ui', '--server', d.apiUrl], { NANOVISOR_HOME: data.path });
  assert.equal(ok.code, 0, ok.err);
  assert.equal(ok.out, `${d.apiUrl}/ui/\n`);
  assert.equal(ok.err, '', 'no desktop: nothing opened');
  const page = await http('GET', new URL(ok.out.trim()).pathname);
  assert.equal(page.status, 303, 'the printed address is the dashboard');
  // With a desktop but --no-open, only the address.
  const noOpen = await run(['ui', '--no-open', '--server', d.apiUrl], { NANOVISOR_HOME: data.path, DISPLAY: ':99' });
  assert.equal(noOpen.code, 0);
  assert.equal(noOpen.err, '');
  const down = await run(['ui', '--server', 'http://127.0.0.1:1'], { NANOVISOR_HOME: data.path });
  assert.notEqual(down.code, 0);
  assert.match(down.err, /NV_API_UNREACHABLE|reach/);
  assert.ok(!down.out.includes('/ui/'));
});
