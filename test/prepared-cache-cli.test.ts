// `nanovisor run` keeps prepared modules in STORE/cache/prepared (src/host/prepared-cache.ts,
// docs/run.md): written once, read afterwards, rebuilt when corrupt, off with --no-cache or
// NANOVISOR_PREPARED_CACHE=off, moved with NANOVISOR_PREPARED_CACHE=DIR.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exampleDir, guestWasm, makeScratch, root } from './helpers.ts';

const scratch = makeScratch('nv-prepared-cli-');
const bin = join(root, 'bin', 'nanovisor');

function nv(args: string[], home: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, NANOVISOR_HOME: home, NANOVISOR_PREPARED_CACHE: '', ...env } });
}

const entries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.nvprep')) : []);

test('run FILE.wasm: prepared once into STORE/cache/prepared, read back, a corrupt entry said and rebuilt', () => {
  const home = join(scratch, 'file');
  const dir = join(home, 'cache', 'prepared');
  const wasm = guestWasm('c', 'hello');
  const first = nv(['run', wasm], home);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(entries(dir).length, 1);
  const file = join(dir, entries(dir)[0]!);
  const good = readFileSync(file);
  const again = nv(['run', wasm], home);
  assert.equal(again.stdout, first.stdout);
  assert.equal(again.stderr, '');
  const bad = Buffer.from(good);
  bad[bad.length - 1]! ^= 1;
  writeFileSync(file, bad);
  const rebuilt = nv(['run', wasm], home);
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  assert.equal(rebuilt.stdout, first.stdout);
  assert.match(rebuilt.stderr, /prepared-module cache: .* was corrupt \(payload does not match its SHA-256\); rebuilding it/);
  assert.deepEqual(readFileSync(file), good);
});

test('run IMAGE: keyed by its layers, one entry per memory limit', () => {
  const home = join(scratch, 'image');
  const built = nv(['build', join(exampleDir('hello-c'))], home);
  assert.equal(built.status, 0, built.stderr);
  assert.equal(nv(['run', 'hello-c'], home).status, 0);
  assert.equal(nv(['run', 'hello-c'], home).status, 0);
  assert.equal(entries(join(home, 'cache', 'prepared')).length, 1);
  assert.equal(nv(['run', '--memory', '32M', 'hello-c'], home).status, 0);
  assert.equal(entries(join(home, 'cache', 'prepared')).length, 2);
});

test('--no-cache and NANOVISOR_PREPARED_CACHE=off write nothing; NANOVISOR_PREPARED_CACHE=DIR writes there', () => {
  const home = join(scratch, 'off');
  const wasm = guestWasm('c', 'hello');
  assert.equal(nv(['run', '--no-cache', wasm], home).status, 0);
  assert.equal(nv(['run', wasm], home, { NANOVISOR_PREPARED_CACHE: 'off' }).status, 0);
  assert.ok(!existsSync(join(home, 'cache')));
  const elsewhere = join(scratch, 'elsewhere');
  assert.equal(nv(['run', wasm], home, { NANOVISOR_PREPARED_CACHE: elsewhere }).status, 0);
  assert.equal(entries(elsewhere).length, 1);
  assert.ok(!existsSync(join(home, 'cache')));
});
