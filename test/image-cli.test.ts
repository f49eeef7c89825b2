// `nanovisor build` and `nanovisor image ...` end to end: the real launcher in a child process,
// a throw-away store (NANOVISOR_HOME), an app directory with a clang-built module.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ImageStore } from '../src/image/index.ts';
import { compileC, HELLO_C, tempDir, writeTree } from '../src/image/testing.ts';

const cli = fileURLToPath(new URL('../bin/nanovisor.js', import.meta.url));

interface Run { code: number | null; stdout: string; stderr: string }

function nv(home: string, cwd: string, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, env: { ...process.env, NANOVISOR_HOME: home }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): string {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('build, ls, inspect, export, import, rm', () => {
  using tmp = tempDir();
  const home = join(tmp.path, 'home');
  const app = join(tmp.path, 'app');
  writeTree(app, {
    'hello.wasm': compileC(HELLO_C),
    'nanovisor.json': JSON.stringify({ name: 'hello', version: '1.0', module: 'hello.wasm', files: [{ from: 'www', to: '/srv/www' }] }),
    'www/index.html': '<p>hi</p>',
  });

  const built = ok(nv(home, tmp.path, 'build', 'app'));
  const m = /^hello:1\.0 (sha256:[0-9a-f]{64}) \(\d+(\.\d)? KiB\)\n$/.exec(built);
  assert.ok(m, built);
  const digest = m[1]!;
  assert.equal(ok(nv(home, app, 'build', '-q')), `${digest}\n`, 'same inputs, same digest; DIR defaults to the cwd');
  const json = JSON.parse(ok(nv(home, tmp.path, 'build', 'app', '--json', '--tag', 'hello:dev')));
  assert.deepEqual(Object.keys(json).sort(), ['digest', 'name', 'size', 'tag']);
  assert.equal(json.tag, 'hello:dev');

  const ls = ok(nv(home, tmp.path, 'image', 'ls')).split('\n');
  assert.match(ls[0]!, /^NAME\s+TAG\s+DIGEST\s+SIZE\s+CREATED$/);
  assert.equal(ls.filter((l) => l.startsWith('hello')).length, 2);
  assert.ok(ls.some((l) => new RegExp(`^hello\\s+1\\.0\\s+${digest.slice(7, 19)}\\s`).test(l)), ls.join('\n'));
  assert.equal(JSON.parse(ok(nv(home, tmp.path, 'image', 'ls', '--json')))[0].digest, digest);

  const info = JSON.parse(ok(nv(home, tmp.path, 'image', 'inspect', digest.slice(7, 15))));
  assert.equal(info.digest, digest);
  assert.ok(info.module.imports.some((i: { name: string }) => i.name === 'fd_write'));
  assert.deepEqual(info.layers.map((l: { role: string }) => l.role), ['module', 'files', 'snapshot'], 'the build seals a boot snapshot layer');

  const other = join(tmp.path, 'other');
  assert.match(ok(nv(home, tmp.path, 'image', 'export', 'hello:1.0', '-o', 'hello.tar')), /exported hello:1\.0, hello:dev to hello\.tar/);
  assert.match(ok(nv(home, tmp.path, 'image', 'import', 'hello.tar', '--store', other)), new RegExp(`imported hello:1\\.0, hello:dev ${digest}`));
  assert.match(ok(nv(home, tmp.path, 'image', 'ls', '--store', other)), /hello\s+1\.0/);

  // Several tags: removing by digest needs -f.
  const inUse = nv(home, tmp.path, 'image', 'rm', digest);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /NV_IMAGE_IN_USE/);
  assert.match(ok(nv(home, tmp.path, 'image', 'rm', 'hello:dev', 'hello:1.0')), /untagged hello:dev\nuntagged hello:1\.0\ndeleted sha256:/);
  assert.equal(ok(nv(home, tmp.path, 'image', 'ls', '-q')), '');
});

