// JavaScript and TypeScript apps (docs/javascript.md), as a user drives them: the example apps
// in examples/ are built by `nanovisor build` and deployed by `nanovisor deploy DIR` (the CLI)
// to a real `nanovisor serve` in its own process, and called over real sockets — hello-js
// (fetch event), api-ts (TypeScript, routing, Workers-style export default with env),
// file-js (a file of its image through wasi:filesystem), fetch-js (an outbound fetch() to a
// test upstream on 127.0.0.1 its outbound.allow lists, the daemon allowing loopback; and
// refused for a host not on the list). Components come from the cache `npm run guests`
// fills (build/js-cache); build errors at the user's file and line cost one compile each.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../src/cli/main.ts';
import { packAppDir } from '../src/cli/commands/remote-format.ts';
import { ImageStore, parseManifest } from '../src/image/index.ts';
import { bundleScript, componentKey } from '../src/image/script/index.ts';
import { startServeProcess, type ServeProcess } from './support/serve-process.ts';
import { tempDir } from '../src/image/testing.ts';
import { root } from './helpers.ts';

const JS_CACHE = join(root, 'build', 'js-cache');

let tmp: { path: string } & Disposable;
let serve: ServeProcess;
let apiUrl = '';
let gatewayUrl = '';
let home = '';
let upstream: Server;
let upstreamUrl = '';
let upstreamHits = 0;

