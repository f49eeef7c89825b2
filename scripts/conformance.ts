/**
 * Runs WASI conformance suites (WebAssembly/wasi-testsuite layout) against the `nanovisor run`
 * command, one child process per test, and reports pass/fail per test.
 *
 *   npm run conformance -- --suite /tmp/wasi-testsuite/tests [--json out.json] [--filter RE]
 *   npm run conformance -- --suite /tmp/wasi-testsuite/tests --adapt-preview1
 *
 * Layout it understands (doc/specification.md of wasi-testsuite): every directory below
 * `--suite` that holds `*.wasm` files is a suite of the WASI version its manifest.json's
 * `version` names, else its directory's name (`wasm32-wasip1`, `wasm32-wasip2`), else preview1.
 * Preview1 suites are core modules; WASI 0.2 (`wasm32-wasip2`) suites are components, run the
 * same way (`nanovisor run` tells them apart); other versions (wasip3) are left out. With
 * --adapt-preview1, each preview1 program is first turned into a WASI 0.2 wasi:cli/command
 * component by the preview1 command adapter (the one jco ships), so the 0.2 kernel runs it.
 * Each `FOO.wasm` is a test and `FOO.json`, when present, its specification:
 *   legacy form   { args, env, root, dirs, exit_code, stdout, stderr }
 *   operations    { operations: [{type: run, args, env, root}, {type: read, id, payload},
 *                   {type: wait, exit_code}], proposals }
 * A test runs exactly `node bin/nanovisor.js run --env K=V ... --dir HOST::GUEST ... FOO.wasm --
 * args...` with the test's directory as cwd and a stdin pipe that is closed at once (as the
 * official runner's `communicate()` does). `root` is copied to a fresh temporary directory and
 * mounted at `/`; legacy `dirs` are copied likewise and mounted under their own relative names,
 * so no test sees what another one wrote and the suite checkout stays clean. Expected output is
 * compared the way the official runner does: the stream must start with the expected text.
 * Tests that need a proposal (sockets, http) or operations beyond run/read/wait are skipped.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const DEFAULT_BIN = join(ROOT, 'bin', 'nanovisor.js');
const PREVIEW1 = 'wasm32-wasip1';
const PREVIEW2 = 'wasm32-wasip2';

/** What a test program is and how it reaches the kernel. */
export type Kind = 'module' | 'component' | 'adapted';

interface Options {
  suite: string;
  json: string | undefined;
  markdown: string | undefined;
  filter: RegExp | undefined;
  timeoutMs: number;
  jobs: number;
  bin: string;
  verbose: boolean;
  /** Extra guest environment for every test, after the test's own. */
  env: Record<string, string>;
  /** Make the Rust tests demand this host's errno where platforms differ. */
  strictErrno: boolean;
  /** Turn preview1 programs into 0.2 components (preview1 command adapter) before running. */
  adaptPreview1: boolean;
}

/** One test as the specification describes it, reduced to what a preview1 run needs. */
export interface Spec {
  args: string[];
  env: Record<string, string>;
  /** Host directory (absolute) preopened as `/`. */
  root: string | undefined;
  /** Legacy: host directories (relative to the test dir) preopened under the same name. */
  dirs: string[];
  exitCode: number;
  stdout: string | undefined;
  stderr: string | undefined;
  /** Why the test cannot be run by this runner (proposals, unknown operations). */
  skip: string | undefined;
}

interface TestCase {
  /** Language / suite name: the directory above `testsuite/`, e.g. `c`, `rust`. */
  language: string;
  kind: Kind;
  name: string;
  wasm: string;
  dir: string;
  spec: Spec;
}

export interface TestResult {
  language: string;
  kind: Kind;
  test: string;
  status: 'pass' | 'fail' | 'skip';
  reason: string;
  expectedExitCode: number;
  exitCode: number | null;
  durationMs: number;
  argv: string[];
  stdout: string;
  stderr: string;
}

