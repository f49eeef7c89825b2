// The CLI as a client of the REST API: `deploy`, `apps`, `app`, `versions`, `rollback`, `rm`,
// `logs`, `token` against a small node:http server in this file that implements the API's
// endpoints the way docs/serve.md describes them (a real server over a real socket). It checks
// what goes over the wire (bearer token, JSON bodies, the tar upload's contents) and what the
// user sees (tables, --json, one-line errors).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../src/cli/main.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { readTar, type TarEntry } from '../src/image/tar.ts';
import { compileC, HELLO_C, tempDir, writeTree } from '../src/image/testing.ts';

const TOKEN = 'nvt_test-token-0123456789';

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }
interface App {
  name: string; routes: { path: string; host?: string }[]; env: Record<string, string>; secrets: Record<string, string>;
  versions: { version: number; digest: string; created: string }[]; current: number | null;
}

/** The fake daemon's state. */
const state = {
  token: TOKEN,
  seen: [] as Seen[],
  apps: new Map<string, App>(),
  uploads: [] as { kind: 'build' | 'image'; entries?: TarEntry[]; digest: string }[],
  store: undefined as ImageStore | undefined,
  tmp: '',
  logs: [] as Record<string, unknown>[],
  rid: 0,
};

function send(res: ServerResponse, status: number, value?: unknown): void {
  const body = value === undefined ? '' : `${JSON.stringify(value)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { error: { code, message, requestId: `rid-${++state.rid}` } });
}

function view(a: App): unknown {
  const cur = a.versions.find((v) => v.version === a.current);
  return {
    name: a.name, routes: a.routes, env: a.env, secrets: Object.keys(a.secrets).sort(),
    limits: { concurrency: 16, queue: 64 }, currentVersion: a.current, currentDigest: cur?.digest ?? null,
    created: '2025-01-01T00:00:00.000Z', updated: '2025-01-01T00:00:00.000Z',
  };
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://x');
  state.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
  const path = url.pathname;
  if (path === '/healthz') return send(res, 200, { status: 'ok', version: '0.1.0' });
  if (path === '/broken') return;
  if (req.headers.authorization !== `Bearer ${state.token}`) return fail(res, 401, 'NV_API_UNAUTHORIZED', 'missing or wrong bearer token');
  const json = (): Record<string, unknown> => (body.length === 0 ? {} : JSON.parse(body.toString('utf8')) as Record<string, unknown>);
  const m = /^\/v1\/apps\/([^/]+)(?:\/(versions|rollback|logs))?$/.exec(path);
  const app = m === null ? undefined : state.apps.get(decodeURIComponent(m[1]!));

  if (req.method === 'POST' && path === '/v1/images/build') {
    if (req.headers['content-type'] !== 'application/x-tar') return fail(res, 415, 'NV_API_MEDIA_TYPE', 'send the tar as application/x-tar');
    const entries = readTar(new Uint8Array(body));
    const manifest = JSON.parse(Buffer.from(entries.find((e) => e.path === 'nanovisor.json')!.data!).toString('utf8')) as { name: string };
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    state.uploads.push({ kind: 'build', entries, digest });
    return send(res, 201, { digest, name: manifest.name, tag: `${manifest.name}:latest` });
  }
  if (req.method === 'POST' && path === '/v1/images') {
    const file = join(state.tmp, `upload-${state.uploads.length}.tar`);
    writeFileSync(file, body);
    const r = state.store!.import(file);
    state.uploads.push({ kind: 'image', digest: r.images[0]!.digest });
    return send(res, 201, { digest: r.images[0]!.digest, tags: r.images[0]!.tags });
  }
  if (req.method === 'POST' && path === '/v1/tokens/rotate') {
    state.token = `nvt_rotated-${state.rid++}`;
    return send(res, 200, { token: state.token });
  }
  if (path === '/v1/apps') {
    if (req.method === 'GET') return send(res, 200, [...state.apps.values()].map(view));
    const input = json() as { name: string; routes?: App['routes']; env?: Record<string, string>; secrets?: Record<string, string> };
    if (input.routes === undefined || input.routes.length === 0) return fail(res, 400, 'NV_API_BAD_REQUEST', 'body: routes: is required');
    if (state.apps.has(input.name)) return fail(res, 409, 'NV_APP_EXISTS', `an app named "${input.name}" already exists`);
    const a: App = { name: input.name, routes: input.routes, env: input.env ?? {}, secrets: input.secrets ?? {}, versions: [], current: null };
    state.apps.set(a.name, a);
    return send(res, 201, view(a));
  }
  if (m === null) return fail(res, 404, 'NV_API_NOT_FOUND', `no endpoint ${path}`);
  if (app === undefined) return fail(res, 404, 'NV_APP_NOT_FOUND', `no app named "${decodeURIComponent(m[1]!)}"`);
  switch (`${req.method} ${m[2] ?? ''}`) {
    case 'GET ': return send(res, 200, view(app));
    case 'PATCH ': {
      const p = json() as { routes?: App['routes']; env?: Record<string, string>; secrets?: Record<string, string | null> };
      if (p.routes !== undefined) app.routes = p.routes;
      if (p.env !== undefined) app.env = p.env;
      for (const [k, v] of Object.entries(p.secrets ?? {})) {
        if (v === null) delete app.secrets[k];
        else app.secrets[k] = v;
      }
      return send(res, 200, view(app));
    }
    case 'DELETE ': state.apps.delete(app.name); return send(res, 204);
    case 'POST versions': {
      const { image } = json() as { image: string };
      const version = app.versions.length + 1;
      app.versions.push({ version, digest: image, created: new Date().toISOString() });
      app.current = version;
      return send(res, 201, { app: app.name, version, digest: image });
    }
    case 'GET versions':
      return send(res, 200, app.versions.map((v) => ({ app: app.name, ...v, current: v.version === app.current, image: { name: app.name, version: `${v.version}.0` }, changes: v.version === 1 ? [] : ['env.MODE: "dev" -> "prod"', 'secrets.DB_PASSWORD: changed'] })));
    case 'POST rollback': {
      const { version } = json() as { version?: number };
      const target = version ?? (app.current ?? 1) - 1;
      const v = app.versions.find((x) => x.version === target);
      if (v === undefined) return fail(res, 404, 'NV_VERSION_NOT_FOUND', `app "${app.name}" has no version ${target}`);
      app.current = target;
      return send(res, 200, { app: app.name, version: target, digest: v.digest });
    }
    case 'GET logs': {
      const since = Number(url.searchParams.get('since') ?? 0);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const e of state.logs) if ((e['seq'] as number) > since) res.write(`${JSON.stringify(e)}\n`);
      if (url.searchParams.get('follow') !== '1') return void res.end();
      // Following: two more entries arrive later, the second split across writes, then the end.
      await new Promise((r) => setTimeout(r, 30));
      res.write(`${JSON.stringify({ ...state.logs[0], seq: 10, requestId: 'later-1' })}\n`);
      const line = `${JSON.stringify({ ...state.logs[0], seq: 11, requestId: 'later-2' })}\n`;
      res.write(line.slice(0, 10));
      await new Promise((r) => setTimeout(r, 30));
      res.end(line.slice(10));
      return;
    }
  }
  return fail(res, 405, 'NV_API_METHOD_NOT_ALLOWED', 'no');
}

let server: ReturnType<typeof createServer>;
let base = '';
let tmp: { path: string } & Disposable;
let home = '';

before(async () => {
  tmp = tempDir('nv-cli-client-');
  state.tmp = tmp.path;
  state.store = ImageStore.open(join(tmp.path, 'server-images'));
  home = join(tmp.path, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => fail(res, 500, 'NV_HOST_FAULT', String(e)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.logs = [
    { seq: 1, time: '2025-01-02T03:04:05.000Z', app: 'hello', requestId: 'aa-000001', method: 'GET', url: '/hello', status: 200, durationMs: 0.42, outcome: 'exit', exitCode: 0 },
    { seq: 2, time: '2025-01-02T03:04:06.000Z', app: 'hello', requestId: 'aa-000002', method: 'POST', url: '/hello/x', status: 502, durationMs: 12.5, outcome: 'exit', exitCode: 3,
      errorCode: 'NV_GUEST_EXIT', errorMessage: 'guest exited with code 3', stderr: 'first line\nsecond line\n', stderrTruncated: 100 },
  ];
});

after(() => {
  server.close();
  tmp[Symbol.dispose]();
});

interface Out { code: number; stdout: string; stderr: string }

async function nv(args: string[], env: Record<string, string> = {}, cwd = tmp.path): Promise<Out> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd,
    env: { NANOVISOR_HOME: home, NANOVISOR_SERVER: base, ...env },
  });
  return { code, stdout, stderr };
}

function ok(r: Out): string {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('deploy DIR: packs nanovisor.json, module and files into a tar, creates the app, deploys a version, prints the URL', async () => {
  const app = join(tmp.path, 'hello-app');
  writeTree(app, {
    'nanovisor.json': JSON.stringify({ name: 'hello', module: 'hello.wasm', files: [{ from: 'www', to: '/srv/www' }], routes: [{ path: '/hello' }] }),
    'hello.wasm': new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    'www/index.html': '<p>hi</p>',
    'www/css/site.css': 'body{}',
    'unrelated/big.bin': 'not uploaded',
  });
  state.seen.length = 0;
  const r = await nv(['deploy', 'hello-app', '--name', 'hello', '--secret', 'DB_PASSWORD=s3cr3t', '--env', 'MODE=prod', '--progress', '--gateway', 'http://gw.local:8080']);
  const out = ok(r);
  assert.match(out, /^deployed hello version 1 \([0-9a-f]{12}\)\n  call it: curl http:\/\/gw\.local:8080\/hello\n$/);
  assert.match(r.stderr, /packed hello-app: 4 files/);
  assert.match(r.stderr, /uploading .* 100%/, 'progress with --progress');
  assert.match(r.stderr, /created app hello \(routes \/hello\)/);
  assert.ok(!r.stderr.includes('s3cr3t') && !out.includes('s3cr3t'), 'a secret value is never printed');

  const upload = state.uploads.at(-1)!;
  assert.equal(upload.kind, 'build');
  assert.deepEqual(upload.entries!.map((e) => `${e.kind}:${e.path}`), [
    'file:hello.wasm', 'file:nanovisor.json', 'dir:www', 'dir:www/css', 'file:www/css/site.css', 'file:www/index.html',
  ], 'manifest, module and listed files only; sorted');
  assert.equal(Buffer.from(upload.entries!.find((e) => e.path === 'www/index.html')!.data!).toString(), '<p>hi</p>');

  const calls = state.seen.map((s) => `${s.method} ${s.url}`);
  assert.deepEqual(calls, ['POST /v1/images/build', 'GET /v1/apps/hello', 'POST /v1/apps', 'POST /v1/apps/hello/versions', 'GET /healthz']);
  for (const s of state.seen.filter((x) => x.url !== '/healthz')) assert.equal(s.headers.authorization, `Bearer ${TOKEN}`, 'the token from the token file');
  const build = state.seen[0]!;
  assert.equal(build.headers['content-type'], 'application/x-tar');
  assert.equal(Number(build.headers['content-length']), build.body.length);
  const create = JSON.parse(state.seen[2]!.body.toString()) as Record<string, unknown>;
  assert.deepEqual(create, { name: 'hello', routes: [{ path: '/hello' }], env: { MODE: 'prod' }, secrets: { DB_PASSWORD: 's3cr3t' } });
  assert.deepEqual(JSON.parse(state.seen[3]!.body.toString()), { image: upload.digest });

  // Again: the app exists, so no create; --env merges into the app's env through PATCH.
  state.seen.length = 0;
  const again = JSON.parse(ok(await nv(['deploy', 'hello-app', '--env', 'EXTRA=1', '--json']))) as Record<string, unknown>;
  assert.equal(again['version'], 2);
  assert.equal(again['app'], 'hello', '--name defaults to the manifest name');
  assert.deepEqual(again['urls'], [{ url: `${base.replace(/:\d+$/, '')}:8080/hello` }], 'gateway defaults to the API host on port 8080');
  assert.deepEqual(state.seen.map((s) => `${s.method} ${s.url}`), ['POST /v1/images/build', 'GET /v1/apps/hello', 'PATCH /v1/apps/hello', 'POST /v1/apps/hello/versions', 'GET /healthz']);
  assert.deepEqual(JSON.parse(state.seen[2]!.body.toString()), { env: { MODE: 'prod', EXTRA: '1' } });
});

test('deploy IMAGE from the local store: exported and uploaded with the same digest', async () => {
  const local = ImageStore.openHome(home);
  const dir = join(tmp.path, 'img-app');
  writeTree(dir, { 'hello.wasm': compileC(HELLO_C), 'nanovisor.json': JSON.stringify({ name: 'himg', version: '1.0', module: 'hello.wasm' }) });
  const built = buildImage({ dir, store: local });
  const out = ok(await nv(['deploy', 'himg:1.0', '--name', 'himg', '--route', 'example.com/']));
  assert.equal(state.uploads.at(-1)!.kind, 'image');
  assert.equal(state.uploads.at(-1)!.digest, built.digest, 'the daemon imported the very same image');
  assert.match(out, /deployed himg version 1/);
  assert.match(out, /curl -H 'Host: example\.com' http:\/\/127\.0\.0\.1:8080\/\n/);
  assert.deepEqual(state.apps.get('himg')!.routes, [{ host: 'example.com', path: '/' }]);

  const missing = await nv(['deploy', 'nope:1.0', '--name', 'x']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NV_IMAGE_NOT_FOUND: "nope:1\.0" is neither a directory, a file nor an image of the local store/);
});

test('apps, app, versions, rollback: tables by default, --json for scripts, never secret values', async () => {
  const table = ok(await nv(['apps'])).split('\n');
  assert.match(table[0]!, /^NAME\s+VERSION\s+ROUTES\s+IMAGE$/);
  assert.match(table.find((l) => l.startsWith('hello'))!, /^hello\s+2\s+\/hello\s+[0-9a-f]{12}$/);
  assert.match(table.find((l) => l.startsWith('himg'))!, /^himg\s+1\s+example\.com\/\s+[0-9a-f]{12}$/);
  const json = JSON.parse(ok(await nv(['apps', '--json']))) as { name: string }[];
  assert.deepEqual(json.map((a) => a.name).sort(), ['hello', 'himg']);

  const detail = ok(await nv(['app', 'hello']));
  assert.match(detail, /^name:     hello$/m);
  assert.match(detail, /^version:  2 \(sha256:[0-9a-f]{64}\)$/m);
  assert.match(detail, /^env:      MODE=prod EXTRA=1$/m);
  assert.match(detail, /^secrets:  DB_PASSWORD \(values are never shown\)$/m);
  assert.match(detail, /^limits:   concurrency 16, queue 64$/m);
  assert.ok(!detail.includes('s3cr3t'));
  assert.deepEqual((JSON.parse(ok(await nv(['app', 'hello', '--json']))) as { secrets: string[] }).secrets, ['DB_PASSWORD']);

  const versions = ok(await nv(['versions', 'hello'])).split('\n');
  assert.match(versions[0]!, /^ {2}VERSION\s+DIGEST\s+IMAGE\s+CREATED\s+CHANGES$/);
  assert.match(versions[1]!, /^\* 2\s+[0-9a-f]{12}\s+hello:2\.0\s+\d+ seconds? ago\s+env\.MODE: "dev" -> "prod"; secrets\.DB_PASSWORD: changed$/);
  assert.match(versions[2]!, /^ {2}1\s.*\(first\)$/);
  assert.equal((JSON.parse(ok(await nv(['versions', 'hello', '--json']))) as unknown[]).length, 2);

  assert.match(ok(await nv(['rollback', 'hello'])), /^hello is serving version 1 \([0-9a-f]{12}\)\n$/);
  assert.deepEqual(JSON.parse(state.seen.at(-1)!.body.toString()), {});
  assert.deepEqual(JSON.parse(ok(await nv(['rollback', 'hello', '--to', '2', '--json']))).version, 2);
  assert.deepEqual(JSON.parse(state.seen.at(-1)!.body.toString()), { version: 2 });
  const bad = await nv(['rollback', 'hello', '--to', '9']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^nanovisor: error NV_VERSION_NOT_FOUND: app "hello" has no version 9 \(request id rid-\d+\)\n {2}List the app's versions/);
  assert.equal((await nv(['rollback', 'hello', '--to', 'x'])).code, 2);
});

test('logs: human lines with indented stderr, --json raw, --since passed on, -f streams until the server ends', async () => {
  const human = ok(await nv(['logs', 'hello']));
  assert.equal(human, [
    '2025-01-02T03:04:05.000Z  aa-000001  200    420µs  GET /hello',
    '2025-01-02T03:04:06.000Z  aa-000002  502   12.5ms  POST /hello/x',
    '    NV_GUEST_EXIT: guest exited with code 3',
    '    | first line',
    '    | second line',
    '    | ... (100 more bytes of stderr dropped)',
    '',
  ].join('\n'));
  const raw = ok(await nv(['logs', 'hello', '--json', '--since', '1'])).trim().split('\n');
  assert.equal(raw.length, 1);
  assert.equal(JSON.parse(raw[0]!).requestId, 'aa-000002');
  assert.equal(state.seen.at(-1)!.url, '/v1/apps/hello/logs?since=1');
  const followed = ok(await nv(['logs', 'hello', '-f', '--json'])).trim().split('\n').map((l) => JSON.parse(l).requestId);
  assert.deepEqual(followed, ['aa-000001', 'aa-000002', 'later-1', 'later-2'], 'a line split across chunks is read whole');
  assert.equal(state.seen.at(-1)!.url, '/v1/apps/hello/logs?follow=1');
});

test('errors: 401 says where the token came from; unreachable server; unknown app; non-API answers', async () => {
  const wrong = await nv(['apps', '--token', 'nvt_wrong']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^nanovisor: error NV_API_UNAUTHORIZED: GET \/v1\/apps: the server refused the token from the --token flag \(missing or wrong bearer token\) \(request id rid-\d+\)\n/);
  assert.ok(!wrong.stderr.includes('nvt_wrong'), 'the token is not echoed');
  const env = await nv(['apps'], { NANOVISOR_TOKEN: 'nvt_env' });
  assert.match(env.stderr, /refused the token from NANOVISOR_TOKEN/);
  const none = await nv(['apps'], { NANOVISOR_HOME: join(tmp.path, 'empty-home') });
  assert.match(none.stderr, /NV_API_UNAUTHORIZED: GET \/v1\/apps: no API token: none given with --token or NANOVISOR_TOKEN, and no token file at .*empty-home\/token/);

  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const down = await nv(['apps', '--server', `127.0.0.1:${port}`]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, new RegExp(`^nanovisor: error NV_API_UNREACHABLE: cannot reach the nanovisor API at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED\\n  Is nanovisor serve running\\? Start it with \`nanovisor serve\``));

  const missing = await nv(['app', 'ghost']);
  assert.match(missing.stderr, /^nanovisor: error NV_APP_NOT_FOUND: no app named "ghost" \(request id rid-\d+\)\n {2}List apps with `nanovisor apps`/);
  assert.equal((await nv(['rm', 'ghost'])).code, 1);

  const html = createServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html>bad gateway</html>');
  });
  await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
  const proxy = await nv(['apps', '--server', `http://127.0.0.1:${(html.address() as AddressInfo).port}`]);
  html.close();
  assert.match(proxy.stderr, /NV_API_RESPONSE_INVALID: GET \/v1\/apps: HTTP 502 from http:\/\/127\.0\.0\.1:\d+, not a nanovisor API error: <html>bad gateway<\/html>/);

  assert.match((await nv(['apps', '--server', 'ftp://x'])).stderr, /NV_USAGE: --server "ftp:\/\/x": only http/);
  assert.match((await nv(['deploy', 'x', '--secret', 'NOVALUE'])).stderr, /NV_USAGE: --secret "...": expected NAME=VALUE/);
});

