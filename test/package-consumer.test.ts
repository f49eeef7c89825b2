// nanovisor as another project's dependency, tested the way a consumer gets it: `npm pack`
// of this checkout, `npm install` of the tarball into a fresh project (zod from the npm cache
// or the registry mirror; node@24 is a devDependency, so a consumer never gets it), then the
// package's exports (docs/library.md, docs/shards.md), its examples and the `nanovisor` bin.
// Skipped, saying why, when npm cannot install (no registry and nothing cached).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { distIsCurrent } from '../bin/dist-freshness.js';
import { exampleDir, makeScratch } from './helpers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = makeScratch('nv-consumer-');
const project = join(scratch, 'consumer');
const hello = join(exampleDir('hello-c'), 'hello-c.wasm');
const node24Path = `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;
let skip: string | false = false;

before(() => {
  if (!distIsCurrent(root)) execFileSync(process.execPath, [join(root, 'scripts', 'build-dist.ts')], { stdio: ['ignore', 'ignore', 'inherit'] });
  // dist/ is built and current: pack it as it is (prepare would build it again).
  execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball !== undefined, 'npm pack wrote no tarball');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
  const r = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(scratch, tarball)], { cwd: project, encoding: 'utf8' });
  if (r.status !== 0) {
    if (/ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/.test(r.stderr)) skip = `npm cannot install nanovisor's dependencies here (no registry, nothing cached): ${r.stderr.trim().split('\n')[0]}`;
    else assert.fail(`npm install of the tarball failed: ${r.stderr}`);
  }
});

/** Runs an ES module's text in the consumer project on Node 24. */
function inProject(code: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: project, encoding: 'utf8' });
}

test('the package exports what the docs import: runWasm, Supervisor, createGateway, ... and the host/shards, host, gateway, image entry points', (t) => {
  if (skip !== false) return t.skip(skip);
  const r = inProject(`
    import * as nv from 'nanovisor';
    import * as shards from 'nanovisor/host/shards';
    import * as host from 'nanovisor/host';
    import * as gateway from 'nanovisor/gateway';
    import * as image from 'nanovisor/image';
    const names = ['runWasm', 'runWasmAsync', 'runImage', 'NanoVm', 'prepareModule', 'ShardedHost', 'Supervisor', 'InProcessHost', 'createGateway', 'AppLoader', 'Admission', 'ImageStore', 'buildImage', 'NanovisorError', 'isNanovisorError'];
    const missing = names.filter((n) => nv[n] === undefined);
    console.log(JSON.stringify({ missing, same: nv.Supervisor === shards.Supervisor && nv.NanoVm === host.NanoVm && nv.createGateway === gateway.createGateway && nv.ImageStore === image.ImageStore }));
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { missing: [], same: true });
});

test('the library example runs from the installed package (runWasm and runWasmAsync)', (t) => {
  if (skip !== false) return t.skip(skip);
  const r = inProject(`
    import { readFileSync } from 'node:fs';
    import { runWasm, runWasmAsync } from 'nanovisor';
    const bytes = readFileSync(${JSON.stringify(hello)});
    const a = await runWasm(bytes, { args: ['hello'], timeoutMs: 1000 });
    const b = await runWasmAsync(bytes, { timeoutMs: 1000 });
    process.stdout.write(a.stdout.toString() + b.stdout.toString());
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Hello, world! (C on nanovisor)\n'.repeat(2));
});

test('runWasmAsync on an engine without JSPI throws NanovisorError NV_HOST_NO_JSPI, not a TypeError', (t) => {
  if (skip !== false) return t.skip(skip);
  const r = inProject(`
    import { readFileSync } from 'node:fs';
    delete WebAssembly.Suspending;
    const { runWasmAsync, isNanovisorError } = await import('nanovisor');
    try {
      await runWasmAsync(readFileSync(${JSON.stringify(hello)}));
      console.log('ran');
    } catch (e) {
      console.log(isNanovisorError(e) ? e.code : 'raw ' + e.name);
    }
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'NV_HOST_NO_JSPI');
});

test('the nanovisor bin works inside node_modules (the compiled dist/, no type stripping) on Node 24', (t) => {
  if (skip !== false) return t.skip(skip);
  const bin = join(project, 'node_modules', '.bin', 'nanovisor');
  const env = { HOME: scratch, PATH: node24Path, NANOVISOR_HOME: join(scratch, 'home') };
  const v = spawnSync(bin, ['--version'], { cwd: project, encoding: 'utf8', env });
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^nanovisor \d+\.\d+\.\d+\n$/);
  const run = spawnSync(bin, ['run', hello], { cwd: project, encoding: 'utf8', env });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'Hello, world! (C on nanovisor)\n');
});

test('on a Node older than 24 the bin tells a consumer what to do (no pinned Node in their project)', (t) => {
  if (skip !== false) return t.skip(skip);
  const old = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p) && Number(execFileSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).split('.')[0]) < 24);
  if (old === undefined) return t.skip('no node older than 24 on this machine');
  const r = spawnSync(join(project, 'node_modules', '.bin', 'nanovisor'), ['--version'], { cwd: project, encoding: 'utf8', env: { HOME: scratch, PATH: `${dirname(old)}:/usr/bin:/bin` } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /needs Node 24 or newer/);
  assert.match(r.stderr, /npm install --save-dev node@24/);
  assert.doesNotMatch(r.stderr, /run `npm install` in/, 'not the advice for nanovisor\'s own checkout');
});

test('demo inside node_modules uses the example apps built into the package (no scripts/*.ts to strip)', (t) => {
  if (skip !== false) return t.skip(skip);
  const r = spawnSync(join(project, 'node_modules', '.bin', 'nanovisor'), ['demo'], { cwd: project, encoding: 'utf8', env: { HOME: scratch, PATH: node24Path, NANOVISOR_HOME: join(scratch, 'demo-home') } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /using the example apps built into the installed package/);
  assert.match(r.stdout, /Hello, world! \(C on nanovisor\)/);
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function post(port: number, path: string, body: string): Promise<{ status: number; text: string } | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

test('serve inside node_modules: the first start deploys the bundled examples and /echo-c answers', async (t) => {
  if (skip !== false) return t.skip(skip);
  const port = await freePort();
  const data = join(scratch, 'serve-data');
  const daemon = spawn(join(project, 'node_modules', '.bin', 'nanovisor'), ['serve', '--data', data, '--api', '127.0.0.1:0', '--listen', `127.0.0.1:${port}`, '--grace', '1s'], {
    cwd: project, env: { HOME: scratch, PATH: node24Path }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  daemon.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((r) => daemon.on('exit', () => r()));
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    let got: { status: number; text: string } | undefined;
    // Not a timed assertion: a bound on waiting, so a daemon that never serves fails the test.
    for (let i = 0; i < 3000 && !gone; i++) {
      got = await post(port, '/echo-c', 'from a consumer');
      if (got?.status === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(got?.status, 200, `no echo from /echo-c; daemon log:\n${log.slice(-3000)}`);
    assert.match(got!.text, /from a consumer/);
  } finally {
    daemon.kill('SIGTERM');
    await exited;
  }
});
