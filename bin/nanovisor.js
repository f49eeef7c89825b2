#!/usr/bin/env node
// Launcher for the `nanovisor` CLI. nanovisor targets Node 24 (WebAssembly JSPI, type
// stripping); when started by an older node, it re-runs itself on the Node 24 pinned
// in the project's devDependencies, so `npx nanovisor` works on a machine with Node 20.
//
// The relaunched child is the real program (the daemon, for `serve`), so the launcher must
// not leave it behind: SIGINT, SIGTERM and SIGHUP sent to the launcher are passed on to the
// child, and the launcher exits with the child's status (by the same signal when the child
// died of one). A launcher that is SIGKILLed cannot pass anything on, so the child also
// holds one end of a socket pair whose other end only the launcher holds (fd 3, named by
// NANOVISOR_LAUNCHER_FD): when it reads end-of-file the launcher is gone, and the child
// sends itself SIGTERM, i.e. stops exactly as if it had been told to. (process.ppid cannot
// be polled for this: Node reads it once at start.) The `nanovisor` put on PATH is
// bin/nanovisor (sh), which execs the pinned Node 24 on this file directly: no second process.
//
// Start-up (docs/performance.md): the compiled dist/, bundled into dist/bundle/main.js
// (scripts/bundle-dist.ts: a few files to load instead of ~190), runs, not the .ts sources
// (no type stripping at every start), whenever it is current (./dist-freshness.js) — always inside
// node_modules, where Node refuses to strip types; NANOVISOR_FROM_SOURCE=1 forces src/. V8's
// code cache is kept on disk (module.enableCompileCache: os.tmpdir()/node-compile-cache,
// NODE_COMPILE_CACHE=dir to move it, NODE_DISABLE_COMPILE_CACHE=1 to turn it off).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const major = Number(process.versions.node.split('.')[0]);
const LAUNCHER_FD = 'NANOVISOR_LAUNCHER_FD';
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];

if (major < 24) {
  const candidates = [join(root, 'node_modules', 'node', 'bin', 'node'), join(root, '..', 'node', 'bin', 'node')];
  const pinned = candidates.find((p) => existsSync(p));
  if (pinned === undefined) {
    // In nanovisor's own checkout `npm install` fetches the pinned Node 24 (a devDependency); a
    // project that installed nanovisor as a dependency never gets it, so say what works there.
    const checkout = !root.split(/[\\/]/).includes('node_modules');
    const fix = checkout
      ? 'run `npm install` in ' + root + ' to get the pinned Node 24'
      : 'run nanovisor on Node 24 (e.g. `nvm install 24`, or https://nodejs.org), or add it to your project with `npm install --save-dev node@24` (nanovisor then runs on it)';
    process.stderr.write(`nanovisor: error NV_USAGE: Node ${process.versions.node} is too old; nanovisor needs Node 24 or newer: ${fix}.\n`);
    process.exit(2);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, [LAUNCHER_FD]: '3' },
  });
  // The launcher's end of the watch pipe: nothing is ever written; it closes when we die.
  child.stdio[3]?.on('error', () => {});
  const forward = (signal) => {
    // A terminal's Ctrl-C reaches the child too (same process group); the daemon takes a
    // repeat within a second as the same signal (src/cli/commands/serve.ts).
    try {
      child.kill(signal);
    } catch {
      // Already gone: its exit is on the way.
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  child.on('error', (e) => {
    process.stderr.write(`nanovisor: error NV_USAGE: cannot start ${pinned}: ${e.message}\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      // Die of the same signal, so our parent sees what the child saw.
      for (const s of FORWARDED) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      // A signal whose default is not to terminate (or that is blocked) falls through.
      setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100);
      return;
    }
    process.exit(code ?? 1);
  });
} else {
  const fd = process.env[LAUNCHER_FD];
  if (fd !== undefined) {
    // Not for our own children (shards, compilers): they were not started by the launcher.
    delete process.env[LAUNCHER_FD];
    watchLauncher(Number(fd));
  }
  module.enableCompileCache?.();
  const entry = await entryPoint();
  const { runCli } = await import(entry);
  process.exitCode = await runCli(process.argv.slice(2));
}

/** dist/bundle/main.js (or dist/cli/main.js) when it may run (see the header), else src/cli/main.ts. */
async function entryPoint() {
  const bundle = join(root, 'dist', 'bundle', 'main.js');
  const dist = existsSync(bundle) ? bundle : join(root, 'dist', 'cli', 'main.js');
  const source = join(root, 'src', 'cli', 'main.ts');
  if (root.split(/[\\/]/).includes('node_modules') || !existsSync(source)) return dist;
  if (process.env.NANOVISOR_FROM_SOURCE === '1' || !existsSync(dist)) return source;
  const { distIsCurrent } = await import('./dist-freshness.js');
  return distIsCurrent(root) ? dist : source;
}

/** Sends this process SIGTERM once the launcher's end of the pipe on `fd` closes. */
function watchLauncher(fd) {
  if (!Number.isInteger(fd) || fd < 3) return;
  let sock;
  try {
    sock = new Socket({ fd, readable: true, writable: false });
  } catch {
    return;
  }
  let fired = false;
  const gone = () => {
    if (fired) return;
    fired = true;
    sock.destroy();
    process.kill(process.pid, 'SIGTERM');
  };
  sock.on('end', gone);
  sock.on('close', gone);
  sock.on('error', gone);
  sock.on('data', () => {});
  // Watching must not keep a finished command alive.
  sock.unref();
}