test('token prints the token file; --rotate rotates through the API and rewrites the file (0600); rm deletes apps', async () => {
  assert.equal(ok(await nv(['token'])), `${TOKEN}\n`);
  const r = await nv(['token', '--rotate']);
  const fresh = ok(r).trim();
  assert.match(fresh, /^nvt_rotated-/);
  assert.equal(readFileSync(join(home, 'token'), 'utf8'), `${fresh}\n`);
  assert.equal(statSync(join(home, 'token')).mode & 0o777, 0o600);
  assert.match(r.stderr, /the old one no longer works/);
  assert.equal(ok(await nv(['token'])), `${fresh}\n`);
  assert.equal(state.seen.at(-1)!.headers.authorization, `Bearer ${TOKEN}`, 'rotated with the old token');
  assert.match((await nv(['token'], { NANOVISOR_HOME: join(tmp.path, 'nothing') })).stderr, /NV_FILE_NOT_FOUND: no token file at/);

  assert.equal(ok(await nv(['rm', 'hello', 'himg'])), 'removed hello\nremoved himg\n');
  assert.equal(state.seen.at(-1)!.method, 'DELETE');
  assert.equal(ok(await nv(['apps'])), 'NAME   VERSION   ROUTES   IMAGE\n');
});

test('docs/cli.md covers every command', async () => {
  const { COMMANDS } = await import('../src/cli/commands/index.ts');
  const doc = readFileSync(new URL('../docs/cli.md', import.meta.url), 'utf8');
  const missing = COMMANDS.map((c) => c.name).filter((n) => !doc.includes(`| \`${n}`));
  assert.deepEqual(missing, [], `commands missing from docs/cli.md: ${missing.join(', ')}`);
});
