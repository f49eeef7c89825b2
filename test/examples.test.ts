// The example apps, as built by `npm run guests` into build/examples/<app>/: each folder holds
// the module next to a copy of the manifest, which must pass the strict manifest schema and
// name a module that exists; each app behaves as its README line says. The CGI apps are also
// served through the real gateway over loopback.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createGateway } from '../src/gateway/index.ts';
import { InProcessHost } from '../src/host/index.ts';
import { ImageStore, buildImage, parseManifestText } from '../src/image/index.ts';
import { describeRun, exampleDir, makeScratch, prepared, root, runFile, type GuestRun, type RunGuestOptions } from './helpers.ts';

const APPS = [
  'hello-c', 'hello-cpp', 'hello-rust', 'hello-as', 'echo-args-c', 'echo-args-rust',
  'file-tool-c', 'file-tool-rust', 'cgi-echo-c', 'cgi-echo-rust', 'counter-c',
] as const;

interface ExampleManifest { name: string; module: string; args?: string[]; env?: Record<string, string> }

function manifestOf(app: string): ExampleManifest {
  return JSON.parse(readFileSync(join(exampleDir(app), 'nanovisor.json'), 'utf8')) as ExampleManifest;
}

/** Runs a built example with its manifest's args and env (as `nanovisor run` would), plus extras. */
function runApp(app: string, opts: RunGuestOptions = {}): Promise<GuestRun> {
  const m = manifestOf(app);
  return runFile(join(exampleDir(app), m.module), app, {
    ...opts,
    args: [...(m.args ?? []), ...(opts.args ?? [])],
    env: { ...(m.env ?? {}), ...(opts.env ?? {}) },
  });
}

function exitedOk(r: GuestRun): void {
  assert.equal(r.outcome, 'exit', describeRun(r));
  assert.equal(r.exitCode, 0, describeRun(r));
}

test('every example is built with its manifest beside it, valid under the strict schema', () => {
  for (const app of APPS) {
    const dir = exampleDir(app);
    const text = readFileSync(join(dir, 'nanovisor.json'), 'utf8');
    const m = parseManifestText(text, `${app}/nanovisor.json`);
    assert.equal(m.name, app);
    assert.equal(m.module, `${app}.wasm`);
    assert.ok(existsSync(join(dir, m.module)), `${app}: module ${m.module} exists next to the manifest`);
    assert.equal(text, readFileSync(join(root, 'examples', app, 'nanovisor.json'), 'utf8'), `${app}: the copy is the source manifest`);
  }
});

test('nanovisor build accepts every built example folder as it is', () => {
  const store = ImageStore.openHome(makeScratch('nv-store-'));
  for (const app of APPS) {
    const r = buildImage({ dir: exampleDir(app), store });
    assert.match(JSON.stringify(r), new RegExp(app), `${app} was built into an image`);
  }
});

test('hello-c, hello-cpp, hello-rust, hello-as print their greeting', async () => {
  const want: Record<string, string> = {
    'hello-c': 'Hello, world! (C on nanovisor)\n',
    'hello-cpp': 'Hello, world! (C++ on nanovisor)\n',
    'hello-rust': 'Hello, world! (Rust on nanovisor)\n',
    'hello-as': 'Hello, world! (AssemblyScript on nanovisor)\n',
  };
  for (const [app, text] of Object.entries(want)) {
    const r = await runApp(app);
    exitedOk(r);
    assert.equal(r.out, text, app);
  }
});

test('echo-args-c and echo-args-rust print argv and the sorted environment alike', async () => {
  const outputs: string[] = [];
  for (const app of ['echo-args-c', 'echo-args-rust']) {
    const r = await runApp(app, { argv0: 'echo', args: ['one', 'two words', ''], env: { ZED: 'z', ALPHA: 'a=b' } });
    exitedOk(r);
    assert.equal(r.out, 'args:\necho\n--from-manifest\none\ntwo words\n\nenv:\nALPHA=a=b\nGREETING=hello\nZED=z\n', app);
    outputs.push(r.out);
  }
  assert.equal(outputs[0], outputs[1]);
});

for (const app of ['file-tool-c', 'file-tool-rust']) {
  test(`${app}: upper-cases a file from the /data mount and counts lines and bytes`, async () => {
    const data = makeScratch();
    writeFileSync(join(data, 'in.txt'), 'hello\nwörld\nno newline at end');
    const mount = { hostPath: data, guestPath: '/data', readonly: false };
    const r = await runApp(app, { args: ['/data/in.txt', '/data/out.txt'], mounts: [mount] });
    exitedOk(r);
    assert.equal(r.out, '3 lines, 30 bytes\n');
    assert.equal(readFileSync(join(data, 'out.txt'), 'utf8'), 'HELLO\nWöRLD\nNO NEWLINE AT END');

    const missing = await runApp(app, { args: ['/data/missing.txt', '/data/out2.txt'], mounts: [mount] });
    assert.equal(missing.exitCode, 1, describeRun(missing));
    assert.match(missing.err, new RegExp(`^${app}: cannot open /data/missing.txt: .+\\n$`));
    assert.equal(missing.out, '');
    assert.ok(!existsSync(join(data, 'out2.txt')));

    const readonly = await runApp(app, { args: ['/data/in.txt', '/data/out3.txt'], mounts: [{ ...mount, readonly: true }] });
    assert.equal(readonly.exitCode, 1, `writing to a read-only mount fails\n${describeRun(readonly)}`);
    assert.match(readonly.err, new RegExp(`^${app}: cannot create /data/out3.txt`));

    const usage = await runApp(app);
    assert.equal(usage.exitCode, 2);
    assert.match(usage.err, /^usage: /);
  });
}

