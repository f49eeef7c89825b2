// The daemon's REST API and gateway end to end over real sockets: auth, malformed bodies,
// unknown apps, create/update/delete, image upload and build, deploy, a rollout under load
// with zero failed requests, rollback, logs, metrics, token rotation. The guest is a tiny C
// CGI program compiled here with clang; two builds differ only in the version they print.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';

const guest = (version: string): string => String.raw`
#include <stdio.h>
#include <stdlib.h>
static const char *env(const char *k) { const char *v = getenv(k); return v ? v : "-"; }
int main(void) {
  printf("Content-Type: text/plain\n\nversion=${version} path=%s greeting=%s key=%s\n", env("PATH_INFO"), env("GREETING"), env("API_KEY"));
  fprintf(stderr, "served %s with key %s\n", env("PATH_INFO"), env("API_KEY"));
  return 0;
}
`;

const data = tempDir('nv-serve-');
const work = tempDir('nv-serve-work-');
let d: Daemon;
let token: string;
let v1Tar: Uint8Array;
let v2Dir: string;

const SECRET = 'sk-live-0123456789abcdef';

interface Reply { status: number; headers: Headers; text: string; json: any }

async function api(method: string, path: string, init: { body?: unknown; raw?: Uint8Array | string; type?: string; token?: string | null } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  const t = init.token === undefined ? token : init.token;
  if (t !== null) headers['authorization'] = `Bearer ${t}`;
  let body: RequestInit['body'];
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  } else if (init.raw !== undefined) {
    body = init.raw as RequestInit['body'];
    headers['content-type'] = init.type ?? 'application/x-tar';
  }
  if (init.type !== undefined) headers['content-type'] = init.type;
  const res = await fetch(`${d.apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function gw(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${d.gatewayUrl}${path}`);
  return { status: res.status, text: await res.text() };
}

before(async () => {
  // v1: built here and exported, as `nanovisor image export` would; v2: an app directory.
  const store = ImageStore.open(join(work.path, 'store'));
  writeTree(join(work.path, 'v1'), { 'app.wasm': compileC(guest('1')), 'nanovisor.json': JSON.stringify({ name: 'greeter', version: '1', module: 'app.wasm' }) });
  const { digest } = buildImage({ dir: join(work.path, 'v1'), store });
  store.export(digest, join(work.path, 'v1.tar'));
  v1Tar = new Uint8Array(readFileSync(join(work.path, 'v1.tar')));
  v2Dir = join(work.path, 'v2');
  writeTree(v2Dir, { 'app.wasm': compileC(guest('2')), 'nanovisor.json': JSON.stringify({ name: 'greeter', version: '2', module: 'app.wasm' }) });
  d = await startDaemon({ dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000 });
  token = readFileSync(d.tokenFile, 'utf8').trim();
});

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
  work[Symbol.dispose]();
});

test('the token file is created with mode 0600; health needs no token, everything else does', async () => {
  assert.equal(statSync(d.tokenFile).mode & 0o777, 0o600);
  assert.match(token, /^nvt_[A-Za-z0-9_-]{43}$/);
  const h = await api('GET', '/healthz', { token: null });
  assert.equal(h.status, 200);
  assert.equal(h.json.status, 'ok');
  assert.equal(h.json.gateway, d.gatewayUrl, 'clients learn where apps are called');
  assert.ok(h.headers.get('x-request-id'));
  const none = await api('GET', '/v1/apps', { token: null });
  assert.equal(none.status, 401);
  assert.equal(none.json.error.code, 'NV_API_UNAUTHORIZED');
  assert.match(none.json.error.message, /Authorization: Bearer/);
  assert.equal(none.json.error.requestId, none.headers.get('x-request-id'));
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="nanovisor"');
  const wrong = await api('GET', '/v1/apps', { token: 'nvt_wrong' });
  assert.equal(wrong.status, 401);
  assert.match(wrong.json.error.message, /wrong/);
  const openapi = await api('GET', '/openapi.json', { token: null });
  assert.equal(openapi.status, 200);
  assert.equal(openapi.json.openapi, '3.1.0');
});