const USAGE = `Usage: node scripts/conformance.ts --suite DIR [--json FILE] [--markdown FILE]
       [--filter REGEX] [--timeout SECONDS] [--jobs N] [--bin PATH] [--env K=V]... [--strict-errno]
       [--adapt-preview1] [--verbose]

  --suite DIR      wasi-testsuite tests directory (e.g. /tmp/wasi-testsuite/tests), or one suite
  --json FILE      write every result as JSON
  --markdown FILE  write a per-language summary and failure table as Markdown
  --filter REGEX   only tests whose "language/name" matches
  --timeout SEC    per-test wall-clock limit (default 10)
  --jobs N         tests run in parallel (default: CPU count)
  --bin PATH       nanovisor launcher (default: this checkout's bin/nanovisor.js)
  --env K=V        add K=V to every test's guest environment (repeatable)
  --strict-errno   give the Rust tests ERRNO_MODE_UNIX (ERRNO_MODE_MACOS on macOS), so they
                   insist on this platform's errno where platforms differ, as wasmtime's own
                   harness does; the C and AssemblyScript tests count environ, so not them
  --adapt-preview1 run each preview1 program as a WASI 0.2 component made by the preview1
                   command adapter (an expected exit code N > 0 is checked as 1: 0.2's exit
                   carries only ok or err); WASI 0.2 suites run as components either way
  --verbose        print each failing test's stdout/stderr`;

function parseArgs(argv: string[]): Options {
  const o: Options = {
    suite: '', json: undefined, markdown: undefined, filter: undefined, timeoutMs: 10_000,
    jobs: Math.max(1, availableParallelism()), bin: DEFAULT_BIN, verbose: false, env: {}, strictErrno: false,
    adaptPreview1: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n\n${USAGE}`);
      return v;
    };
    switch (a) {
      case '--suite': o.suite = resolve(value()); break;
      case '--json': o.json = resolve(value()); break;
      case '--markdown': o.markdown = resolve(value()); break;
      case '--filter': o.filter = new RegExp(value()); break;
      case '--timeout': o.timeoutMs = Number(value()) * 1000; break;
      case '--jobs': o.jobs = Math.max(1, Number(value())); break;
      case '--bin': o.bin = resolve(value()); break;
      case '--verbose': o.verbose = true; break;
      case '--strict-errno': o.strictErrno = true; break;
      case '--adapt-preview1': o.adaptPreview1 = true; break;
      case '--env': {
        const kv = value();
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new Error(`--env ${kv}: expected K=V`);
        o.env[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case '--help': case '-h': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: throw new Error(`unknown argument ${a}\n\n${USAGE}`);
    }
  }
  if (o.suite === '') throw new Error(`--suite is required\n\n${USAGE}`);
  if (!existsSync(o.suite)) throw new Error(`--suite ${o.suite}: no such directory`);
  if (!(o.timeoutMs > 0) || !Number.isFinite(o.jobs)) throw new Error(`bad --timeout or --jobs\n\n${USAGE}`);
  return o;
}

export interface Suite {
  dir: string;
  /** `wasm32-wasip1` (core modules) or `wasm32-wasip2` (components). */
  version: typeof PREVIEW1 | typeof PREVIEW2;
}

/** Directories below `root` (itself included) holding `*.wasm` files of a preview1 or WASI 0.2 suite. */
export function findSuites(root: string): Suite[] {
  const out: Suite[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true });
    const version = entries.some((e) => e.isFile() && e.name.endsWith('.wasm')) ? versionOf(dir) : undefined;
    if (version === PREVIEW1 || version === PREVIEW2) out.push({ dir, version });
    for (const e of entries) {
      // `*.dir` folders are the tests' own filesystem fixtures, never suites.
      if (e.isDirectory() && !e.name.endsWith('.dir') && e.name !== 'node_modules' && !e.name.startsWith('.')) {
        walk(join(dir, e.name));
      }
    }
  };
  walk(root);
  return out.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

/** As the official runner decides: the manifest's `version`, else the directory's name when it is a WASI version, else preview1. */
function versionOf(dir: string): string {
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string };
    if (m.version !== undefined) return m.version;
  }
  return /^wasm32-wasip\d/.test(basename(dir)) ? basename(dir) : PREVIEW1;
}

/** `.../tests/rust/testsuite/wasm32-wasip1` -> `rust`; otherwise the suite's path below --suite. */
function languageOf(suiteRoot: string, dir: string): string {
  const parts = dir.split('/');
  const i = parts.lastIndexOf('testsuite');
  if (i > 0) return parts[i - 1]!;
  return relative(suiteRoot, dir) || basename(dir);
}

type Json = Record<string, unknown>;

function strings(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${what} must be a list of strings`);
  return v;
}

function envOf(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error('env must be an object');
  const env: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Json)) env[k] = String(x);
  return env;
}

