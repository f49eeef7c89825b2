// WASI 0.2 components as Nano-VMs (docs/components.md): the wasi:cli/command world under the
// library and `nanovisor run`/`build`, on the same kernel state and VFS as preview1. The guests
// are built offline from test/guests/component (p2_cli.c through jco's preview1 adapter,
// missing_import.wit as jco's dummy module). One transpile per process: prepared once here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NanoVm, prepareModule, type PreparedModule } from '../src/host/index.ts';
import { isComponent, loadComponentTools } from '../src/host/component/index.ts';
import { buildImageTree } from '../src/kernel/vfs/index.ts';
import { guestWasm, loadWasm, makeScratch } from './helpers.ts';

const cli = fileURLToPath(new URL('../bin/nanovisor.js', import.meta.url));
const P2_CLI = guestWasm('component', 'p2_cli');
const MISSING = guestWasm('component', 'missing_import');
let p2: PreparedModule;

before(async () => {
  await loadComponentTools();
  p2 = prepareModule(loadWasm(P2_CLI));
});

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

function nv(home: string, args: string[], input = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, NANOVISOR_HOME: home }, encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a component is told from a core module by its header', () => {
  assert.equal(isComponent(loadWasm(P2_CLI)), true);
  assert.equal(isComponent(loadWasm(guestWasm('c', 'hello'))), false);
  assert.ok(p2.component !== undefined);
  assert.equal(p2.component.world, 'command');
});

test('args and env reach wasi:cli/environment', () => {
  const r = NanoVm.create(p2, { args: ['p2', 'args', 'x y'], env: { A: '1' } }).run();
  assert.equal(r.exitCode, 0, text(r.stderr));
  assert.equal(text(r.stdout), 'arg: p2\narg: args\narg: x y\n');
  const e = NanoVm.create(p2, { args: ['p2', 'env'], env: { A: '1', B: 'two=2' } }).run();
  assert.equal(text(e.stdout), 'env: A=1\nenv: B=two=2\n');
});

test('stdin is a wasi:io input stream over the kernel stdin', () => {
  const r = NanoVm.create(p2, { args: ['p2', 'stdin'], stdin: 'hello\nworld\n' }).run();
  assert.equal(text(r.stdout), 'HELLO\nWORLD\n');
  assert.equal(text(r.stderr), '12 bytes\n');
});

test('wasi:cli/exit: exit(0) is 0, any other exit code is err (1), as the 0.2 command world says', () => {
  assert.equal(NanoVm.create(p2, { args: ['p2', 'exit', '0'] }).run().exitCode, 0);
  const r = NanoVm.create(p2, { args: ['p2', 'exit', '3'] }).run();
  assert.equal(r.outcome, 'exit');
  assert.equal(r.exitCode, 1);
  assert.equal(text(r.stdout), 'exiting\n');
});

test('wasi:filesystem over a host mount: write, stat, read back, rename, readdir, unlink', () => {
  const dir = makeScratch();
  const r = NanoVm.create(p2, { args: ['p2', 'fs', '/scratch'], mounts: [{ hostPath: dir, guestPath: '/scratch', readonly: false }] }).run();
  assert.equal(r.exitCode, 0, text(r.stderr));
  assert.equal(text(r.stdout), 'ok: 300 KB round trip\nentry: moved.bin\nok: create in an opened directory\nok: rename, readdir, unlink, rmdir\n');
  assert.equal(existsSync(join(dir, 'work')), false);
});

test('a read-only mount refuses writes through the same VFS rules', () => {
  const dir = makeScratch();
  const r = NanoVm.create(p2, { args: ['p2', 'fs', '/scratch'], mounts: [{ hostPath: dir, guestPath: '/scratch', readonly: true }] }).run();
  assert.equal(r.exitCode, 1);
  assert.match(text(r.stderr), /FAIL p2_cli: mkdir/);
  assert.equal(existsSync(join(dir, 'work')), false);
});

test('wasi:filesystem over the image root: copy-on-write, the image is never changed', () => {
  const tree = buildImageTree([{ path: '/etc', kind: 'dir', mode: 0o755 }, { path: '/etc/a.txt', kind: 'file', mode: 0o644, data: new TextEncoder().encode('a') }]);
  for (let i = 0; i < 2; i++) {
    const r = NanoVm.create(p2, { args: ['p2', 'fs', '/'], image: tree }).run();
    assert.equal(r.exitCode, 0, text(r.stderr));
  }
});