test('malformed bodies: 400 naming each field; wrong media type 415; unknown endpoint 404; wrong method 405', async () => {
  const r = await api('POST', '/v1/apps', { body: { name: 'Bad Name', routes: 'nope', extra: 1 } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'NV_API_BAD_REQUEST');
  const fields = r.json.error.problems.map((p: { field: string }) => p.field).sort();
  assert.deepEqual(fields, ['extra', 'name', 'routes']);
  assert.match(r.json.error.message, /extra: unknown field/);
  const nested = await api('POST', '/v1/apps', { body: { name: 'ok', routes: [{ path: 'no-slash', port: 1 }], limits: { concurrency: 0 } } });
  assert.equal(nested.status, 400);
  assert.match(nested.json.error.message, /routes\[0\]\.path: must start with "\/"/);
  assert.match(nested.json.error.message, /routes\[0\]\.port: unknown field/);
  assert.match(nested.json.error.message, /limits\.concurrency: must be positive/);
  const missing = await api('POST', '/v1/apps', { body: {} });
  assert.match(missing.json.error.message, /name: is required/);
  const notJson = await api('POST', '/v1/apps', { raw: '{"name":', type: 'application/json' });
  assert.equal(notJson.status, 400);
  assert.match(notJson.json.error.message, /not valid JSON/);
  const media = await api('POST', '/v1/apps', { raw: 'name=x', type: 'application/x-www-form-urlencoded' });
  assert.equal(media.status, 415);
  const tarAsJson = await api('POST', '/v1/images', { body: { x: 1 } });
  assert.equal(tarAsJson.status, 415);
  const notTar = await api('POST', '/v1/images', { raw: 'this is not a tar' });
  assert.equal(notTar.status, 400);
  const nowhere = await api('GET', '/v1/nothing');
  assert.equal(nowhere.status, 404);
  assert.equal(nowhere.json.error.code, 'NV_API_NOT_FOUND');
  const method = await api('PUT', '/v1/apps');
  assert.equal(method.status, 405);
  assert.equal(method.headers.get('allow'), 'POST, GET');
  const logs = await api('GET', '/v1/apps/x/logs?since=abc');
  assert.equal(logs.status, 400);
  assert.match(logs.json.error.message, /since/);
});

test('unknown app: 404 on every app endpoint', async () => {
  for (const [method, path, body] of [
    ['GET', '/v1/apps/ghost'], ['PATCH', '/v1/apps/ghost', { env: {} }], ['DELETE', '/v1/apps/ghost'],
    ['GET', '/v1/apps/ghost/versions'], ['POST', '/v1/apps/ghost/versions', { image: 'greeter' }],
    ['POST', '/v1/apps/ghost/rollback', {}], ['GET', '/v1/apps/ghost/logs'],
  ] as [string, string, unknown?][]) {
    const r = await api(method, path, body === undefined ? {} : { body });
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.equal(r.json.error.code, 'NV_APP_NOT_FOUND', `${method} ${path}`);
  }
});

test('an app: create, upload, build, deploy, serve, roll out under load, roll back, logs, delete', async () => {
  // Create. Secrets are write-only.
  const created = await api('POST', '/v1/apps', {
    body: { name: 'greeter', routes: [{ path: '/greet' }], env: { GREETING: 'hi' }, secrets: { API_KEY: SECRET }, limits: { timeoutMs: 5000 } },
  });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.json.secrets, ['API_KEY']);
  assert.equal(created.json.currentVersion, null);
  assert.ok(!created.text.includes(SECRET));
  assert.equal((await api('POST', '/v1/apps', { body: { name: 'greeter', routes: [{ path: '/other' }] } })).json.error.code, 'NV_APP_EXISTS');
  const clash = await api('POST', '/v1/apps', { body: { name: 'other', routes: [{ path: '/greet/' }] } });
  assert.equal(clash.status, 409);
  assert.equal(clash.json.error.code, 'NV_ROUTE_CONFLICT');
  // Not served before the first deploy.
  assert.equal((await gw('/greet')).status, 404);
  const early = await api('POST', '/v1/apps/greeter/rollback', { body: {} });
  assert.equal(early.status, 409);
  assert.equal(early.json.error.code, 'NV_APP_NO_VERSION');

  // Upload v1 (an image export) and build v2 (a tar of the app directory, as GNU tar writes it).
  const up = await api('POST', '/v1/images', { raw: v1Tar });
  assert.equal(up.status, 201, up.text);
  assert.deepEqual(up.json.tags, ['greeter:1']);
  const dirTar = new Uint8Array(execFileSync('tar', ['-C', v2Dir, '-cf', '-', '.']));
  const built = await api('POST', '/v1/images/build', { raw: dirTar });
  assert.equal(built.status, 201, built.text);
  assert.equal(built.json.tag, 'greeter:2');
  const images = await api('GET', '/v1/images');
  assert.deepEqual(images.json.map((i: { tags: string[] }) => i.tags).flat().sort(), ['greeter:1', 'greeter:2']);
  assert.equal((await api('POST', '/v1/apps/greeter/versions', { body: { image: 'nope:1' } })).status, 404);

  // Deploy v1 and call it.
  const dep1 = await api('POST', '/v1/apps/greeter/versions', { body: { image: up.json.digest } });
  assert.equal(dep1.status, 201, dep1.text);
  assert.deepEqual(dep1.json, { app: 'greeter', version: 1, digest: up.json.digest });
  const first = await gw('/greet/x');
  assert.equal(first.status, 200);
  assert.equal(first.text, `version=1 path=/x greeting=hi key=${SECRET}\n`);

  // Roll out v2 while a loop of concurrent clients calls the app: no request may fail, and
  // every request started after the deploy was acknowledged gets v2.
  let stop = false;
  let deployedAt = Infinity;
  const results: { status: number; version: string; started: number }[] = [];
  const worker = async (): Promise<void> => {
    while (!stop) {
      const started = performance.now();
      try {
        const r = await gw('/greet/load');
        results.push({ status: r.status, version: /version=(\d)/.exec(r.text)?.[1] ?? '?', started });
      } catch (e) {
        results.push({ status: 0, version: String(e), started });
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await new Promise((r) => setTimeout(r, 300));
  const dep2 = await api('POST', '/v1/apps/greeter/versions', { body: { image: 'greeter:2' } });
  deployedAt = performance.now();
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await Promise.all(workers);
  assert.equal(dep2.status, 201, dep2.text);
  assert.equal(dep2.json.version, 2);
  const failed = results.filter((r) => r.status !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${results.length} requests failed`);
  assert.ok(results.some((r) => r.version === '1') && results.some((r) => r.version === '2'), 'both versions served during the rollout');
  assert.deepEqual(results.filter((r) => r.started > deployedAt && r.version !== '2'), []);
  assert.ok(results.length > 20, `only ${results.length} requests`);

  // Versions, rollback (default: the previous), rollback to a named version.
  const versions = await api('GET', '/v1/apps/greeter/versions');
  assert.deepEqual(versions.json.map((v: { version: number; current: boolean }) => [v.version, v.current]), [[2, true], [1, false]]);
  assert.deepEqual(versions.json[0].image, { name: 'greeter', version: '2' });
  const rb = await api('POST', '/v1/apps/greeter/rollback');
  assert.equal(rb.status, 200, rb.text);
  assert.equal(rb.json.version, 1);
  assert.match((await gw('/greet')).text, /^version=1 /);
  assert.equal((await api('POST', '/v1/apps/greeter/rollback', { body: {} })).json.error.code, 'NV_APP_NO_VERSION');
  assert.equal((await api('POST', '/v1/apps/greeter/rollback', { body: { version: 9 } })).json.error.code, 'NV_VERSION_NOT_FOUND');
  assert.equal((await api('POST', '/v1/apps/greeter/rollback', { body: { version: 2 } })).json.version, 2);
  assert.match((await gw('/greet')).text, /^version=2 /);

  // PATCH: env replaced, a secret removed, a limit reset; served at once.
  const patched = await api('PATCH', '/v1/apps/greeter', { body: { env: { GREETING: 'hello' }, secrets: { API_KEY: null }, limits: { timeoutMs: null, concurrency: 4 } } });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.json.secrets, []);
  assert.equal(patched.json.limits.concurrency, 4);
  assert.equal(patched.json.limits.timeoutMs, undefined);
  assert.equal((await gw('/greet')).text, 'version=2 path= greeting=hello key=-\n');
  assert.equal((await api('PATCH', '/v1/apps/greeter', { body: { name: 'x' } })).json.error.message, 'body: name: unknown field');
  const tooSmall = await api('PATCH', '/v1/apps/greeter', { body: { limits: { memoryBytes: 1 } } });
  assert.equal(tooSmall.status, 400, tooSmall.text);
  assert.equal((await gw('/greet')).status, 200, 'a refused update changes nothing');
  await api('PATCH', '/v1/apps/greeter', { body: { secrets: { API_KEY: SECRET } } });

  // Logs: entries with request ids and stderr, the secret redacted; follow streams new ones.
  const served = await fetch(`${d.gatewayUrl}/greet/logged`);
  const rid = served.headers.get('x-request-id');
  await served.text();
  await new Promise((r) => setImmediate(r));
  const logs = await api('GET', '/v1/apps/greeter/logs');
  const entries = logs.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(logs.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
  const mine = entries.find((e) => e.requestId === rid);
  assert.ok(mine, 'the request is in the log');
  assert.equal(mine.status, 200);
  assert.match(mine.stderr, /served \/logged with key \[redacted\]/);
  assert.ok(!logs.text.includes(SECRET));
  const last = entries.at(-1).seq as number;
  const since = await api('GET', `/v1/apps/greeter/logs?since=${last - 1}`);
  assert.equal(since.text.trim().split('\n').length, 1);

  const ac = new AbortController();
  const follow = await fetch(`${d.apiUrl}/v1/apps/greeter/logs?since=${last}&follow=1`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  assert.equal(follow.status, 200);
  const reader = follow.body!.getReader();
  const next = await fetch(`${d.gatewayUrl}/greet/followed`);
  const followedId = next.headers.get('x-request-id');
  await next.text();
  let buf = '';
  while (!buf.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
  }
  const streamed = JSON.parse(buf.split('\n')[0]!);
  assert.equal(streamed.requestId, followedId);
  assert.equal(streamed.seq, last + 1);
  ac.abort();

  // Metrics.
  const metrics = await api('GET', '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.text, /nanovisor_requests_total\{app="greeter",status="200"\} \d+/);
  assert.match(metrics.text, /nanovisor_deploys_total\{app="greeter"\} 4/);
  assert.equal((await api('GET', '/metrics', { token: null })).status, 401);

  // Delete: 204, gone from the API and the gateway; its image pins are dropped.
  const del = await api('DELETE', '/v1/apps/greeter');
  assert.equal(del.status, 204);
  assert.equal(del.text, '');
  assert.equal((await api('GET', '/v1/apps/greeter')).status, 404);
  assert.equal((await gw('/greet')).status, 404);
  const left = await api('GET', '/v1/images');
  assert.deepEqual(left.json.map((i: { tags: string[] }) => i.tags).flat().sort(), ['greeter:1', 'greeter:2']);
  assert.ok(!JSON.stringify((await api('GET', '/v1/apps')).json).includes('greeter'));
});

test('uploads that would escape the directory are refused by name', async () => {
  const evil = new Uint8Array(execFileSync('tar', ['-C', v2Dir, '-cf', '-', '--transform', 's,^\\./app.wasm,../app.wasm,', '.']));
  const r = await api('POST', '/v1/images/build', { raw: evil });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error.message, /"\.\.\/app\.wasm" climbs out/);
  const noManifest = new Uint8Array(execFileSync('tar', ['-C', v2Dir, '-cf', '-', 'app.wasm']));
  const r2 = await api('POST', '/v1/images/build', { raw: noManifest });
  assert.equal(r2.status, 400);
  assert.match(r2.json.error.message, /no nanovisor.json/);
});

test('token rotation: the new token works, the old one stops at once, the file follows', async () => {
  const old = token;
  const r = await api('POST', '/v1/tokens/rotate');
  assert.equal(r.status, 200);
  const fresh = r.json.token as string;
  assert.notEqual(fresh, old);
  assert.equal(readFileSync(d.tokenFile, 'utf8').trim(), fresh);
  assert.equal(statSync(d.tokenFile).mode & 0o777, 0o600);
  assert.equal((await api('GET', '/v1/apps', { token: old })).status, 401);
  token = fresh;
  assert.equal((await api('GET', '/v1/apps')).status, 200);
});
