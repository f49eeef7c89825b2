/**
 * Builds a WASI 0.2 component guest for tests (used by build-guests.ts), offline:
 *   NAME.c   -> clang (wasm32-wasi, preview1) -> jco's preview1 command adapter -> component
 *   NAME.wit -> jco's dummy core module for the WIT world -> component (never runs; for refusals)
 *   NAME.js  -> componentize-js (StarlingMonkey) in the wasi:http/proxy world of src/components/wit
 * Usage: node scripts/component-guest.ts SOURCE OUT
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { preview1AdapterCommandPath } from '@bytecodealliance/jco';
import { componentEmbed, componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';

const [src, out] = process.argv.slice(2);
if (src === undefined || out === undefined) throw new Error('usage: component-guest.ts SOURCE OUT');

if (src.endsWith('.js')) {
  const { componentize } = await import('@bytecodealliance/componentize-js');
  const { component } = await componentize({ sourcePath: src, witPath: fileURLToPath(new URL('../src/components/wit', import.meta.url)), worldName: 'app' });
  writeFileSync(out, component);
} else if (src.endsWith('.wit')) {
  const embedded = await componentEmbed({ dummy: true, witSource: readFileSync(src, 'utf8') });
  writeFileSync(out, await componentNew(embedded, []));
} else {
  const core = `${out}.core.wasm`;
  const cc = process.env['NANOVISOR_CC'] ?? 'clang';
  const r = spawnSync(cc, ['--target=wasm32-wasi', '-O2', '-Wall', '-Werror', '-Wl,--strip-all', src, '-o', core], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  // The adapter ships with @bytecodealliance/jco (a dependency of componentize-js).
  const adapter = readFileSync(fileURLToPath(preview1AdapterCommandPath()));
  writeFileSync(out, await componentNew(readFileSync(core), [['wasi_snapshot_preview1', adapter]]));
  rmSync(core, { force: true });
}
