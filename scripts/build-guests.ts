/**
 * `npm run guests`: compiles every guest program and every example app from source.
 *
 *   test/guests/c/<name>.c      -> build/guests/c/<name>.wasm     (clang, wasi-libc)
 *   test/guests/cpp/<name>.cpp  -> build/guests/cpp/<name>.wasm   (clang++, libc++)
 *   test/guests/rust/<name>.rs  -> build/guests/rust/<name>.wasm  (Debian rustc, plain std)
 *   test/guests/as/<name>.ts    -> build/guests/as/<name>.wasm    (AssemblyScript; lib/ is shared code)
 *   test/guests/wat/<name>.wat  -> build/guests/wat/<name>.wasm   (wabt's wat2wasm, from npm)
 *   test/guests/component/<name>.c|.wit|.js -> build/guests/component/<name>.wasm
 *                                  (WASI 0.2 components: scripts/component-guest.ts, jco offline)
 *   examples/<app>/             -> build/examples/<app>/<app>.wasm, plus a copy of the app's
 *                                  manifest and other non-source files, so that
 *                                  `nanovisor build build/examples/<app>` works as it is.
 *   examples/<app>/ with "script" (JavaScript/TypeScript) -> build/js-apps/<app>.wasm, compiled
 *                                  through the cache build/js-cache that tests build with
 *                                  (NANOVISOR_JS_CACHE); the source folder itself is the app.
 *   templates/js, templates/ts  -> build/js-apps/template-<t>.wasm, the same way (their
 *                                  sources hold no app name, so `nanovisor new js X` hits it).
 *
 * Incremental: a program is skipped while its output is newer than every input (its sources,
 * the headers or shared library files beside them, and this script). Two compilers run at a
 * time (the machine has two cores). One progress line per compiled program; a failure is one
 * line naming the program and the compiler's first error (`--verbose` prints all of it).
 *
 * Usage: node scripts/build-guests.ts [--force] [--verbose] [--jobs N] [FILTER...]
 *   FILTER keeps only programs whose label (e.g. `c/fd_read`, `examples/hello-c`) contains it.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);

type Lang = 'c' | 'cpp' | 'rust' | 'as' | 'wat' | 'component' | 'js';

interface Job {
  /** Short name in progress lines and filters, e.g. `c/fd_read` or `examples/hello-c`. */
  label: string;
  lang: Lang;
  /** Files handed to the compiler (C/C++: all translation units; others: the entry file). */
  sources: string[];
  /** Everything whose change makes the output stale. */
  inputs: string[];
  output: string;
  /** AssemblyScript: internal path of the module whose `abort` replaces `env.abort`. */
  asAbort?: string;
}

const SOURCE_EXT = new Set(['.c', '.h', '.cpp', '.cc', '.hpp', '.rs', '.ts', '.wat', '.wit']);

function listFiles(dir: string, exts: string[]): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && exts.some((x) => e.name.endsWith(x)))
    .map((e) => join(dir, e.name))
    .sort();
}

function listFilesDeep(dir: string, exts: string[]): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFilesDeep(p, exts));
    else if (exts.some((x) => e.name.endsWith(x))) out.push(p);
  }
  return out.sort();
}

/** What decides a compiled JavaScript app besides its own sources. */
const JS_COMPILER_INPUTS = [
  ...listFilesDeep(join(root, 'src', 'components', 'wit'), ['.wit']),
  ...listFilesDeep(join(root, 'src', 'image', 'script'), ['.ts']),
  join(root, 'scripts', 'js-app.ts'),
];

const baseName = (file: string): string => file.slice(file.lastIndexOf('/') + 1, file.length - extname(file).length);

