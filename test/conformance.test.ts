/**
 * The conformance runner (scripts/conformance.ts), end to end on a tiny suite of our own
 * hand-assembled modules laid out like WebAssembly/wasi-testsuite: specs (legacy and
 * operations), expected exit codes and stdout, args and env through `nanovisor run`, a `root`
 * fixture mounted at `/` and copied fresh for every test, a WASI 0.2 suite of components, the
 * preview1 programs adapted to 0.2 components (--adapt-preview1), and a wasip3 suite left out.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { preview1AdapterCommandPath } from '@bytecodealliance/jco';
import { componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';
import { findSuites, readSpec } from '../scripts/conformance.ts';
import { wat } from './support/wat.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const WASI = '"wasi_snapshot_preview1"';
const work = mkdtempSync(join(tmpdir(), 'nv-conformance-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

function module(imports: string, body: string, data = ''): Uint8Array {
  return wat(`(module
    (import ${WASI} "proc_exit" (func $exit (param i32)))
    ${imports}
    (memory (export "memory") 1)
    ${data}
    (func (export "_start") ${body}))`);
}

/** Writes "hi\n" to stdout. */
const hello = module(
  `(import ${WASI} "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))`,
  `(i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 3))
   (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))`,
  '(data (i32.const 16) "hi\\n")',
);

/** Exits with argc * 10 + the number of environment variables. */
const counts = module(
  `(import ${WASI} "args_sizes_get" (func $args (param i32 i32) (result i32)))
   (import ${WASI} "environ_sizes_get" (func $env (param i32 i32) (result i32)))`,
  `(drop (call $args (i32.const 0) (i32.const 4)))
   (drop (call $env (i32.const 8) (i32.const 12)))
   (call $exit (i32.add (i32.mul (i32.load (i32.const 0)) (i32.const 10)) (i32.load (i32.const 8))))`,
);

/**
 * Checks that fd 3 is the preopen "/", then creates `x.cleanup` in it exclusively; exits with
 * 100 when the preopen is wrong, else with path_open's errno (0 when the file was new).
 */
const createOnce = module(
  `(import ${WASI} "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
   (import ${WASI} "fd_prestat_dir_name" (func $name (param i32 i32 i32) (result i32)))
   (import ${WASI} "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))`,
  `(if (call $prestat (i32.const 3) (i32.const 0)) (then (call $exit (i32.const 100))))
   (if (i32.ne (i32.load (i32.const 4)) (i32.const 1)) (then (call $exit (i32.const 100))))
   (drop (call $name (i32.const 3) (i32.const 16) (i32.const 1)))
   (if (i32.ne (i32.load8_u (i32.const 16)) (i32.const 47)) (then (call $exit (i32.const 100))))
   (call $exit (call $open (i32.const 3) (i32.const 0) (i32.const 32) (i32.const 9)
     (i32.const 5) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8)))`,
  '(data (i32.const 32) "x.cleanup")',
);

/** A WASI 0.2 wasi:cli/command component made of a preview1 module by jco's command adapter. */
async function component(core: Uint8Array): Promise<Uint8Array> {
  const adapter = readFileSync(fileURLToPath(preview1AdapterCommandPath()));
  return componentNew(core, [['wasi_snapshot_preview1', adapter]]);
}

async function layout(): Promise<string> {
  const suite = join(work, 'tests');
  const p1 = join(suite, 'demo', 'testsuite', 'wasm32-wasip1');
  const p2 = join(suite, 'demo2', 'testsuite', 'wasm32-wasip2');
  const p3 = join(suite, 'demo', 'testsuite', 'wasm32-wasip3');
  mkdirSync(join(p1, 'fixture.dir'), { recursive: true });
  mkdirSync(p2, { recursive: true });
  mkdirSync(p3, { recursive: true });
  writeFileSync(join(p1, 'manifest.json'), '{"name": "demo", "version": "wasm32-wasip1"}');
  writeFileSync(join(p1, 'fixture.dir', 'keep'), '');
  writeFileSync(join(p1, 'hello.wasm'), hello);
  writeFileSync(join(p1, 'hello.json'), '{"stdout": "hi\\n"}');
  writeFileSync(join(p1, 'hello_wrong_stdout.wasm'), hello);
  writeFileSync(join(p1, 'hello_wrong_stdout.json'), '{"stdout": "bye"}');
  writeFileSync(join(p1, 'counts.wasm'), counts);
  writeFileSync(join(p1, 'counts.json'), '{"args": ["a", "b c"], "env": {"K": "v", "L": "w"}, "exit_code": 32}');
  writeFileSync(join(p1, 'counts_ops.wasm'), counts);
  writeFileSync(join(p1, 'counts_ops.json'), JSON.stringify({
    operations: [{ type: 'run', args: ['x'], env: { K: 'v' } }, { type: 'wait', exit_code: 21 }],
  }));
  writeFileSync(join(p1, 'hello_default.wasm'), hello);
  writeFileSync(join(p1, 'create_a.wasm'), createOnce);
  writeFileSync(join(p1, 'create_a.json'), '{"root": "fixture.dir"}');
  writeFileSync(join(p1, 'create_b.wasm'), createOnce);
  writeFileSync(join(p1, 'create_b.json'), '{"root": "fixture.dir"}');
  writeFileSync(join(p1, 'needs_sockets.wasm'), hello);
  writeFileSync(join(p1, 'needs_sockets.json'), '{"proposals": ["sockets"], "operations": [{"type": "run"}, {"type": "wait"}]}');
  // A WASI 0.2 suite: components, run as they are (the manifest names the version).
  writeFileSync(join(p2, 'manifest.json'), '{"name": "demo2", "version": "wasm32-wasip2"}');
  writeFileSync(join(p2, 'hello.wasm'), await component(hello));
  writeFileSync(join(p2, 'hello.json'), '{"stdout": "hi\\n"}');
  writeFileSync(join(p2, 'counts.wasm'), await component(counts));
  writeFileSync(join(p2, 'counts.json'), '{"args": ["a"], "exit_code": 1}');
  // A preview3 suite must be left alone (this would fail if it ran).
  writeFileSync(join(p3, 'counts.wasm'), counts);
  return suite;
}

