// Start-up of the `nanovisor` command as a process (docs/performance.md, start-up): what
// runs and what is loaded, never how long it takes (bench/startup.ts measures that).
// - bin/nanovisor (the command on PATH) execs Node 24 on bin/nanovisor.js: one process, no
//   relaunch;
// - the compiled dist/ runs while it is current, the .ts sources otherwise
//   (bin/dist-freshness.js), and NANOVISOR_FROM_SOURCE=1 forces the sources;
// - `--version` and `help` load no command module; `run` loads none of the daemon's;
// - scripts/link-bin.sh (the end of scripts/install.sh) puts a working `nanovisor` on PATH.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { STAMP, distIsCurrent, newestSourceMtime, takeStamp } from '../bin/dist-freshness.js';
import { guestWasm, makeScratch } from './helpers.ts';
import { descendants } from './support/processes.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'nanovisor');
const scratch = makeScratch('nv-startup-');

// Records every module the process resolves (and its pid) into the file NV_TEST_LOADED names.
const hook = join(scratch, 'record-loads.mjs');
writeFileSync(hook, `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
const out = process.env.NV_TEST_LOADED;
appendFileSync(out, 'pid ' + process.pid + '\\n');
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); appendFileSync(out, r.url + '\\n'); return r; } });
`);

let runs = 0;
/** Runs bin/nanovisor with `args`; returns its output, its pid and the modules it loaded (file: URLs relative to the checkout, builtins as node:x). */
function launch(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; pid: number; pids: number[]; loaded: string[] } {
  const out = join(scratch, `loaded-${runs++}.txt`);
  writeFileSync(out, '');
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    env: { ...process.env, NANOVISOR_FROM_SOURCE: '', ...env, NODE_OPTIONS: `--import=${pathToFileURL(hook).href}`, NV_TEST_LOADED: out, NANOVISOR_HOME: join(scratch, 'home') },
  });
  const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  const base = pathToFileURL(root).href;
  return {
    status: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid,
    pids: lines.filter((l) => l.startsWith('pid ')).map((l) => Number(l.slice(4))),
    loaded: lines.filter((l) => !l.startsWith('pid ')).map((l) => (l.startsWith(base) ? l.slice(base.length) : l)),
  };
}