test('clocks sleep through wasi:io/poll; random bytes differ', () => {
  const c = NanoVm.create(p2, { args: ['p2', 'clock'] }).run();
  assert.equal(text(c.stdout), 'slept >= 50 ms: yes\nwall clock after 2020: yes\n');
  const r = NanoVm.create(p2, { args: ['p2', 'random'] }).run();
  assert.equal(text(r.stdout), 'random differs: yes\n');
});

test('limits: a spinning component is stopped at its time limit; output is bounded', async () => {
  const r = NanoVm.create(p2, { args: ['p2', 'spin'], timeoutMs: 300 }).run();
  assert.equal(r.outcome, 'timeout');
  assert.equal(r.error?.code, 'NV_GUEST_TIMEOUT');
  const a = await NanoVm.createAsync(p2, { args: ['p2', 'spin'], timeoutMs: 300 }).runAsync();
  assert.equal(a.outcome, 'timeout');
  const o = NanoVm.create(p2, { args: ['p2', 'args', 'x'.repeat(200)], maxOutputBytes: 64 }).run();
  assert.equal(o.outcome, 'output-limit');
});

test('the asynchronous path (hosts) runs components too', async () => {
  const r = await NanoVm.createAsync(p2, { args: ['p2', 'args', 'async'] }).runAsync();
  assert.equal(text(r.stdout), 'arg: p2\narg: args\narg: async\n');
});

test('every VM gets a fresh instance: no state crosses from one run to the next', () => {
  const dir = makeScratch();
  for (let i = 0; i < 3; i++) {
    const r = NanoVm.create(p2, { args: ['p2', 'fs', '/s'], mounts: [{ hostPath: dir, guestPath: '/s', readonly: false }] }).run();
    assert.equal(r.exitCode, 0, text(r.stderr));
  }
});

test('the memory limit applies to the component\'s core modules', () => {
  assert.throws(() => prepareModule(loadWasm(P2_CLI), 64 * 1024), (e: { code?: string }) => e.code === 'NV_GUEST_MEMORY_LIMIT');
});

test('a component importing what the kernel lacks is refused by name (library and build)', () => {
  assert.throws(() => prepareModule(loadWasm(MISSING)), (e: { code?: string; message?: string }) => e.code === 'NV_COMPONENT_UNKNOWN_IMPORTS' && /nanovisor:test\/sockets/.test(e.message ?? '') && !/wall-clock/.test(e.message ?? ''));
  const home = makeScratch();
  const r = nv(home, ['build', MISSING]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /NV_COMPONENT_UNKNOWN_IMPORTS: component imports what the nanovisor kernel does not provide: nanovisor:test\/sockets/);
});

test('nanovisor run FILE: --env, --dir and the exit code, as for modules', () => {
  const home = makeScratch();
  const dir = makeScratch();
  const r = nv(home, ['run', '--env', 'GREETING=hi', '--dir', `${dir}::/scratch`, P2_CLI, 'env']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'env: GREETING=hi\n');
  const f = nv(home, ['run', '--dir', `${dir}::/scratch`, P2_CLI, 'fs', '/scratch']);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout, /ok: rename, readdir, unlink, rmdir/);
  const x = nv(home, ['run', P2_CLI, 'exit', '7']);
  assert.equal(x.code, 1);
});

test('nanovisor build APP with a component, then run the image: manifest args, env and files', () => {
  const home = makeScratch();
  const app = makeScratch();
  copyFileSync(P2_CLI, join(app, 'p2.wasm'));
  mkdirSync(join(app, 'data'));
  writeFileSync(join(app, 'data', 'x.txt'), 'x');
  writeFileSync(join(app, 'nanovisor.json'), JSON.stringify({ name: 'p2app', module: 'p2.wasm', args: ['env'], env: { FROM: 'manifest' }, files: [{ from: 'data', to: '/data' }] }));
  const b = nv(home, ['build', app]);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /^p2app:latest sha256:/);
  const r = nv(home, ['run', 'p2app']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'env: FROM=manifest\n');
  assert.equal(readFileSync(join(app, 'data', 'x.txt'), 'utf8'), 'x');
});
