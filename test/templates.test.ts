// `nanovisor new <template> NAME` then `nanovisor build NAME` for every template, as a new user
// types them: each app is written, compiled by its manifest's build step (clang, clang++,
// Debian's rustc, asc), sealed, then run (commands) or deployed to a real `nanovisor serve`
// and called over HTTP (the -http templates). Also: the errors for a missing compiler and a
// compile error, and that the build step is not sealed into the image.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/cli/main.ts';
import { TEMPLATES } from '../src/cli/commands/new.ts';
import { ImageStore } from '../src/image/index.ts';
import { startServeProcess, type ServeProcess } from './support/serve-process.ts';
import { tempDir } from '../src/image/testing.ts';

const cli = fileURLToPath(new URL('../bin/nanovisor.js', import.meta.url));
const JS_CACHE = fileURLToPath(new URL('../build/js-cache', import.meta.url));

let tmp: { path: string } & Disposable;
let serve: ServeProcess;
let apiUrl = '';
let gatewayUrl = '';
let data = '';

before(async () => {
  tmp = tempDir('nv-templates-');
  data = join(tmp.path, 'data');
  serve = await startServeProcess(data);
  apiUrl = serve.apiUrl;
  gatewayUrl = serve.gatewayUrl;
});

after(async () => {
  await serve.stop();
  tmp[Symbol.dispose]();
});

interface Out { code: number; stdout: string; stderr: string }

async function nv(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Out> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: tmp.path,
    // The JS/TS templates' components come from the cache `npm run guests` fills.
    env: { ...process.env, NANOVISOR_HOME: data, NANOVISOR_SERVER: apiUrl, NANOVISOR_GATEWAY: gatewayUrl, NANOVISOR_JS_CACHE: JS_CACHE, ...env },
  });
  return { code, stdout, stderr };
}

function ok(r: Out): string {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('the templates: C, C++, Rust, AssemblyScript, each as a command and as an HTTP handler; JavaScript and TypeScript handlers', () => {
  assert.deepEqual(TEMPLATES.map((t) => t.name), ['c', 'c-http', 'cpp', 'cpp-http', 'rust', 'rust-http', 'as', 'as-http', 'js', 'ts']);
});

for (const { name: template, http = false, script = false } of TEMPLATES) {
  test(`nanovisor new ${template} NAME, build NAME, then ${http ? 'deploy and call it' : 'run it'}`, async () => {
    const app = `my-${template}`;
    const created = ok(await nv(['new', template, app]));
    assert.match(created, new RegExp(`^created ${app}/ from template ${template}: .*nanovisor\\.json`));
    const manifest = JSON.parse(readFileSync(join(tmp.path, app, 'nanovisor.json'), 'utf8')) as { name: string; build?: { command: string[] }; script?: string };
    assert.equal(manifest.name, app);
    if (script) assert.ok(manifest.build === undefined && manifest.script !== undefined, 'a script app needs no build step');
    else assert.ok(manifest.build !== undefined, 'the manifest declares its build step');

    const built = await nv(['build', app]);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, new RegExp(`^${app}:latest sha256:[0-9a-f]{64} `));
    if (script) {
      assert.match(built.stderr, /^script: compiled component taken from the cache\n$/, built.stderr);
    } else {
      assert.match(built.stderr, /^build step: (clang|clang\+\+|rustc|asc) /, 'the step is shown on stderr');
      assert.ok(existsSync(join(tmp.path, app, `${app}.wasm`)), 'the module was compiled into the app directory');
    }
    const sealed = ImageStore.openHome(data).load(`${app}:latest`).manifest as { build?: unknown };
    assert.equal(sealed.build, undefined, 'the build step is not sealed into the image');

    if (!http) {
      // `run` hands the guest the process's own stdio, so it runs as a process here.
      const r = spawnSync(process.execPath, [cli, 'run', app, 'one', 'two words'], { cwd: tmp.path, env: { ...process.env, NANOVISOR_HOME: data }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const args = template === 'as' ? '' : 'arg 1: one\narg 2: two words\n';
      assert.equal(r.stdout, `Hello from ${app}!\n${args}`);
      return;
    }
    const deployed = await nv(['deploy', app, '--json']);
    assert.equal(deployed.code, 0, deployed.stderr);
    if (!script) assert.match(deployed.stderr, /build step: /, 'deploy runs the build step too');
    const res = await fetch(`${gatewayUrl}/${app}/hello`, { method: 'POST', body: 'ping' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    // A script app sees the whole path (a CGI app sees PATH_INFO, below its route).
    assert.equal(await res.text(), `Hello from ${app}: POST ${script ? `/${app}` : ''}/hello\nyou sent: ping\n`);
  });
}

test('a missing compiler is NV_BUILD_TOOL_MISSING saying what to install; a compile error is NV_BUILD_STEP_FAILED with its output', async () => {
  ok(await nv(['new', 'c', 'no-cc']));
  const noCc = await nv(['build', 'no-cc'], { PATH: join(tmp.path, 'empty-path') });
  assert.equal(noCc.code, 1);
  assert.match(noCc.stderr, /nanovisor: error NV_BUILD_TOOL_MISSING: build step: clang not found \(clang\); install it with: apt-get install clang lld wasi-libc/);

  ok(await nv(['new', 'rust', 'no-rustc']));
  const noRustc = await nv(['build', 'no-rustc'], { NANOVISOR_RUSTC: join(tmp.path, 'nowhere', 'rustc') });
  assert.equal(noRustc.code, 1);
  assert.match(noRustc.stderr, /NV_BUILD_TOOL_MISSING: build step: rustc not found .*apt-get install rustc libstd-rust-dev-wasm32/);

  ok(await nv(['new', 'c', 'broken']));
  writeFileSync(join(tmp.path, 'broken', 'main.c'), 'int main(void) { return nope; }\n');
  const broken = await nv(['build', 'broken']);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /use of undeclared identifier 'nope'/, 'the compiler output is shown');
  assert.match(broken.stderr, /nanovisor: error NV_BUILD_STEP_FAILED: build step: clang exited with code 1 \(its output is above\)/);
});

test('nanovisor new refuses an unknown template (naming the nearest), a bad name and a non-empty directory', async () => {
  const typo = await nv(['new', 'rsut', 'x']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /new: no template "rsut"; did you mean "rust"\? templates: c, c-http, cpp, cpp-http, rust, rust-http, as, as-http, js, ts \(nanovisor new --help\)/);
  const badName = await nv(['new', 'c', 'Hello World']);
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /"Hello World" is not an app name/);
  ok(await nv(['new', 'c++', 'twice']));
  const again = await nv(['new', 'c', 'twice']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /new: twice already exists and is not empty/);
  assert.match(ok(await nv(['new', 'assemblyscript', 'elsewhere', '--dir', 'sub/dir'])), /^created sub\/dir\/ from template as/);
  assert.ok(existsSync(join(tmp.path, 'sub', 'dir', 'wasi.ts')));
});