/** What each file of dist/bundle holds (scripts/bundle-dist.ts writes the metafile). */
function bundleInputs(): Map<string, string[]> {
  const meta = join(root, 'dist', 'bundle', 'meta.json');
  if (!existsSync(meta)) return new Map();
  const { outputs } = JSON.parse(readFileSync(meta, 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  return new Map(Object.entries(outputs).map(([out, o]) => [out, Object.keys(o.inputs)]));
}

/**
 * The checkout's own modules among `loaded`, e.g. 'cli/main' for dist/cli/main.js or
 * src/cli/main.ts; a file of dist/bundle stands for the modules bundled into it, and
 * 'zod' for any of zod's.
 */
function ours(loaded: string[]): string[] {
  const inputs = bundleInputs();
  const files = loaded.flatMap((u) => (u.startsWith('dist/bundle/') ? inputs.get(u) ?? [u] : [u]));
  return [...new Set(files.map((u) => (u.includes('node_modules/zod/') ? 'zod' : u)).filter((u) => u === 'zod' || /^(dist|src)\//.test(u))
    .map((u) => u.replace(/^(dist|src)\//, '').replace(/\.(js|ts)$/, '')))];
}

test('bin/nanovisor is one process: it execs Node 24 on bin/nanovisor.js, no relaunch', () => {
  const r = launch(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^nanovisor \d+\.\d+\.\d+\n$/);
  assert.deepEqual(r.pids, [r.pid], 'the only Node started is the process spawned (sh exec)');
});

test('--version and help load no command module, no zod, no host', () => {
  for (const args of [['--version'], ['help'], ['--help']]) {
    const r = launch(args);
    assert.ok(r.status === 0, `${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(ours(r.loaded).sort(), ['cli/commands/index', 'cli/main', 'cli/suggest', 'cli/version', 'shared/errors'], args.join(' '));
  }
});

test('run loads the host and image modules, none of the daemon (control plane, API, gateway, SQLite, shards)', () => {
  const r = launch(['run', guestWasm('c', 'hello')]);
  assert.equal(r.status, 0, r.stderr);
  const mods = ours(r.loaded);
  assert.ok(mods.includes('cli/commands/run') && mods.includes('host/vm'), mods.join(' '));
  const daemon = mods.filter((m) => /^(control|api|gateway|observability)\/|^host\/shards\/|^cli\/commands\/(serve|deploy|demo)$/.test(m));
  assert.deepEqual(daemon, []);
  assert.ok(!r.loaded.includes('node:sqlite'), 'run loaded node:sqlite');
  // An ESM import of node:http evaluates its lazy getters, which load undici (~15 ms).
  assert.ok(!r.loaded.includes('node:http'), 'run loaded node:http');
});

test('the bundle carries only the zod it uses: one locale, not all 60 (a namespace import, src/image/manifest.ts)', { skip: existsSync(join(root, 'dist', 'bundle', 'meta.json')) ? false : 'dist/ is not bundled: npm run build' }, () => {
  const locales = [...bundleInputs().values()].flat().filter((f) => f.includes('node_modules/zod/v4/locales/') && !f.endsWith('/index.js'));
  assert.ok(new Set(locales).size <= 1, [...new Set(locales)].join(' '));
});

test('the launcher runs dist/ (bundled) while it is current, the sources otherwise or with NANOVISOR_FROM_SOURCE=1', () => {
  const expected = !distIsCurrent(root) ? 'src/cli/main.ts' : existsSync(join(root, 'dist', 'bundle', 'main.js')) ? 'dist/bundle/main.js' : 'dist/cli/main.js';
  assert.ok(launch(['--version']).loaded.includes(expected), `expected ${expected}`);
  const forced = launch(['--version'], { NANOVISOR_FROM_SOURCE: '1' });
  assert.ok(forced.loaded.includes('src/cli/main.ts') && !forced.loaded.some((u) => u.startsWith('dist/')), forced.loaded.join(' '));
});

test('dist-freshness: current only with a stamp no source is newer than (an edit, a new file, a copied dist are stale)', () => {
  const r = join(scratch, 'checkout');
  mkdirSync(join(r, 'src', 'deep'), { recursive: true });
  mkdirSync(join(r, 'dist'), { recursive: true });
  writeFileSync(join(r, 'src', 'a.ts'), '');
  writeFileSync(join(r, 'src', 'deep', 'b.ts'), '');
  writeFileSync(join(r, 'src', 'notes.md'), '');
  const t = (s: number): Date => new Date(1_700_000_000_000 + s * 1000);
  utimesSync(join(r, 'src', 'a.ts'), t(1), t(1));
  utimesSync(join(r, 'src', 'deep', 'b.ts'), t(2), t(2));
  utimesSync(join(r, 'src', 'notes.md'), t(9), t(9));
  assert.equal(newestSourceMtime(join(r, 'src')), t(2).getTime(), 'the newest .ts file, at any depth');
  assert.equal(distIsCurrent(r), false, 'no stamp: never built here');
  for (const d of ['src/deep', 'src']) utimesSync(join(r, d), t(2), t(2));
  const stamp = (): void => writeFileSync(join(r, 'dist', STAMP), takeStamp(r));
  stamp();
  assert.equal(readFileSync(join(r, 'dist', STAMP), 'utf8').split('\n')[0], String(t(2).getTime()), 'the newest .ts file or directory');
  assert.equal(distIsCurrent(r), true);
  utimesSync(join(r, 'src', 'deep', 'b.ts'), t(3), t(3));
  assert.equal(distIsCurrent(r), false, 'a source edited after the build');
  stamp();
  assert.equal(distIsCurrent(r), true, 'rebuilt');
  writeFileSync(join(r, 'src', 'deep', 'c.ts'), '');
  assert.equal(distIsCurrent(r), false, 'a source added after the build (its directory changed)');
  rmSync(join(r, 'src', 'deep', 'c.ts'));
  utimesSync(join(r, 'src', 'deep'), t(3), t(3));
  stamp();
  rmSync(join(r, 'src', 'a.ts'));
  utimesSync(join(r, 'src'), t(3), t(3));
  assert.equal(distIsCurrent(r), false, 'a source the build saw is gone');
  writeFileSync(join(r, 'src', 'a.ts'), '');
  utimesSync(join(r, 'src', 'a.ts'), t(1), t(1));
  utimesSync(join(r, 'src'), t(3), t(3));
  stamp();
  writeFileSync(join(r, 'dist', STAMP), `${t(9).getTime()}\n`);
  assert.equal(distIsCurrent(r), false, 'a stamp without its paths (an older build)');
  writeFileSync(join(r, 'dist', STAMP), 'garbage');
  assert.equal(distIsCurrent(r), false, 'an unreadable stamp');
  rmSync(r, { recursive: true });
});

test('scripts/link-bin.sh puts nanovisor on PATH (a symlink to bin/nanovisor), callable from any directory with only the system PATH', () => {
  const dir = join(scratch, 'path-bin');
  const systemPath = '/usr/local/bin:/usr/bin:/bin';
  const link = spawnSync('bash', [join(root, 'scripts', 'link-bin.sh')], { encoding: 'utf8', env: { ...process.env, PATH: systemPath, NANOVISOR_BIN_DIR: dir } });
  assert.equal(link.status, 0, link.stderr);
  assert.match(link.stdout, /is not on your PATH; add it/, 'says what to do when the directory is not on PATH');
  assert.ok(lstatSync(join(dir, 'nanovisor')).isSymbolicLink());
  assert.equal(readlinkSync(join(dir, 'nanovisor')), bin);
  const again = spawnSync('bash', [join(root, 'scripts', 'link-bin.sh')], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${systemPath}`, NANOVISOR_BIN_DIR: dir } });
  assert.equal(again.status, 0, 're-running replaces its own link');
  assert.doesNotMatch(again.stdout, /not on your PATH/);
  const r = spawnSync('nanovisor', ['--version'], { encoding: 'utf8', cwd: scratch, env: { HOME: scratch, PATH: `${dir}:${systemPath}` } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^nanovisor \d+\.\d+\.\d+\n$/);
  // A file that is not our link is left alone.
  const other = join(scratch, 'other-bin');
  mkdirSync(other);
  writeFileSync(join(other, 'nanovisor'), 'mine');
  const refused = spawnSync('bash', [join(root, 'scripts', 'link-bin.sh')], { encoding: 'utf8', env: { ...process.env, NANOVISOR_BIN_DIR: other } });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /exists and is not a symlink/);
  assert.equal(readFileSync(join(other, 'nanovisor'), 'utf8'), 'mine');
  assert.ok(existsSync(join(dir, 'nanovisor')));
});

test('a one-shot run starts no watchdog thread: its time limit still stops a spinning guest (exit 124)', () => {
  const r = launch(['run', '--timeout', '300ms', guestWasm('c', 'hostile_spin')]);
  assert.equal(r.status, 124, r.stderr);
  assert.match(r.stderr, /time limit/);
  const mods = ours(r.loaded);
  assert.ok(mods.includes('host/vm'), mods.join(' '));
  assert.ok(!r.loaded.some((u) => u.includes('watchdog-worker')), 'the watchdog worker thread was started');
});

const bundled = distIsCurrent(root) && existsSync(join(root, 'dist', 'bundle', 'shard-worker.js'));
test('serve from the bundle forks the bundled shard (dist/bundle/shard-worker.js), which serves', { skip: bundled ? false : 'dist/ is not current: npm run build' }, async () => {
  const data = join(scratch, 'serve-data');
  mkdirSync(data);
  const child = spawn(bin, ['serve', '--data', data, '--api', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--shards', '1', '--no-linux'], {
    env: { ...process.env, NANOVISOR_FROM_SOURCE: '', NANOVISOR_HOME: join(scratch, 'home') }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  try {
    let log = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('nanovisor serve ready')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${log.slice(-500)}`)));
    });
    const cmdlines = descendants(child.pid!).map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        return '';
      }
    });
    assert.ok(cmdlines.some((c) => c.includes(join('dist', 'bundle', 'shard-worker.js'))), cmdlines.join('\n'));
    assert.match(log, /"msg":"host shard started"/);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
