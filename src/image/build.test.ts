import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isNanovisorError, type ErrorCode } from '../shared/errors.ts';
import { buildImage, nameFromFile } from './build.ts';
import { ImageStore } from './store.ts';
import { compileC, HELLO_C, tempDir, writeTree } from './testing.ts';

function app(root: string, manifest: Record<string, unknown>, files: Record<string, string | Uint8Array> = {}): string {
  const dir = join(root, 'app');
  writeTree(dir, { 'hello.wasm': compileC(HELLO_C), 'nanovisor.json': JSON.stringify(manifest), ...files });
  return dir;
}

function fails(code: ErrorCode, fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(isNanovisorError(e, code), `expected ${code}, got ${String(e)}`);
    if (pattern !== undefined) assert.match((e as Error).message, pattern);
    return true;
  });
}

test('builds an app directory: manifest, module, files; tagged name:version', () => {
  using tmp = tempDir();
  const dir = app(tmp.path, {
    name: 'hello', version: '1.0', module: 'hello.wasm', args: ['x'],
    files: [{ from: 'static', to: '/srv/www' }, { from: 'conf/app.conf', to: '/etc/app.conf' }],
  }, { 'static/index.html': '<h1>hi</h1>', 'static/css/a.css': 'a{}', 'conf/app.conf': 'k=v\n', 'secret.txt': 'no' });
  symlinkSync('index.html', join(dir, 'static/home.html'));
  chmodSync(join(dir, 'static/css/a.css'), 0o700);
  const store = ImageStore.open(join(tmp.path, 'store'));
  const r = buildImage({ dir, store });
  assert.equal(r.name, 'hello');
  assert.equal(r.tag, 'hello:1.0');
  const img = store.load('hello:1.0');
  assert.equal(img.digest, r.digest);
  assert.deepEqual(img.manifest.args, ['x']);
  assert.deepEqual(img.files.map((f) => `${f.kind} ${f.path} ${f.mode.toString(8)}${f.target ? ` -> ${f.target}` : ''}`), [
    'file /etc/app.conf 644',
    'dir /srv/www 755',
    'dir /srv/www/css 755',
    'file /srv/www/css/a.css 755',
    'symlink /srv/www/home.html 777 -> index.html',
    'file /srv/www/index.html 644',
  ]);
});

test('building the same inputs twice gives the same digest; a changed file changes it', () => {
  using tmp = tempDir();
  const dir = app(tmp.path, { name: 'd', module: 'hello.wasm', files: [{ from: 'f', to: '/f' }] }, { 'f/a': '1', 'f/b': '2' });
  const r1 = buildImage({ dir, store: ImageStore.open(join(tmp.path, 's1')) });
  const r2 = buildImage({ dir, store: ImageStore.open(join(tmp.path, 's2')) });
  assert.equal(r1.digest, r2.digest);
  writeFileSync(join(dir, 'f/b'), '3');
  assert.notEqual(buildImage({ dir, store: ImageStore.open(join(tmp.path, 's1')) }).digest, r1.digest);
});

test('a bare .wasm builds with a synthesised manifest; --tag overrides the tag', () => {
  using tmp = tempDir();
  writeTree(tmp.path, { 'My_Tool.wasm': compileC(HELLO_C) });
  const store = ImageStore.open(join(tmp.path, 'store'));
  const r = buildImage({ dir: join(tmp.path, 'My_Tool.wasm'), store });
  assert.equal(r.tag, 'my_tool:latest');
  assert.equal(store.load('my_tool').manifest.module, 'My_Tool.wasm');
  assert.equal(buildImage({ dir: join(tmp.path, 'My_Tool.wasm'), store, tag: 'tool:v2' }).tag, 'tool:v2');
  fails('NV_IMAGE_REF_INVALID', () => buildImage({ dir: join(tmp.path, 'My_Tool.wasm'), store, tag: 'Bad:Tag!' }));
  assert.equal(nameFromFile('/x/__.WASM'), 'app');
  assert.equal(nameFromFile('Hello World.wasm'), 'hello-world');
});