test('a tampered export is refused with one line and exit 1', () => {
  using tmp = tempDir();
  const home = join(tmp.path, 'home');
  writeTree(tmp.path, { 'tool.wasm': compileC(HELLO_C) });
  ok(nv(home, tmp.path, 'build', 'tool.wasm'));
  ok(nv(home, tmp.path, 'image', 'export', 'tool', '-o', 't.tar'));
  const tar = readFileSync(join(tmp.path, 't.tar'));
  const at = tar.indexOf('hello');
  assert.ok(at > 0);
  tar[at] = 'j'.charCodeAt(0);
  writeFileSync(join(tmp.path, 't.tar'), tar);
  const r = nv(home, tmp.path, 'image', 'import', 't.tar', '--store', join(tmp.path, 'fresh'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^nanovisor: error NV_IMAGE_DIGEST_MISMATCH: .*tampered/);
  assert.equal(r.stderr.trim().split('\n').length, 2, 'one line and a hint');
  assert.equal(ok(nv(home, tmp.path, 'image', 'ls', '-q', '--store', join(tmp.path, 'fresh'))), '');
});

test('user mistakes are one line with their code', () => {
  using tmp = tempDir();
  const home = join(tmp.path, 'home');
  writeTree(tmp.path, {
    'app/m.wasm': compileC(HELLO_C),
    'app/nanovisor.json': JSON.stringify({ name: 'x', module: 'm.wasm', limits: { memroy: 1 } }),
  });
  const bad = nv(home, tmp.path, 'build', 'app');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /NV_MANIFEST_INVALID: .*nanovisor\.json: unknown field "limits\.memroy"/);
  assert.match(nv(home, tmp.path, 'image', 'rm', 'nope').stderr, /NV_IMAGE_NOT_FOUND/);
  assert.match(nv(home, tmp.path, 'image', 'inspect', 'Bad!').stderr, /NV_IMAGE_REF_INVALID/);
  const usage = nv(home, tmp.path, 'image', 'export', 'x');
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /NV_USAGE: image export: give the output file with -o FILE/);
  assert.equal(nv(home, tmp.path, 'image', 'frob').code, 2);
  assert.match(ok(nv(home, tmp.path, 'image', '--help')), /Usage: nanovisor image/);
  assert.match(ok(nv(home, tmp.path, 'build', '--help')), /Usage: nanovisor build/);
});

test('the CLI cannot write tags under nanovisor.app. (the daemon\'s version pins)', () => {
  using tmp = tempDir();
  const home = join(tmp.path, 'home');
  writeTree(tmp.path, {
    'app/m.wasm': compileC(HELLO_C),
    'app/nanovisor.json': JSON.stringify({ name: 'x', module: 'm.wasm' }),
  });
  const build = nv(home, tmp.path, 'build', 'app', '--tag', 'nanovisor.app.other:v1');
  assert.equal(build.code, 1);
  assert.match(build.stderr, /NV_IMAGE_TAG_RESERVED: .*"nanovisor\.app\.other:v1" is under the prefix "nanovisor\.app\."/);
  ok(nv(home, tmp.path, 'build', 'app'));
  const tag = nv(home, tmp.path, 'image', 'tag', 'x', 'nanovisor.app.other:v1');
  assert.equal(tag.code, 1);
  assert.match(tag.stderr, /NV_IMAGE_TAG_RESERVED/);
  assert.match(ok(nv(home, tmp.path, 'image', 'ls')), /^x +latest /m);
  assert.doesNotMatch(ok(nv(home, tmp.path, 'image', 'ls')), /nanovisor\.app/);
  // A pin as serve writes it (into the same store, here by hand): image rm refuses to drop it.
  const store = ImageStore.openHome(home);
  store.tag('x', 'nanovisor.app.web:v3', { reserved: true });
  const digest = store.resolve('x').digest;
  for (const ref of ['nanovisor.app.web:v3', digest]) {
    const rm = nv(home, tmp.path, 'image', 'rm', ref, '-f');
    assert.equal(rm.code, 1, rm.stdout);
    assert.match(rm.stderr, /NV_IMAGE_PINNED: .*deployed as app "web" version 3/);
  }
  assert.equal(ok(nv(home, tmp.path, 'image', 'rm', 'x')), 'untagged x:latest\n', 'the user tag goes; the pin keeps the blobs');
  assert.equal(store.load('nanovisor.app.web:v3').digest, digest);
});