/** The guest test programs: one job per top-level source file of each language folder. */
function guestJobs(): Job[] {
  const jobs: Job[] = [];
  const g = join(root, 'test', 'guests');
  const out = join(root, 'build', 'guests');
  const cHeaders = listFiles(join(g, 'c'), ['.h']);
  for (const src of listFiles(join(g, 'c'), ['.c'])) {
    jobs.push({ label: `c/${baseName(src)}`, lang: 'c', sources: [src], inputs: [src, ...cHeaders], output: join(out, 'c', `${baseName(src)}.wasm`) });
  }
  const cppHeaders = listFiles(join(g, 'cpp'), ['.h', '.hpp']);
  for (const src of listFiles(join(g, 'cpp'), ['.cpp'])) {
    jobs.push({ label: `cpp/${baseName(src)}`, lang: 'cpp', sources: [src], inputs: [src, ...cppHeaders], output: join(out, 'cpp', `${baseName(src)}.wasm`) });
  }
  for (const src of listFiles(join(g, 'rust'), ['.rs'])) {
    jobs.push({ label: `rust/${baseName(src)}`, lang: 'rust', sources: [src], inputs: [src], output: join(out, 'rust', `${baseName(src)}.wasm`) });
  }
  const asLib = listFilesDeep(join(g, 'as', 'lib'), ['.ts']);
  for (const src of listFiles(join(g, 'as'), ['.ts'])) {
    // Programs that import the repo's WASI binding get its `abort` instead of AssemblyScript's `env.abort`.
    const usesBinding = /from\s+["']\.\/lib\/wasi["']/.test(readFileSync(src, 'utf8'));
    jobs.push({
      label: `as/${baseName(src)}`, lang: 'as', sources: [src], inputs: [src, ...asLib],
      output: join(out, 'as', `${baseName(src)}.wasm`), ...(usesBinding ? { asAbort: 'test/guests/as/lib/wasi/abort' } : {}),
    });
  }
  const wit = listFilesDeep(join(root, 'src', 'components', 'wit'), ['.wit']);
  for (const src of listFiles(join(g, 'component'), ['.c', '.wit', '.js'])) {
    jobs.push({ label: `component/${baseName(src)}`, lang: 'component', sources: [src], inputs: [src, join(root, 'scripts', 'component-guest.ts'), ...(src.endsWith('.js') ? wit : [])], output: join(out, 'component', `${baseName(src)}.wasm`) });
  }
  for (const src of listFiles(join(g, 'wat'), ['.wat'])) {
    jobs.push({ label: `wat/${baseName(src)}`, lang: 'wat', sources: [src], inputs: [src], output: join(out, 'wat', `${baseName(src)}.wasm`) });
  }
  return jobs;
}

/** Example apps: every folder of examples/ with a nanovisor.json; the language is read from its sources. */
function exampleJobs(): { jobs: Job[]; apps: string[] } {
  const dir = join(root, 'examples');
  const jobs: Job[] = [];
  const apps: string[] = [];
  if (!existsSync(dir)) return { jobs, apps };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || !existsSync(join(dir, e.name, 'nanovisor.json'))) continue;
    const app = e.name;
    const appDir = join(dir, app);
    const output = join(root, 'build', 'examples', app, `${app}.wasm`);
    const label = `examples/${app}`;
    const manifest = JSON.parse(readFileSync(join(appDir, 'nanovisor.json'), 'utf8')) as { script?: unknown };
    if (typeof manifest.script === 'string') {
      const inputs = [...listFilesDeep(appDir, ['.js', '.mjs', '.ts', '.mts', '.json']), ...JS_COMPILER_INPUTS];
      jobs.push({ label, lang: 'js', sources: [appDir], inputs, output: join(root, 'build', 'js-apps', `${app}.wasm`) });
      continue;
    }
    const all = listFilesDeep(appDir, [...SOURCE_EXT]);
    const rs = all.filter((f) => f.endsWith('.rs'));
    const cpp = all.filter((f) => f.endsWith('.cpp') || f.endsWith('.cc'));
    const c = all.filter((f) => f.endsWith('.c'));
    const ts = all.filter((f) => f.endsWith('.ts'));
    apps.push(app);
    if (rs.length > 0) {
      const main = rs.find((f) => f.endsWith('/main.rs')) ?? rs[0]!;
      jobs.push({ label, lang: 'rust', sources: [main], inputs: all, output });
    } else if (cpp.length > 0) {
      jobs.push({ label, lang: 'cpp', sources: cpp, inputs: all, output });
    } else if (c.length > 0) {
      jobs.push({ label, lang: 'c', sources: c, inputs: all, output });
    } else if (ts.length > 0) {
      const main = ts.find((f) => f.endsWith('/main.ts')) ?? ts[0]!;
      const wasi = ts.find((f) => f.endsWith('/wasi.ts'));
      jobs.push({
        label, lang: 'as', sources: [main], inputs: all, output,
        ...(wasi === undefined ? {} : { asAbort: `${relative(root, wasi).slice(0, -3)}/abort` }),
      });
    } else {
      throw new BuildError(`${label}: no source file (.c, .cpp, .rs or AssemblyScript .ts) beside nanovisor.json`);
    }
  }
  return { jobs, apps };
}