test('files are confined to the app directory', () => {
  using tmp = tempDir();
  writeTree(tmp.path, { 'outside/secret': 'top secret' });
  const store = ImageStore.open(join(tmp.path, 'store'));
  const build = (files: unknown, extra: Record<string, string> = {}) => {
    const dir = join(tmp.path, `app-${Math.random().toString(16).slice(2)}`);
    writeTree(dir, { 'hello.wasm': compileC(HELLO_C), 'nanovisor.json': JSON.stringify({ name: 'c', module: 'hello.wasm', files }), ...extra });
    return dir;
  };
  // `..` in from is refused by the schema already.
  fails('NV_MANIFEST_INVALID', () => buildImage({ dir: build([{ from: '../outside', to: '/o' }]), store }), /files\[0\]\.from/);
  // A symlinked `from` that leads out.
  let dir = build([{ from: 'link', to: '/o' }]);
  symlinkSync(join(tmp.path, 'outside'), join(dir, 'link'));
  fails('NV_IMAGE_FILES_INVALID', () => buildImage({ dir, store }), /outside the app directory/);
  // A symlink inside a copied directory that leads out (absolute and relative).
  dir = build([{ from: 'd', to: '/d' }], { 'd/ok': 'x' });
  symlinkSync(join(tmp.path, 'outside/secret'), join(dir, 'd/abs'));
  fails('NV_IMAGE_FILES_INVALID', () => buildImage({ dir, store }), /symlink d\/abs/);
  dir = build([{ from: 'd', to: '/d' }], { 'd/ok': 'x' });
  symlinkSync('../../outside/secret', join(dir, 'd/rel'));
  fails('NV_IMAGE_FILES_INVALID', () => buildImage({ dir, store }), /outside the app directory/);
  // The module itself through a symlink out.
  dir = build([]);
  symlinkSync(join(tmp.path, 'outside/secret'), join(dir, 'evil.wasm'));
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ name: 'c', module: 'evil.wasm' }));
  fails('NV_IMAGE_FILES_INVALID', () => buildImage({ dir, store }), /module/);
  // A symlink to another place inside the app dir is copied as the file it names.
  dir = build([{ from: 'd', to: '/d' }], { 'd/ok': 'x', 'other/file': 'shared' });
  symlinkSync('../other/file', join(dir, 'd/copy'));
  const r = buildImage({ dir, store });
  const copy = store.load(r.digest).files.find((f) => f.path === '/d/copy');
  assert.equal(copy?.kind, 'file');
  assert.equal(new TextDecoder().decode(copy?.data), 'shared');
  // Duplicate guest paths.
  dir = build([{ from: 'a', to: '/x' }, { from: 'b', to: '/x' }], { a: '1', b: '2' });
  fails('NV_IMAGE_FILES_INVALID', () => buildImage({ dir, store }), /given twice/);
  // A missing `from`.
  fails('NV_FILE_NOT_FOUND', () => buildImage({ dir: build([{ from: 'nope', to: '/x' }]), store }));
  // A fifo is neither a file, a directory nor a symlink.
  dir = build([{ from: 'd', to: '/d' }], { 'd/ok': 'x' });
  execFileSync('mkfifo', [join(dir, 'd/pipe')]);
  fails('NV_IMAGE_FILES_INVALID', () => buildImage({ dir, store }), /not a regular file, directory or symlink/);
});

test('manifest and module problems surface with their own codes', () => {
  using tmp = tempDir();
  const store = ImageStore.open(join(tmp.path, 'store'));
  fails('NV_FILE_NOT_FOUND', () => buildImage({ dir: join(tmp.path, 'none'), store }));
  mkdirSync(join(tmp.path, 'empty'));
  fails('NV_FILE_NOT_FOUND', () => buildImage({ dir: join(tmp.path, 'empty'), store }), /nanovisor\.json/);
  let dir = app(join(tmp.path, 'a'), { name: 'x', module: 'hello.wasm', limits: { memroy: 1 } });
  fails('NV_MANIFEST_INVALID', () => buildImage({ dir, store }), /unknown field "limits\.memroy"/);
  dir = app(join(tmp.path, 'b'), { name: 'x', module: 'hello.wasm', entry: 'serve' });
  fails('NV_MODULE_NO_ENTRY', () => buildImage({ dir, store }), /serve/);
  dir = app(join(tmp.path, 'c'), { name: 'x', module: 'hello.wasm', limits: { memoryBytes: 65536 } });
  fails('NV_GUEST_MEMORY_LIMIT', () => buildImage({ dir, store }), /module needs .* of memory at start .*; limits\.memoryBytes is 64 KiB/);
  dir = app(join(tmp.path, 'd'), { name: 'x', module: 'bad.wasm' }, { 'bad.wasm': 'not wasm' });
  fails('NV_MODULE_MALFORMED', () => buildImage({ dir, store }));
  // Another manifest file than nanovisor.json.
  writeFileSync(join(dir, 'alt.json'), JSON.stringify({ name: 'alt', module: 'hello.wasm' }));
  assert.equal(buildImage({ dir, store, manifestPath: join(dir, 'alt.json') }).tag, 'alt:latest');
});

test('the files of a loaded image make a kernel image tree', async () => {
  const { buildImageTree } = await import('../kernel/vfs/index.ts');
  using tmp = tempDir();
  const dir = app(tmp.path, { name: 't', module: 'hello.wasm', files: [{ from: 'www', to: '/srv/www' }, { from: 'c', to: '/etc/c' }] },
    { 'www/index.html': 'hi', 'www/a/b/c.txt': 'deep', c: 'conf' });
  symlinkSync('index.html', join(dir, 'www/home'));
  const store = ImageStore.open(join(tmp.path, 'store'));
  const tree = buildImageTree(store.load(buildImage({ dir, store }).digest).files);
  assert.deepEqual([...tree.root.entries.keys()].sort(), ['etc', 'srv']);
  assert.equal(tree.dataBytes, 'hi'.length + 'deep'.length + 'conf'.length);
});

test('a wasi server image: its module rewritten so sock_accept can park it (asyncify), with a snapshot; buildImage asks for the tools first', async () => {
  using tmp = tempDir();
  const dir = app(tmp.path, { name: 'srv', module: 'hello.wasm', server: { idleTimeoutMs: 1000 } });
  const store = ImageStore.open(join(tmp.path, 'store'));
  const { buildImageAsync } = await import('./build.ts');
  const r = await buildImageAsync({ dir, store });
  const img = store.load(r.digest);
  const names = WebAssembly.Module.exports(new WebAssembly.Module(img.module)).map((e) => e.name);
  for (const n of ['asyncify_start_unwind', 'asyncify_stop_unwind', 'asyncify_start_rewind', 'asyncify_stop_rewind']) assert.ok(names.includes(n), n);
  assert.ok(img.snapshot !== undefined);
  assert.deepEqual(img.manifest.server, { ready: { tcp: true }, readyTimeoutMs: 10_000, idleTimeoutMs: 1000 });
  const pre = app(join(tmp.path, 'pre'), { name: 'srv', module: 'hello.wasm', server: {}, snapshot: { initialize: true } });
  fails('NV_MANIFEST_INVALID', () => buildImage({ dir: pre, store }), /snapshot\.initialize: not for a server/);
});
