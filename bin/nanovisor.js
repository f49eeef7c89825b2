#!/usr/bin/env node
// Launcher for the `nanovisor` CLI. nanovisor targets Node 24 (WebAssembly JSPI, type
// stripping); when started by an older node, it re-runs itself on the Node 24 pinned
// in the project's devDependencies, so `npx nanovisor` works on a machine with Node 20.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const major = Number(process.versions.node.split('.')[0]);

if (major < 24) {
  const candidates = [join(root, 'node_modules', 'node', 'bin', 'node'), join(root, '..', 'node', 'bin', 'node')];
  const pinned = candidates.find((p) => existsSync(p));
  if (pinned === undefined) {
    process.stderr.write(`nanovisor: error NV_USAGE: Node ${process.versions.node} is too old; nanovisor needs Node 24 or newer (run \`npm install\` to get the pinned one).\n`);
    process.exit(2);
  }
  const r = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 1);
}

// Inside node_modules Node will not strip types, so an installed package runs the build.
const fromSource = !root.split(/[\\/]/).includes('node_modules') && existsSync(join(root, 'src', 'cli', 'main.ts'));
const entry = fromSource ? join(root, 'src', 'cli', 'main.ts') : join(root, 'dist', 'cli', 'main.js');
const { runCli } = await import(entry);
process.exitCode = await runCli(process.argv.slice(2));