/** The JavaScript and TypeScript templates, compiled into the cache that test/templates.test.ts uses. */
function templateJobs(): Job[] {
  const jobs: Job[] = [];
  for (const t of ['js', 'ts']) {
    const dir = join(root, 'templates', t);
    if (!existsSync(join(dir, 'nanovisor.json'))) continue;
    const script = (JSON.parse(readFileSync(join(dir, 'nanovisor.json'), 'utf8')) as { script: string }).script;
    jobs.push({
      label: `templates/${t}`, lang: 'js', sources: [dir, script],
      inputs: [...listFilesDeep(dir, ['.js', '.ts', '.json']), ...JS_COMPILER_INPUTS], output: join(root, 'build', 'js-apps', `template-${t}.wasm`),
    });
  }
  return jobs;
}

/** Copies an example's manifest and other non-source files next to its built module. */
function copyAppFiles(app: string): void {
  const from = join(root, 'examples', app);
  const to = join(root, 'build', 'examples', app);
  const walk = (src: string, dst: string): void => {
    mkdirSync(dst, { recursive: true });
    for (const e of readdirSync(src, { withFileTypes: true })) {
      const s = join(src, e.name);
      const d = join(dst, e.name);
      if (e.isDirectory()) walk(s, d);
      else if (e.isFile() && !SOURCE_EXT.has(extname(e.name))) {
        if (!existsSync(d) || statSync(d).mtimeMs < statSync(s).mtimeMs) copyFileSync(s, d);
      }
    }
  };
  walk(from, to);
}

class BuildError extends Error {}

function rustc(): string {
  // Debian's rustc carries the wasm32-wasi standard library; a rustup toolchain earlier on
  // PATH usually does not.
  return process.env['NANOVISOR_RUSTC'] ?? (existsSync('/usr/bin/rustc') ? '/usr/bin/rustc' : 'rustc');
}

const rel = (file: string): string => relative(root, file);

function command(job: Job, tmpOut: string): { cmd: string; args: string[]; tool: string } {
  switch (job.lang) {
    case 'c':
      return {
        tool: 'clang', cmd: process.env['NANOVISOR_CC'] ?? 'clang',
        args: ['--target=wasm32-wasi', '-O2', '-Wall', '-Werror', '-Wl,--strip-all', ...job.sources.map(rel), '-o', tmpOut],
      };
    case 'cpp':
      return {
        tool: 'clang++', cmd: process.env['NANOVISOR_CXX'] ?? 'clang++',
        args: ['--target=wasm32-wasi', '-O2', '-std=c++17', '-fno-exceptions', '-Wall', '-Werror', '-Wl,--strip-all', ...job.sources.map(rel), '-o', tmpOut],
      };
    case 'rust':
      return {
        tool: 'rustc', cmd: rustc(),
        args: ['--target', 'wasm32-wasi', '--edition', '2021', '-O', '-C', 'strip=symbols', '--crate-name', 'guest', rel(job.sources[0]!), '-o', tmpOut],
      };
    case 'wat':
      return {
        tool: 'wat2wasm', cmd: process.execPath,
        args: [join(root, 'node_modules', 'wabt', 'bin', 'wat2wasm'), rel(job.sources[0]!), '-o', tmpOut],
      };
    case 'js':
      return { tool: 'js-app', cmd: process.execPath, args: [join(root, 'scripts', 'js-app.ts'), rel(job.sources[0]!), tmpOut, ...job.sources.slice(1)] };
    case 'component':
      return { tool: 'component-guest', cmd: process.execPath, args: [join(root, 'scripts', 'component-guest.ts'), rel(job.sources[0]!), tmpOut] };
    case 'as':
      return {
        tool: 'asc', cmd: process.execPath,
        args: [
          join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js'), rel(job.sources[0]!),
          '-o', tmpOut, '-O', '--runtime', 'stub', '--exportStart', '_start',
          ...(job.asAbort === undefined ? [] : ['--use', `abort=${job.asAbort}`]),
        ],
      };
  }
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY; // a missing input always forces a rebuild (and then fails clearly)
  }
}