/** Splits a CGI response into status line value, headers and body. */
function parseCgi(out: string): { status: string; headers: string[]; body: string } {
  const i = out.indexOf('\n\n');
  assert.ok(i >= 0, `no blank line after the headers:\n${out}`);
  const headers = out.slice(0, i).split('\n');
  const status = headers.find((h) => h.startsWith('Status: '))?.slice(8) ?? '';
  return { status, headers, body: out.slice(i + 2) };
}

test('counter-c keeps its count in /data/counter: POST adds one, GET reads it, a read-only volume is a 500', async () => {
  const vol = makeScratch('nv-counter-');
  const call = (method: string, readonly = false) => runApp('counter-c', { env: { REQUEST_METHOD: method }, mounts: [{ hostPath: vol, guestPath: '/data', readonly }] });
  const empty = await call('GET');
  exitedOk(empty);
  assert.match(empty.out, /\r\n\r\n0\n$/);
  for (const n of [1, 2, 3]) assert.match((await call('POST')).out, new RegExp(`\\r\\n\\r\\n${n}\\n$`));
  assert.equal(readFileSync(join(vol, 'counter'), 'utf8'), '3\n');
  const ro = await call('POST', true);
  exitedOk(ro);
  assert.match(ro.out, /^Status: 500/);
  assert.equal(readFileSync(join(vol, 'counter'), 'utf8'), '3\n');
});

for (const app of ['cgi-echo-c', 'cgi-echo-rust']) {
  test(`${app}: echoes method, path, query, HTTP_* headers and body as CGI 1.1`, async () => {
    const body = 'name=nano&x=1';
    const r = await runApp(app, {
      env: {
        REQUEST_METHOD: 'POST', PATH_INFO: '/items/42', QUERY_STRING: 'a=1&b=two', CONTENT_LENGTH: String(body.length),
        CONTENT_TYPE: 'application/x-www-form-urlencoded', HTTP_USER_AGENT: 'test', HTTP_X_TRACE: 'abc', SERVER_NAME: 'localhost',
      },
      stdin: `${body}IGNORED-PAST-CONTENT-LENGTH`,
    });
    exitedOk(r);
    const res = parseCgi(r.out);
    assert.equal(res.status, '200 OK');
    assert.ok(res.headers.includes('Content-Type: text/plain'));
    assert.equal(res.body, 'method: POST\npath: /items/42\nquery: a=1&b=two\nheader: HTTP_USER_AGENT=test\nheader: HTTP_X_TRACE=abc\nbody: 13 bytes\nname=nano&x=1');

    for (const [path, status] of [['/status/404', '404 Not Found'], ['/status/503', '503 Service Unavailable'], ['/status/299', '299 Status'], ['/status/abc', '400 Bad Request'], ['/status/99', '400 Bad Request']]) {
      const s = await runApp(app, { env: { REQUEST_METHOD: 'GET', PATH_INFO: path!, QUERY_STRING: '', CONTENT_LENGTH: '0' } });
      exitedOk(s);
      assert.equal(parseCgi(s.out).status, status, `${app} ${path}`);
    }
  });
}

test('cgi-echo-c and cgi-echo-rust behind the real gateway over loopback', async () => {
  const host = new InProcessHost();
  const apps = ['cgi-echo-c', 'cgi-echo-rust'].map((app) => {
    const m = manifestOf(app);
    const route = app === 'cgi-echo-c' ? '/echo-c' : '/echo-rust';
    return { name: app, routes: [{ path: route }], handle: host.adopt(prepared(join(exampleDir(app), m.module))), options: { timeoutMs: 5000 } };
  });
  const gw = createGateway({ host, apps });
  const { port } = await gw.listen(0, '127.0.0.1');
  try {
    for (const prefix of ['/echo-c', '/echo-rust']) {
      const res = await fetch(`http://127.0.0.1:${port}${prefix}/hello?q=1`, { method: 'POST', body: 'ping', headers: { 'X-Custom-Thing': 'yes' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain');
      const text = await res.text();
      assert.match(text, /^method: POST\npath: \/hello\nquery: q=1\n/);
      assert.match(text, /header: HTTP_X_CUSTOM_THING=yes\n/);
      assert.match(text, /body: 4 bytes\nping$/);
      const teapot = await fetch(`http://127.0.0.1:${port}${prefix}/status/418`);
      assert.equal(teapot.status, 418);
      await teapot.text();
    }
  } finally {
    await gw.close();
  }
});