/** Reads FOO.json (or the default spec) into what one run needs. */
export function readSpec(jsonPath: string, testDir: string): Spec {
  const spec: Spec = {
    args: [], env: {}, root: undefined, dirs: [], exitCode: 0, stdout: undefined, stderr: undefined, skip: undefined,
  };
  if (!existsSync(jsonPath)) return spec;
  const j = JSON.parse(readFileSync(jsonPath, 'utf8')) as Json;
  const rootOf = (r: unknown): string | undefined => (typeof r === 'string' && r !== '' ? resolve(testDir, r) : undefined);
  if (j['operations'] === undefined && j['proposals'] === undefined && j['servers'] === undefined) {
    spec.args = strings(j['args'], 'args');
    spec.env = envOf(j['env']);
    spec.root = rootOf(j['root']);
    spec.dirs = strings(j['dirs'], 'dirs');
    spec.exitCode = typeof j['exit_code'] === 'number' ? j['exit_code'] : 0;
    spec.stdout = typeof j['stdout'] === 'string' ? j['stdout'] : undefined;
    spec.stderr = typeof j['stderr'] === 'string' ? j['stderr'] : undefined;
    return spec;
  }
  const proposals = strings(j['proposals'], 'proposals');
  if (proposals.length > 0) spec.skip = `needs proposal(s) ${proposals.join(', ')}`;
  if (j['servers'] !== undefined) spec.skip = 'needs test servers';
  const ops = Array.isArray(j['operations']) ? (j['operations'] as Json[]) : [{ type: 'run' }, { type: 'wait' }];
  for (const op of ops) {
    switch (op['type']) {
      case 'run':
        spec.args = strings(op['args'], 'args');
        spec.env = envOf(op['env']);
        spec.root = rootOf(op['root']);
        break;
      case 'read': {
        const id = op['id'] ?? 'stdout';
        const payload = typeof op['payload'] === 'string' ? op['payload'] : '';
        if (id === 'stdout') spec.stdout = (spec.stdout ?? '') + payload;
        else if (id === 'stderr') spec.stderr = (spec.stderr ?? '') + payload;
        else spec.skip = `reads unknown stream ${String(id)}`;
        break;
      }
      case 'wait':
        spec.exitCode = typeof op['exit_code'] === 'number' ? op['exit_code'] : 0;
        break;
      default:
        spec.skip ??= `operation "${String(op['type'])}" is not supported by this runner`;
    }
  }
  return spec;
}

function collectTests(o: Options): TestCase[] {
  const tests: TestCase[] = [];
  for (const { dir, version } of findSuites(o.suite)) {
    const language = languageOf(o.suite, dir);
    const kind: Kind = version === PREVIEW2 ? 'component' : o.adaptPreview1 ? 'adapted' : 'module';
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.wasm')).sort()) {
      const name = f.slice(0, -'.wasm'.length);
      if (o.filter !== undefined && !o.filter.test(`${language}/${name}`)) continue;
      let spec: Spec;
      try {
        spec = readSpec(join(dir, `${name}.json`), dir);
      } catch (e) {
        spec = { args: [], env: {}, root: undefined, dirs: [], exitCode: 0, stdout: undefined, stderr: undefined, skip: `bad spec: ${(e as Error).message}` };
      }
      tests.push({ language, kind, name, wasm: join(dir, f), dir, spec });
    }
  }
  return tests;
}

