// `nanovisor run`'s own refusals of a module exit 1 as docs/run.md says (134 is the guest's
// trap), a module that can never start is NV_MODULE_INVALID or NV_MODULE_BAD_MEMORY at
// prepare and build, and a local run of a .wasm file defaults like wasmtime run: all of
// wasm32's 4 GiB of memory and no output limit (images keep their own limits).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';
import { NanoVm, prepareModule } from '../src/index.ts';
import { compileC, tempDir } from '../src/image/testing.ts';
import { isNanovisorError } from '../src/shared/errors.ts';

const cli = fileURLToPath(new URL('../bin/nanovisor.js', import.meta.url));
const wabt = await wabtInit();

function wat(text: string): Uint8Array {
  // multi_memory is a wabt feature its typings do not list yet.
  const m = wabt.parseWat('t.wat', text, { multi_memory: true } as Parameters<typeof wabt.parseWat>[2]);
  try {
    return m.toBinary({}).buffer;
  } finally {
    m.destroy();
  }
}

function nv(home: string, cwd: string, args: string[], stdout?: number): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd, env: { ...process.env, NANOVISOR_HOME: home }, encoding: 'utf8', stdio: ['ignore', stdout ?? 'pipe', 'pipe'],
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr };
}

const OOB = wat(`(module (memory (export "memory") 1) (data (i32.const 70000) "hello") (func (export "_start")))`);
const MULTI = wat(`(module (memory (export "memory") 1) (memory $second 1) (func (export "_start")))`);
const HELLO = wat(`(module (memory (export "memory") 1) (func (export "_start")) (func (export "other")))`);

test('run --invoke of an export the module does not have exits 1 with NV_MODULE_NO_ENTRY, not 134', () => {
  using tmp = tempDir('nv-refuse-');
  writeFileSync(join(tmp.path, 'm.wasm'), HELLO);
  const r = nv(join(tmp.path, 'home'), tmp.path, ['run', '--invoke', 'nope', 'm.wasm']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /NV_MODULE_NO_ENTRY: module has no exported function "nope"/);
  assert.equal(nv(join(tmp.path, 'home'), tmp.path, ['run', '--invoke', 'other', 'm.wasm']).code, 0);
});

test('a data segment out of bounds is NV_MODULE_INVALID at prepare, at build and at boot (exit 1), never a host fault or a trap', () => {
  const says = (e: unknown): boolean => isNanovisorError(e, 'NV_MODULE_INVALID') && /data segment 0 is out of bounds \(offset 70000, length 5/.test((e as Error).message);
  // Found at prepare where the offset is a constant (the snapshot transform reads the segments)...
  assert.throws(() => prepareModule(OOB), (e: unknown) => says(e) || assert.fail(String(e)));
  // ...and when the VM boots otherwise.
  const r = NanoVm.create(prepareModule(OOB, undefined, { snapshot: 'off' }), {}).run();
  assert.ok(says(r.error), String(r.error));
  using tmp = tempDir('nv-refuse-');
  writeFileSync(join(tmp.path, 'oob.wasm'), OOB);
  const home = join(tmp.path, 'home');
  const run = nv(home, tmp.path, ['run', 'oob.wasm']);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /NV_MODULE_INVALID: module cannot be instantiated: data segment 0 is out of bounds/);
  assert.doesNotMatch(run.stderr, /NV_HOST_FAULT|NV_GUEST_TRAP/);
  const build = nv(home, tmp.path, ['build', 'oob.wasm']);
  assert.equal(build.code, 1, build.stderr);
  assert.match(build.stderr, /NV_MODULE_INVALID/);
});

test('a module with two memories (multi-memory) is refused at prepare and by run with NV_MODULE_BAD_MEMORY', () => {
  assert.throws(() => prepareModule(MULTI), (e: unknown) => isNanovisorError(e, 'NV_MODULE_BAD_MEMORY') && /has 2 memories \(multi-memory\)/.test((e as Error).message));
  using tmp = tempDir('nv-refuse-');
  writeFileSync(join(tmp.path, 'mm.wasm'), MULTI);
  const r = nv(join(tmp.path, 'home'), tmp.path, ['run', 'mm.wasm']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /NV_MODULE_BAD_MEMORY: module has 2 memories/);
});

test('run FILE.wasm defaults like wasmtime: more than 256 MiB of memory and more than 16 MiB of output, without flags', () => {
  using tmp = tempDir('nv-defaults-');
  const home = join(tmp.path, 'home');
  // 300 blocks of 1 MiB, one byte of each touched (the host commits only what is touched).
  writeFileSync(join(tmp.path, 'big.wasm'), compileC('#include <stdio.h>\n#include <stdlib.h>\nstatic char *volatile keep[400];\nint main(void) { int n = 0; for (; n < 300; n++) { char *p = malloc(1 << 20); if (!p) break; p[0] = 1; keep[n] = p; } printf("got %d MiB\\n", n); return n == 300 ? 0 : 1; }'));
  const big = nv(home, tmp.path, ['run', 'big.wasm']);
  assert.equal(big.code, 0, big.stderr + big.stdout);
  assert.equal(big.stdout, 'got 300 MiB\n');
  // The platform's default still applies when asked for: --memory 256M stops it.
  assert.equal(nv(home, tmp.path, ['run', '--memory', '256M', 'big.wasm']).code, 1);
  // 20 MiB to stdout (a file here): all of it arrives, exit 0.
  writeFileSync(join(tmp.path, 'flood.wasm'), compileC('#include <stdio.h>\n#include <string.h>\nstatic char line[1024];\nint main(void) { memset(line, \'x\', sizeof line - 1); line[sizeof line - 1] = \'\\n\'; for (int i = 0; i < 20 * 1024; i++) fwrite(line, 1, sizeof line, stdout); return 0; }'));
  const out = join(tmp.path, 'out.txt');
  const fd = openSync(out, 'w');
  const flood = nv(home, tmp.path, ['run', 'flood.wasm'], fd);
  closeSync(fd);
  assert.equal(flood.code, 0, flood.stderr);
  assert.equal(statSync(out).size, 20 * 1024 * 1024);
  // --max-output still limits it.
  const fd2 = openSync(out, 'w');
  assert.equal(nv(home, tmp.path, ['run', '--max-output', '1M', 'flood.wasm'], fd2).code, 125);
  closeSync(fd2);
});