before(async () => {
  tmp = tempDir('nv-js-apps-');
  // The CLI finds the daemon's token in its home, as after `nanovisor serve` on one machine.
  home = join(tmp.path, 'data');
  upstream = createServer((_req, res) => {
    upstreamHits++;
    res.setHeader('content-type', 'application/json');
    res.end('{"quote":"upstream says hi"}');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/quote`;
  serve = await startServeProcess(home, [
    // The test upstream is on loopback, which the switch refuses unless the operator allows it.
    '--outbound-allow-net', '127.0.0.1/32']);
  apiUrl = serve.apiUrl;
  gatewayUrl = serve.gatewayUrl;
});

after(async () => {
  await serve.stop();
  await new Promise((r) => upstream.close(r));
  tmp[Symbol.dispose]();
});

interface Out { code: number; stdout: string; stderr: string }

async function nv(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Out> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: root,
    env: { ...process.env, NANOVISOR_HOME: home, NANOVISOR_SERVER: apiUrl, NANOVISOR_GATEWAY: gatewayUrl, NANOVISOR_JS_CACHE: JS_CACHE, ...env },
  });
  return { code, stdout, stderr };
}

function ok(r: Out): string {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** A copy of an example in the scratch directory, to break or change. */
function copyOf(app: string, as: string): string {
  const dir = join(tmp.path, as);
  cpSync(join(root, 'examples', app), dir, { recursive: true });
  return dir;
}

test('hello-js: nanovisor build seals the fetch-event app (component from the cache), deploy of the image serves it', async () => {
  const built = await nv(['build', 'examples/hello-js', '--json']);
  assert.equal(built.code, 0, built.stderr);
  const result = JSON.parse(built.stdout) as { digest: string; tag: string; scriptCached: boolean };
  assert.equal(result.tag, 'hello-js:latest');
  assert.equal(result.scriptCached, true, 'npm run guests compiled it into build/js-cache');
  const sealed = ImageStore.openHome(home).load('hello-js:latest').manifest;
  assert.equal(sealed.script, 'index.js', 'the sealed config says where the component came from');
  assert.equal(sealed.module, undefined);
  // The same sources give the same image.
  const again = JSON.parse(ok(await nv(['build', 'examples/hello-js', '--json']))) as { digest: string };
  assert.equal(again.digest, result.digest);

  ok(await nv(['deploy', 'hello-js']));
  const res = await fetch(`${gatewayUrl}/hello-js/there`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await res.text(), 'hello from JavaScript at /hello-js/there\n');
});

test('api-ts: a TypeScript app with routing deploys from its directory by the CLI and answers JSON', async () => {
  const deployed = await nv(['deploy', 'examples/api-ts']);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.match(deployed.stderr, /built api-ts:latest [0-9a-f]{12} here \(component from the cache\)/);
  assert.match(deployed.stderr, /uploaded api-ts:latest/);
  assert.match(deployed.stderr, /created app api-ts \(routes \/api-ts\)/, 'the manifest\'s routes');
  assert.match(deployed.stdout, /^deployed api-ts version 1 /);

  const call = async (path: string, init?: RequestInit): Promise<{ status: number; type: string | null; body: any }> => {
    const r = await fetch(`${gatewayUrl}/api-ts${path}`, init);
    return { status: r.status, type: r.headers.get('content-type'), body: JSON.parse(await r.text()) };
  };
  const index = await call('');
  assert.equal(index.status, 200);
  assert.equal(index.type, 'application/json');
  assert.deepEqual(index.body, { api: 'todo', routes: ['GET /todos', 'GET /todos/:id', 'POST /todos'] }, 'env comes from the manifest');
  assert.deepEqual((await call('/todos')).body, [{ id: 1, title: 'write the app', done: true }, { id: 2, title: 'deploy it', done: false }]);
  assert.deepEqual(await call('/todos/2'), { status: 200, type: 'application/json', body: { id: 2, title: 'deploy it', done: false } });
  assert.deepEqual(await call('/todos/9'), { status: 404, type: 'application/json', body: { error: 'no todo 9' } });
  const created = await call('/todos', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'test it' }) });
  assert.deepEqual(created, { status: 201, type: 'application/json', body: { id: 3, title: 'test it', done: false } });
  assert.deepEqual((await call('/todos', { method: 'POST', body: '{"title":""}' })).status, 400);
  assert.deepEqual(await call('/todos', { method: 'DELETE' }), { status: 405, type: 'application/json', body: { error: 'method not allowed' } });
  assert.deepEqual(await call('/nope'), { status: 404, type: 'application/json', body: { error: 'not found', path: '/nope' } });
  // console.log goes to the app's log (its stderr), never into the response.
  const logged = ok(await nv(['logs', 'api-ts', '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { url: string; status: number; stderr?: string });
  assert.ok(logged.some((e) => e.url === '/api-ts/todos/9' && e.status === 404 && e.stderr === 'GET /todos/9\n'), JSON.stringify(logged));

  // env is read per request, from the VM (the app's config), never baked in at build.
  ok(await nv(['deploy', 'examples/api-ts', '--env', 'API_NAME=tasks']));
  assert.equal((await call('')).body.api, 'tasks');
});

test('file-js: the app reads a file sealed into its image through wasi:filesystem', async () => {
  ok(await nv(['deploy', 'examples/file-js']));
  const res = await fetch(`${gatewayUrl}/file-js/greeting.txt`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await res.text(), 'Hello from a file sealed into the image.\n');
  const missing = await fetch(`${gatewayUrl}/file-js/nope.txt`);
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), 'no file /srv/nope.txt\n');
  assert.equal((await fetch(`${gatewayUrl}/file-js/`)).status, 400);
});

test('fetch-js: fetch() reaches an upstream its outbound.allow lists; a destination not on the list is refused, the app answering 502', async () => {
  ok(await nv(['deploy', 'examples/fetch-js', '--env', `UPSTREAM_URL=${upstreamUrl}`]));
  const res = await fetch(`${gatewayUrl}/fetch-js`);
  const body = await res.json() as { upstream: string; status?: number; body?: string; error?: string; reason?: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(body, { upstream: upstreamUrl, status: 200, body: '{"quote":"upstream says hi"}' });
  assert.equal(upstreamHits, 1, 'the call reached the upstream once');

  // localhost is not 127.0.0.1 to the allowlist: refused before any connection.
  const elsewhere = upstreamUrl.replace('127.0.0.1', 'localhost');
  ok(await nv(['deploy', 'examples/fetch-js', '--env', `UPSTREAM_URL=${elsewhere}`]));
  const refused = await fetch(`${gatewayUrl}/fetch-js`);
  assert.equal(refused.status, 502);
  const why = await refused.json() as { error: string; upstream: string; reason: string };
  assert.equal(why.error, 'upstream call refused or failed');
  assert.equal(why.upstream, elsewhere);
  assert.match(why.reason, /^(Type)?Error: /, 'fetch() rejected');
  assert.equal(upstreamHits, 1, 'nothing more reached the upstream');
});

test('the manifest: "script" instead of "module"; both, or a script app\'s entry or snapshot, are refused by name', () => {
  const m = parseManifest({ name: 'a', script: 'src/index.ts' }, 'm');
  assert.equal(m.script, 'src/index.ts');
  const refused = (json: unknown): string => {
    try {
      parseManifest(json, 'm');
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'NV_MANIFEST_INVALID');
      return (e as Error).message;
    }
    assert.fail('accepted');
  };
  assert.match(refused({ name: 'a' }), /module: is required \(or "script", a JavaScript or TypeScript entry\)/);
  assert.match(refused({ name: 'a', module: 'a.wasm', script: 'a.js' }), /script: give either "module" or "script", not both/);
  assert.match(refused({ name: 'a', script: 'a.js', entry: 'main' }), /entry: not used by a script app/);
  assert.match(refused({ name: 'a', script: 'a.js', snapshot: { initialize: true } }), /snapshot: a script app is always pre-initialised at build/);
  assert.match(refused({ name: 'a', script: '../a.js' }), /script: must be a relative path inside the app directory/);
  assert.match(refused({ name: 'a', driver: 'linux', script: 'a.js', rootfs: { dir: 'r' }, args: ['/x'] }), /script: a linux app has no script/);
});

test('a script that is missing, or not JS/TS, is refused before anything compiles', async () => {
  const dir = join(tmp.path, 'no-script');
  mkdirSync(dir);
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ name: 'no-script', script: 'src/index.ts' }));
  const missing = await nv(['build', dir]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nanovisor: error NV_FILE_NOT_FOUND: script "src\/index.ts": no such file/);
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ name: 'no-script', script: 'app.py' }));
  writeFileSync(join(dir, 'app.py'), 'print(1)\n');
  const python = await nv(['build', dir]);
  assert.equal(python.code, 1);
  assert.match(python.stderr, /NV_MANIFEST_INVALID: script: "app.py" is not a JavaScript or TypeScript file/);
});

test('build errors point at the user\'s file and line: a TypeScript syntax error, an import that does not resolve', async () => {
  const dir = copyOf('api-ts', 'broken-ts');
  writeFileSync(join(dir, 'src', 'router.ts'), 'export class Router {\n  on(method: string {\n  }\n}\n');
  const syntax = await nv(['build', dir]);
  assert.equal(syntax.code, 1);
  assert.match(syntax.stderr, /nanovisor: error NV_SCRIPT_BUILD_FAILED: src\/router\.ts:2:21: Expected "\)" but found "\{"/);
  writeFileSync(join(dir, 'src', 'router.ts'), 'import { x } from "./nowhere.ts";\nexport const Router = x;\nexport const json = x;\n');
  const unresolved = await nv(['build', dir]);
  assert.equal(unresolved.code, 1);
  assert.match(unresolved.stderr, /NV_SCRIPT_BUILD_FAILED: src\/router\.ts:1:19: Could not resolve "\.\/nowhere\.ts"/);
  assert.match(unresolved.stderr, /docs\/javascript\.md/, 'the hint names the page');
});

test('the daemon does not compile JavaScript: a script app\'s sources sent to POST /v1/images/build are NV_SCRIPT_NOT_COMPILED', async () => {
  const tar = packAppDir(join(root, 'examples', 'hello-js')).tar;
  const token = readFileSync(join(home, 'token'), 'utf8').trim();
  const res = await fetch(`${apiUrl}/v1/images/build`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar' }, body: tar });
  assert.equal(res.status, 400);
  const body = await res.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'NV_SCRIPT_NOT_COMPILED');
  assert.match(body.error.message, /compiled by the CLI: nanovisor build DIR, or nanovisor deploy DIR/);
});

test('packages of the app\'s node_modules are bundled in; the cache key follows the bundle, not the directory', async () => {
  const dir = copyOf('hello-js', 'with-package');
  mkdirSync(join(dir, 'node_modules', 'shout'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'shout', 'package.json'), JSON.stringify({ name: 'shout', version: '1.0.0', type: 'module', main: 'index.js' }));
  writeFileSync(join(dir, 'node_modules', 'shout', 'index.js'), 'export const shout = (s) => s.toUpperCase() + "!";\n');
  writeFileSync(join(dir, 'index.js'), 'import { shout } from "shout";\naddEventListener("fetch", (e) => e.respondWith(new Response(shout("hi"))));\n');
  const bundle = await bundleScript(dir, 'index.js');
  assert.match(bundle.code, /toUpperCase\(\) \+ "!"/, 'the package is inside the bundle');
  assert.deepEqual((JSON.parse(bundle.map) as { sources: string[] }).sources.filter((s) => !s.includes('nanovisor')), ['node_modules/shout/index.js', 'index.js']);
  // The same sources elsewhere are the same component; another source is another.
  const here = componentKey(await bundleScript(join(root, 'examples', 'hello-js'), 'index.js'));
  assert.equal(componentKey(await bundleScript(copyOf('hello-js', 'hello-copy'), 'index.js')), here);
  assert.notEqual(componentKey(bundle), here);
  assert.ok(readdirSync(JS_CACHE).includes(`${here}.wasm`), 'npm run guests left hello-js in the cache under its key');
});

test('an exception in the app\'s top-level code (run once at build) is reported at the user\'s file and line', async () => {
  const dir = copyOf('api-ts', 'throws-ts');
  writeFileSync(join(dir, 'src', 'router.ts'), [
    'export class Router {}',
    'export const json = () => new Response("x");',
    'const table: Record<string, string> | undefined = undefined;',
    'export const first = table!.first.toUpperCase();',
    '',
  ].join('\n'));
  const r = await nv(['build', dir], { NANOVISOR_JS_CACHE: join(tmp.path, 'js-cache') });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nanovisor: error NV_SCRIPT_BUILD_FAILED: src\/router\.ts:4:22: TypeError: .*\(thrown by the app's top-level code, which runs once at build\)/);
});

test('an entry with no fetch handler (no default export, no listener) is refused at build, naming the entry', async () => {
  const dir = join(tmp.path, 'no-handler');
  mkdirSync(dir);
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ name: 'no-handler', script: 'main.js' }));
  writeFileSync(join(dir, 'main.js'), 'export const answer = 42;\n');
  const r = await nv(['build', dir], { NANOVISOR_JS_CACHE: join(tmp.path, 'js-cache') });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nanovisor: error NV_SCRIPT_BUILD_FAILED: TypeError: main\.js: no fetch handler: export default \{ fetch\(request\) \{ \.\.\. \} \} or call addEventListener\("fetch", \.\.\.\) \(thrown by the app's top-level code/);
});

test('a Workers-style handler gets the app\'s env without the request\'s CGI variables, and ctx.waitUntil', async () => {
  const dir = join(tmp.path, 'env-app');
  mkdirSync(dir);
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ name: 'env-app', script: 'index.ts', env: { GREETING: 'hi' }, routes: [{ path: '/env-app' }] }));
  writeFileSync(join(dir, 'index.ts'), [
    'let waited = 0;',
    'export default {',
    '  async fetch(request: Request, env: Record<string, string>, ctx: { waitUntil(p: Promise<unknown>): void }): Promise<Response> {',
    '    ctx.waitUntil(Promise.resolve().then(() => { waited++; }));',
    '    return Response.json({ keys: Object.keys(env).sort(), greeting: env.GREETING, secret: env.TOKEN ?? null, method: request.method });',
    '  },',
    '};',
    '',
  ].join('\n'));
  // Through the shared cache: compiled once per checkout.
  ok(await nv(['deploy', dir, '--secret', 'TOKEN=s3cr3t']));
  const res = await fetch(`${gatewayUrl}/env-app/x?y=1`, { headers: { 'x-custom': 'header' } });
  assert.equal(res.status, 200);
  const body = await res.json() as { keys: string[]; greeting: string; secret: string | null; method: string };
  assert.equal(body.greeting, 'hi');
  assert.equal(body.secret, 's3cr3t', 'secrets are in env');
  assert.equal(body.method, 'GET');
  assert.ok(!body.keys.some((k) => k.startsWith('HTTP_') || ['QUERY_STRING', 'REQUEST_METHOD', 'X_FULL_URL', 'X_REQUEST_ID', 'PATH_INFO'].includes(k)), `no request variables in env: ${body.keys.join(', ')}`);
});