function upToDate(job: Job): boolean {
  if (!existsSync(job.output)) return false;
  const out = statSync(job.output).mtimeMs;
  return [...job.inputs, self].every((f) => mtime(f) < out);
}

/** The first line of compiler output that names an error, else its first non-empty line. */
function firstError(output: string): string {
  const lines = output.split(root).join('').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const err = lines.find((l) => /error/i.test(l)) ?? lines[0] ?? 'no output';
  // rustc and asc put the location a few lines below; include it when the error line has none.
  if (/:\d+:\d+/.test(err)) return err;
  const i = lines.indexOf(err);
  const loc = lines.slice(i + 1, i + 6).map((l) => /(?:-->|\bin)\s+(\S+(?::\d+:\d+|\(\d+,\d+\)))/.exec(l)).find((m) => m !== null);
  return loc ? `${err} at ${loc[1]}` : err;
}

interface Outcome { job: Job; ok: boolean; ms: number; message?: string; output?: string }

function compile(job: Job): Promise<Outcome> {
  mkdirSync(dirname(job.output), { recursive: true });
  const tmpOut = `${job.output.slice(0, -5)}.tmp-${process.pid}.wasm`;
  const { cmd, args, tool } = command(job, tmpOut);
  const started = performance.now();
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? `${tool} not found (${cmd}); install the guest toolchains with: bash scripts/install.sh` : e.message;
      resolve({ job, ok: false, ms: 0, message: why, output });
    });
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0 && existsSync(tmpOut)) {
        renameSync(tmpOut, job.output);
        resolve({ job, ok: true, ms });
      } else {
        rmSync(tmpOut, { force: true });
        resolve({ job, ok: false, ms, message: `${tool} failed: ${firstError(output)}`, output });
      }
    });
  });
}

async function main(argv: string[]): Promise<number> {
  let force = false;
  let verbose = false;
  let jobsInParallel = 2;
  const filters: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--force') force = true;
    else if (a === '--verbose') verbose = true;
    else if (a === '--jobs') jobsInParallel = Math.max(1, Number(argv[++i]) || 1);
    else if (a.startsWith('-')) throw new BuildError(`unknown option ${a} (usage: build-guests.ts [--force] [--verbose] [--jobs N] [FILTER...])`);
    else filters.push(a);
  }
  const examples = exampleJobs();
  const all = [...guestJobs(), ...examples.jobs, ...templateJobs()].filter((j) => filters.length === 0 || filters.some((f) => j.label.includes(f)));
  const todo = all.filter((j) => force || !upToDate(j));
  const failures: Outcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const job = todo[next++]!;
      const r = await compile(job);
      if (r.ok) {
        process.stdout.write(`  ${job.lang.padEnd(4)} ${job.label.padEnd(36)} -> ${relative(root, job.output)} (${Math.round(r.ms)} ms)\n`);
      } else {
        failures.push(r);
        process.stderr.write(`build-guests: ${job.label} (${relative(root, job.sources[0]!)}): ${r.message}\n`);
        if (verbose && r.output) process.stderr.write(r.output);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobsInParallel, Math.max(todo.length, 1)) }, worker));
  for (const app of examples.apps) {
    if (filters.length === 0 || filters.some((f) => `examples/${app}`.includes(f))) copyAppFiles(app);
  }
  const built = todo.length - failures.length;
  process.stdout.write(`guests: ${built} compiled, ${all.length - todo.length} up to date, ${failures.length} failed\n`);
  return failures.length === 0 ? 0 : 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof BuildError)) throw e;
  process.stderr.write(`build-guests: ${e.message}\n`);
  process.exitCode = 1;
}