const suite = await layout();

test('finds preview1 and WASI 0.2 suites, never wasip3 suites or fixture directories', () => {
  assert.deepEqual(findSuites(suite), [
    { dir: join(suite, 'demo', 'testsuite', 'wasm32-wasip1'), version: 'wasm32-wasip1' },
    { dir: join(suite, 'demo2', 'testsuite', 'wasm32-wasip2'), version: 'wasm32-wasip2' },
  ]);
});

test('reads legacy and operation-based specs alike', () => {
  const dir = join(suite, 'demo', 'testsuite', 'wasm32-wasip1');
  const legacy = readSpec(join(dir, 'counts.json'), dir);
  assert.deepEqual([legacy.args, legacy.env, legacy.exitCode], [['a', 'b c'], { K: 'v', L: 'w' }, 32]);
  const ops = readSpec(join(dir, 'counts_ops.json'), dir);
  assert.deepEqual([ops.args, ops.env, ops.exitCode, ops.skip], [['x'], { K: 'v' }, 21, undefined]);
  assert.equal(readSpec(join(dir, 'create_a.json'), dir).root, join(dir, 'fixture.dir'));
  assert.match(readSpec(join(dir, 'needs_sockets.json'), dir).skip ?? '', /sockets/);
  assert.deepEqual(readSpec(join(dir, 'none.json'), dir).exitCode, 0);
});

interface Results { results: { language: string; kind: string; test: string; status: string; reason: string; expectedExitCode: number }[] }

function runner(json: string, ...flags: string[]): { status: number | null; stdout: string; out: Results } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'conformance.ts'), '--suite', suite, '--json', json, '--jobs', '2', '--timeout', '120', ...flags], {
    encoding: 'utf8',
  });
  assert.ok(existsSync(json), r.stderr);
  return { status: r.status, stdout: r.stdout, out: JSON.parse(readFileSync(json, 'utf8')) as Results };
}

test('runs each test through `nanovisor run` and reports pass, fail and skip', () => {
  const json = join(work, 'results.json');
  const { status: code, stdout, out } = runner(json);
  assert.equal(code, 1, stdout); // one test is wrong on purpose
  assert.match(stdout, /demo2 \(component\): 2 passed, 0 failed\n8 passed, 1 failed, 1 skipped\n$/);
  const status = Object.fromEntries(out.results.map((x) => [`${x.language}/${x.test}`, `${x.kind} ${x.status}`]));
  assert.deepEqual(status, {
    'demo/counts': 'module pass', 'demo/counts_ops': 'module pass', 'demo/create_a': 'module pass', 'demo/create_b': 'module pass',
    'demo/hello': 'module pass', 'demo/hello_default': 'module pass', 'demo/hello_wrong_stdout': 'module fail', 'demo/needs_sockets': 'module skip',
    'demo2/hello': 'component pass', 'demo2/counts': 'component pass',
  });
  assert.match(out.results.find((x) => x.test === 'hello_wrong_stdout')!.reason, /expected "bye"/);
  // Each test wrote into its own copy of the fixture; the suite's directory is untouched.
  assert.equal(existsSync(join(suite, 'demo', 'testsuite', 'wasm32-wasip1', 'fixture.dir', 'x.cleanup')), false);
});

test('--adapt-preview1 runs the preview1 programs as WASI 0.2 components through the 0.2 kernel', () => {
  const json = join(work, 'adapted.json');
  const { status: code, stdout, out } = runner(json, '--adapt-preview1', '--filter', '^demo/');
  assert.equal(code, 1, stdout);
  assert.match(stdout, /demo \(adapted to 0\.2\): 6 passed, 1 failed, 1 skipped\n/);
  const byTest = Object.fromEntries(out.results.map((x) => [x.test, x]));
  assert.ok(out.results.every((x) => x.kind === 'adapted'));
  // Arguments, environment, stdout and preopens reach the program through wasi:cli and
  // wasi:filesystem; its proc_exit(32) is wasi:cli/exit's err, exit code 1.
  assert.deepEqual([byTest['counts']!.status, byTest['counts']!.expectedExitCode], ['pass', 1]);
  assert.deepEqual(['hello', 'create_a', 'create_b', 'counts_ops'].map((t) => byTest[t]!.status), ['pass', 'pass', 'pass', 'pass']);
  assert.equal(byTest['hello_wrong_stdout']!.status, 'fail');
  assert.equal(existsSync(join(suite, 'demo', 'testsuite', 'wasm32-wasip1', 'fixture.dir', 'x.cleanup')), false);
});