/** Copies a fixture directory, symlinks kept as symlinks (several tests rely on them). */
function copyFixture(from: string, to: string): void {
  if (!existsSync(from) || !statSync(from).isDirectory()) throw new Error(`fixture ${from} is not a directory`);
  cpSync(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}

/** The official runner deletes `*.cleanup` leftovers; a copy made from a dirty checkout must not carry them. */
function removeCleanupFiles(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.name.endsWith('.cleanup') && !e.isSymbolicLink()) rmSync(p, { recursive: true, force: true });
    else if (e.isDirectory()) removeCleanupFiles(p);
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function spawnTest(argv: string[], cwd: string, timeoutMs: number): Promise<Exit> {
  return new Promise((done) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {});
    child.stdin.end();
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      done({ code: null, signal: null, stdout: '', stderr: String(e), timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({
        code, signal, timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/**
 * A short, single-line hint of why a run went wrong: a Rust panic's location and message, a C
 * assertion, or else the last non-empty stderr line.
 */
function stderrHint(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const at = lines.findIndex((l) => /panicked at|assertion|Assertion|failed|error/.test(l) && !/^note:/.test(l));
  let line = at < 0 ? lines.at(-1) ?? '' : lines[at]!;
  // Rust prints `panicked at FILE:LINE:COL:` and the message on the next line.
  if (at >= 0 && /panicked at .*:$/.test(line) && lines[at + 1] !== undefined) {
    line = `${line.replace(/^thread '[^']*' (\(\d+\) )?/, '').replace(/^panicked at (\S*\/)?/, '')} ${lines[at + 1]}`;
  }
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

let adapter: Promise<(core: Uint8Array) => Promise<Uint8Array>> | undefined;

/** The preview1 command adapter jco ships, applied by wit-component (jco-transpile's wasm-tools). */
function adaptToComponent(core: Uint8Array): Promise<Uint8Array> {
  adapter ??= (async () => {
    const [{ preview1AdapterCommandPath }, { componentNew }] = await Promise.all([
      import('@bytecodealliance/jco'), import('@bytecodealliance/jco-transpile/wasm-tools'),
    ]);
    const wasm = readFileSync(fileURLToPath(preview1AdapterCommandPath()));
    return (c: Uint8Array) => componentNew(c, [['wasi_snapshot_preview1', wasm]]);
  })();
  return adapter.then((adapt) => adapt(core));
}

/** WASI 0.2's wasi:cli/exit carries ok or err only: an adapted `proc_exit(N)`, N > 0, exits 1. */
function expectedExit(t: TestCase): number {
  return t.kind === 'adapted' && t.spec.exitCode !== 0 ? 1 : t.spec.exitCode;
}

async function runTest(t: TestCase, o: Options): Promise<TestResult> {
  const started = performance.now();
  const base = {
    language: t.language, kind: t.kind, test: t.name, expectedExitCode: expectedExit(t),
  };
  if (t.spec.skip !== undefined) {
    return { ...base, status: 'skip', reason: t.spec.skip, exitCode: null, durationMs: 0, argv: [], stdout: '', stderr: '' };
  }
  const scratch = mkdtempSync(join(tmpdir(), 'nv-conformance-'));
  try {
    const argv = [process.execPath, o.bin, 'run'];
    const strict = o.strictErrno && t.language === 'rust'
      ? { [process.platform === 'darwin' ? 'ERRNO_MODE_MACOS' : 'ERRNO_MODE_UNIX']: '1' }
      : {};
    for (const [k, v] of Object.entries({ ...t.spec.env, ...strict, ...o.env })) argv.push('--env', `${k}=${v}`);
    if (t.spec.root !== undefined) {
      const copy = join(scratch, 'root');
      copyFixture(t.spec.root, copy);
      removeCleanupFiles(copy);
      argv.push('--dir', `${copy}::/`);
    }
    for (const d of t.spec.dirs) {
      const copy = join(scratch, 'dirs', d);
      copyFixture(resolve(t.dir, d), copy);
      removeCleanupFiles(copy);
      argv.push('--dir', `${copy}::${d}`);
    }
    // An adapted program runs from the scratch directory under the same file name (argv[0]).
    let cwd = t.dir;
    if (t.kind === 'adapted') {
      cwd = join(scratch, 'program');
      mkdirSync(cwd);
      writeFileSync(join(cwd, basename(t.wasm)), await adaptToComponent(readFileSync(t.wasm)));
    }
    // Flags come before the module; after it, the first -- is dropped and the rest is the guest's verbatim.
    argv.push(basename(t.wasm), '--', ...t.spec.args);
    const r = await spawnTest(argv, cwd, o.timeoutMs);
    const reasons: string[] = [];
    if (r.timedOut) reasons.push(`timed out after ${o.timeoutMs / 1000} s`);
    else if (r.code !== base.expectedExitCode) {
      const got = r.code === null ? `signal ${r.signal}` : String(r.code);
      const hint = stderrHint(r.stderr);
      const asked = base.expectedExitCode === t.spec.exitCode ? '' : ` (the test asks ${t.spec.exitCode})`;
      reasons.push(`exit code ${got}, expected ${base.expectedExitCode}${asked}${hint === '' ? '' : `: ${hint}`}`);
    }
    if (t.spec.stdout !== undefined && !r.stdout.startsWith(t.spec.stdout)) {
      reasons.push(`stdout ${JSON.stringify(r.stdout.slice(0, 80))}, expected ${JSON.stringify(t.spec.stdout.slice(0, 80))}`);
    }
    if (t.spec.stderr !== undefined && !r.stderr.startsWith(t.spec.stderr)) {
      reasons.push(`stderr ${JSON.stringify(r.stderr.slice(0, 80))}, expected ${JSON.stringify(t.spec.stderr.slice(0, 80))}`);
    }
    return {
      ...base,
      status: reasons.length === 0 ? 'pass' : 'fail',
      reason: reasons.join('; '),
      exitCode: r.code,
      durationMs: Math.round(performance.now() - started),
      argv: argv.map((a) => a.startsWith(scratch) ? a.replace(scratch, '$TMP') : a),
      stdout: r.stdout,
      stderr: r.stderr,
    };
  } catch (e) {
    return {
      ...base, status: 'fail', reason: `runner error: ${(e as Error).message}`, exitCode: null,
      durationMs: Math.round(performance.now() - started), argv: [], stdout: '', stderr: '',
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function runAll(tests: TestCase[], o: Options): Promise<TestResult[]> {
  const results: TestResult[] = new Array(tests.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tests.length) {
      const i = next++;
      results[i] = await runTest(tests[i]!, o);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, tests.length) }, worker));
  return results;
}

function table(results: readonly TestResult[]): string {
  const rows = results.map((r) => [`${r.language}/${r.test}`, r.status, r.reason]);
  const w0 = Math.max(4, ...rows.map((r) => r[0]!.length));
  const lines = [`${'test'.padEnd(w0)}  result  reason`, `${'-'.repeat(w0)}  ------  ------`];
  for (const [name, status, reason] of rows) lines.push(`${name!.padEnd(w0)}  ${status!.padEnd(6)}  ${reason}`);
  return lines.join('\n');
}

interface Summary {
  language: string;
  passed: number;
  failed: number;
  skipped: number;
}

/** `rust`, `rust (component)` or `rust (adapted to 0.2)`: one summary row per language and kind. */
function suiteLabel(r: TestResult): string {
  return r.kind === 'module' ? r.language : `${r.language} (${r.kind === 'adapted' ? 'adapted to 0.2' : 'component'})`;
}

function summarize(results: readonly TestResult[]): Summary[] {
  const by = new Map<string, Summary>();
  for (const r of results) {
    const label = suiteLabel(r);
    const s = by.get(label) ?? { language: label, passed: 0, failed: 0, skipped: 0 };
    if (r.status === 'pass') s.passed++;
    else if (r.status === 'fail') s.failed++;
    else s.skipped++;
    by.set(label, s);
  }
  return [...by.values()];
}

function markdown(results: readonly TestResult[]): string {
  const sums = summarize(results);
  const lines = ['| suite | passed | failed | skipped |', '|---|---:|---:|---:|'];
  for (const s of sums) lines.push(`| ${s.language} | ${s.passed} | ${s.failed} | ${s.skipped} |`);
  const failed = results.filter((r) => r.status !== 'pass');
  if (failed.length > 0) {
    lines.push('', '| test | result | reason |', '|---|---|---|');
    for (const r of failed) lines.push(`| ${r.language}/${r.test} | ${r.status} | ${r.reason.replaceAll('|', '\\|')} |`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`conformance: ${(e as Error).message}\n`);
    return 2;
  }
  const tests = collectTests(o);
  if (tests.length === 0) {
    process.stderr.write(`conformance: no preview1 or WASI 0.2 tests found under ${o.suite}\n`);
    return 2;
  }
  const results = await runAll(tests, o);
  process.stdout.write(`${table(results)}\n\n`);
  if (o.verbose) {
    for (const r of results.filter((x) => x.status === 'fail')) {
      process.stdout.write(`--- ${r.language}/${r.test}\n$ ${r.argv.join(' ')}\n[stdout]\n${r.stdout}\n[stderr]\n${r.stderr}\n`);
    }
  }
  for (const s of summarize(results)) {
    process.stdout.write(`${s.language}: ${s.passed} passed, ${s.failed} failed${s.skipped > 0 ? `, ${s.skipped} skipped` : ''}\n`);
  }
  const passed = results.filter((r) => r.status === 'pass').length;
  const failed = results.filter((r) => r.status === 'fail').length;
  const skipped = results.length - passed - failed;
  process.stdout.write(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
  if (o.json !== undefined) {
    writeFileSync(o.json, `${JSON.stringify({ suite: o.suite, date: new Date().toISOString(), summary: summarize(results), results }, null, 2)}\n`);
  }
  if (o.markdown !== undefined) writeFileSync(o.markdown, markdown(results));
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main();
