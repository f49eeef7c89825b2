// `nanovisor run` end to end: the real launcher in a child process, modules compiled with
// clang, images in a throw-away store. Covers files, images, mounts, limits and errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';
import { StateDb, Volumes } from '../src/control/index.ts';

const cli = fileURLToPath(new URL('../bin/nanovisor.js', import.meta.url));

interface Run { code: number | null; stdout: string; stderr: string }

function nv(home: string, cwd: string, args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, env: { ...process.env, NANOVISOR_HOME: home }, encoding: 'utf8', input: input ?? '' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const APP_C = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) printf("arg%d=%s\\n", i, argv[i]);
  const char *g = getenv("GREETING");
  printf("GREETING=%s\\n", g ? g : "(unset)");
  FILE *f = fopen("/etc/app/msg.txt", "r");
  char buf[64] = {0};
  if (f) { fgets(buf, sizeof buf, f); fclose(f); printf("file=%s", buf); }
  FILE *w = fopen("/etc/app/msg.txt", "w");
  if (w) { fputs("changed\\n", w); fclose(w); }
  if (argc > 1 && strcmp(argv[argc - 1], "copy") == 0) {
    FILE *in = fopen("/mnt/in.txt", "r"); FILE *out = fopen("/mnt/out.txt", "w");
    if (!in || !out) { perror("mount"); return 4; }
    int c; while ((c = fgetc(in)) != EOF) fputc(c, out);
    fclose(in); fclose(out);
  }
  if (argc > 1 && strcmp(argv[argc - 1], "stdin") == 0) {
    char line[64] = {0}; fgets(line, sizeof line, stdin); printf("stdin=%s", line);
  }
  return argc > 1 && strcmp(argv[argc - 1], "fail") == 0 ? 7 : 0;
}
`;

test('run a .wasm with args after the module and after --, env, and exit code', () => {
  using tmp = tempDir('nv-run-');
  writeFileSync(join(tmp.path, 'app.wasm'), compileC(APP_C));
  const r = nv(join(tmp.path, 'home'), tmp.path, ['run', '--env', 'GREETING=hi', 'app.wasm', 'one', '--', '--two', 'fail']);
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stdout, 'arg0=app.wasm\narg1=one\narg2=--two\narg3=fail\nGREETING=hi\n');
  // run is the default verb; stdin is wired.
  const s = nv(join(tmp.path, 'home'), tmp.path, ['app.wasm', 'stdin'], 'piped\n');
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /stdin=piped\n/);
});

test('everything after the module goes to the guest, flags included, as with wasmtime run', () => {
  using tmp = tempDir('nv-run-');
  const home = join(tmp.path, 'home');
  writeFileSync(join(tmp.path, 'app.wasm'), compileC(APP_C));
  // Unknown flags, nanovisor's own flags and --help after the module are the guest's.
  const r = nv(home, tmp.path, ['run', 'app.wasm', '-x', '--bogus=1', '--env', 'GREETING=no', '--help', '-q']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'arg0=app.wasm\narg1=-x\narg2=--bogus=1\narg3=--env\narg4=GREETING=no\narg5=--help\narg6=-q\nGREETING=(unset)\n');
  // The first -- (right after the module or later) is dropped; a second one is kept.
  const d = nv(home, tmp.path, ['run', 'app.wasm', '--', '-a', '--', '-b']);
  assert.equal(d.stdout, 'arg0=app.wasm\narg1=-a\narg2=--\narg3=-b\nGREETING=(unset)\n');
  const later = nv(home, tmp.path, ['run', 'app.wasm', 'one', '--', '--two']);
  assert.equal(later.stdout, 'arg0=app.wasm\narg1=one\narg2=--two\nGREETING=(unset)\n');
  // -- before the module ends nanovisor's flags too; the default verb passes --help on.
  const before = nv(home, tmp.path, ['run', '--env', 'GREETING=hi', '--', 'app.wasm', '--x']);
  assert.equal(before.stdout, 'arg0=app.wasm\narg1=--x\nGREETING=hi\n');
  const bare = nv(home, tmp.path, ['app.wasm', '--help']);
  assert.equal(bare.stdout, 'arg0=app.wasm\narg1=--help\nGREETING=(unset)\n');
  // --help before the module is nanovisor's.
  assert.match(nv(home, tmp.path, ['run', '--help']).stdout, /^Usage: nanovisor run \[flags\]/);
});

test('run an image by name: manifest args/env, image files with a private writable layer', () => {
  using tmp = tempDir('nv-run-');
  const home = join(tmp.path, 'home');
  writeTree(join(tmp.path, 'app'), {
    'app.wasm': compileC(APP_C),
    'conf/msg.txt': 'from the image\n',
    'nanovisor.json': JSON.stringify({ name: 'app', module: 'app.wasm', args: ['--flag'], env: { GREETING: 'image' }, files: [{ from: 'conf', to: '/etc/app' }] }),
  });
  assert.equal(nv(home, tmp.path, ['build', 'app']).code, 0);
  for (let i = 0; i < 2; i++) {
    const r = nv(home, tmp.path, ['run', '--env', 'EXTRA=1', 'app', 'last']);
    assert.equal(r.code, 0, r.stderr);
    // The write in the first run went to that VM's own layer: the second run sees the image again.
    assert.equal(r.stdout, 'arg0=app\narg1=--flag\narg2=last\nGREETING=image\nfile=from the image\n');
  }
  assert.equal(readFileSync(join(tmp.path, 'app', 'conf', 'msg.txt'), 'utf8'), 'from the image\n');
});

test('--dir HOST::GUEST mounts read-write; --dir-ro refuses writes', () => {
  using tmp = tempDir('nv-run-');
  const home = join(tmp.path, 'home');
  writeFileSync(join(tmp.path, 'app.wasm'), compileC(APP_C));
  mkdirSync(join(tmp.path, 'data'));
  writeFileSync(join(tmp.path, 'data', 'in.txt'), 'payload');
  const rw = nv(home, tmp.path, ['run', '--dir', 'data::/mnt', 'app.wasm', 'copy']);
  assert.equal(rw.code, 0, rw.stderr);
  assert.equal(readFileSync(join(tmp.path, 'data', 'out.txt'), 'utf8'), 'payload');
  const ro = nv(home, tmp.path, ['run', '--dir-ro', 'data::/mnt', 'app.wasm', 'copy']);
  assert.equal(ro.code, 4);
  assert.match(ro.stderr, /mount: Read-only file system/);
  // The documented suffix: HOST::GUEST:ro is read-only at GUEST (not read-write at "GUEST:ro").
  rmSync(join(tmp.path, 'data', 'out.txt'));
  const suffix = nv(home, tmp.path, ['run', '--dir', 'data::/mnt:ro', 'app.wasm', 'copy']);
  assert.equal(suffix.code, 4, suffix.stderr);
  assert.match(suffix.stderr, /mount: Read-only file system/);
  assert.equal(existsSync(join(tmp.path, 'data', 'out.txt')), false, 'nothing written on the host');
  assert.equal(nv(home, tmp.path, ['run', '--dir', 'data::/mnt:rw', 'app.wasm', 'copy']).code, 0);
  assert.match(nv(home, tmp.path, ['run', '--dir-ro', 'data::/mnt:rw', 'app.wasm', 'copy']).stderr, /NV_MOUNT_INVALID: --dir-ro "data::\/mnt:rw": a read-only mount cannot be marked :rw/);
});

test('limits: timeout exits 124 with one line; memory flag; output limit exits 125', () => {
  using tmp = tempDir('nv-run-');
  const home = join(tmp.path, 'home');
  writeFileSync(join(tmp.path, 'spin.wasm'), compileC('int main(void) { volatile int x = 0; for (;;) x++; }'));
  const t = nv(home, tmp.path, ['run', '--timeout', '200ms', 'spin.wasm']);
  assert.equal(t.code, 124);
  assert.equal(t.stderr, 'nanovisor: spin.wasm: NV_GUEST_TIMEOUT: guest ran past its 200 ms time limit and was stopped\n');
  writeFileSync(join(tmp.path, 'flood.wasm'), compileC('#include <stdio.h>\nint main(void) { for (;;) puts("flood flood flood"); }'));
  const f = nv(home, tmp.path, ['run', '--max-output', '64K', 'flood.wasm']);
  assert.equal(f.code, 125);
  assert.ok(f.stdout.length <= 65536);
  writeFileSync(join(tmp.path, 'bomb.wasm'), compileC('#include <stdlib.h>\n#include <stdio.h>\nchar *volatile sink;\nint main(void) { size_t n = 0; for (;;) { char *p = malloc(1 << 20); if (!p) break; sink = p; n++; } printf("got %zu MiB\\n", n); return 0; }'));
  const b = nv(home, tmp.path, ['run', '--memory', '16M', 'bomb.wasm']);
  assert.equal(b.code, 0, b.stderr);
  const mib = Number(/got (\d+) MiB/.exec(b.stdout)?.[1]);
  assert.ok(mib > 0 && mib < 16, b.stdout);
});

test('bad input: one clear line and a non-zero exit, no stack trace', () => {
  using tmp = tempDir('nv-run-');
  const home = join(tmp.path, 'home');
  const good = compileC('int main(void) { return 0; }');
  writeFileSync(join(tmp.path, 'trunc.wasm'), good.subarray(0, good.length >> 1));
  writeFileSync(join(tmp.path, 'junk.wasm'), 'not wasm at all');
  const cases: [string[], RegExp][] = [
    [['run', 'trunc.wasm'], /^nanovisor: error NV_MODULE_MALFORMED: /],
    [['run', 'junk.wasm'], /^nanovisor: error NV_MODULE_MALFORMED: /],
    [['run', 'missing.wasm'], /^nanovisor: error NV_FILE_NOT_FOUND: no such file: missing.wasm\n/],
    [['run', 'no-such-image'], /^nanovisor: error NV_IMAGE_NOT_FOUND: /],
    [['run', '--memory', 'lots', 'junk.wasm'], /^nanovisor: error NV_USAGE: --memory: "lots" is not a size/],
    [['run', '--bogus', 'junk.wasm'], /^nanovisor: error NV_USAGE: run: unknown flag --bogus\n/],
    [['run', '--dir', 'nope::/x', 'junk.wasm'], /^nanovisor: error NV_MOUNT_INVALID: /],
  ];
  for (const [args, re] of cases) {
    const r = nv(home, tmp.path, args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stderr.trimEnd().split('\n').length, 2, `one line plus a hint: ${r.stderr}`);
  }
  assert.ok(!existsSync(join(home, 'images', 'blobs', 'sha256', 'x')));
});

test('--volume NAME:/GUEST mounts a volume of the local data directory; unknown and exclusive-while-served are refused', () => {
  using tmp = tempDir('nv-run-vol-');
  writeFileSync(join(tmp.path, 'app.wasm'), compileC(APP_C));
  const home = join(tmp.path, 'home');
  mkdirSync(home);
  const db = StateDb.open(join(home, 'nanovisor.db'));
  const volumes = new Volumes(db, join(home, 'volumes'));
  volumes.create({ name: 'files' });
  volumes.create({ name: 'locked', access: 'exclusive' });
  volumes.create({ name: 'tiny', quotaBytes: 4 });
  db.close();
  writeFileSync(join(home, 'volumes', 'files', 'in.txt'), 'from the volume\n');
  const rw = nv(home, tmp.path, ['run', '--volume', 'files:/mnt', 'app.wasm', 'copy']);
  assert.equal(rw.code, 0, rw.stderr);
  assert.equal(readFileSync(join(home, 'volumes', 'files', 'out.txt'), 'utf8'), 'from the volume\n');
  rmSync(join(home, 'volumes', 'files', 'out.txt'));
  const ro = nv(home, tmp.path, ['run', '--volume', 'files:/mnt:ro', 'app.wasm', 'copy']);
  assert.equal(ro.code, 4, 'a read-only volume refuses the write');
  assert.ok(!existsSync(join(home, 'volumes', 'files', 'out.txt')));
  const unknown = nv(home, tmp.path, ['run', '--volume', 'nope:/mnt', 'app.wasm']);
  assert.match(unknown.stderr, /NV_VOLUME_UNKNOWN: --volume "nope:\/mnt": no volume named "nope"/);
  assert.match(nv(home, tmp.path, ['run', '--volume', 'files', 'app.wasm']).stderr, /NV_USAGE: --volume "files": expected NAME:\/GUEST\[:ro\]/);
  // Its quota holds: the volume already holds more than its 4 bytes, so the copy writes nothing.
  writeFileSync(join(home, 'volumes', 'tiny', 'in.txt'), 'sixteen bytes!!\n');
  nv(home, tmp.path, ['run', '--volume', 'tiny:/mnt', 'app.wasm', 'copy']);
  assert.equal(readFileSync(join(home, 'volumes', 'tiny', 'out.txt'), 'utf8'), '', 'ENOSPC: not a byte past the quota');
  // Exclusive: fine while no daemon holds the data directory, refused while one does.
  assert.equal(nv(home, tmp.path, ['run', '--volume', 'locked:/mnt', 'app.wasm']).code, 0);
  writeFileSync(join(home, 'serve.lock'), '{}');
  assert.match(nv(home, tmp.path, ['run', '--volume', 'locked:/mnt', 'app.wasm']).stderr, /volume "locked" is exclusive and a nanovisor serve holds/);
});
