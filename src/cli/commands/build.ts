/**
 * `nanovisor build [DIR | FILE.wasm]`: checks an app (manifest, module, files) and seals it
 * into an image in the store, tagged `name:version`.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ImageStore, buildImageAsync, storeHome } from '../../image/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { runBuildStep } from '../build-step.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, flagString, parseFlags, type FlagSpec } from '../flags.ts';
import { formatSize } from './image-format.ts';
import { scriptCacheDir } from '../script-cache.ts';

const SPECS: FlagSpec[] = [
  { name: 'tag', short: 't', type: 'string' },
  { name: 'manifest', short: 'f', type: 'string' },
  { name: 'store', type: 'string' },
  { name: 'json', type: 'boolean' },
  { name: 'quiet', short: 'q', type: 'boolean' },
];

const USAGE = `Usage: nanovisor build [DIR | FILE.wasm] [flags]

Checks an app and seals it into an image in the store. DIR (default: the current
directory) holds nanovisor.json (see docs/manifest.md), the module it names and the files
it lists. A bare FILE.wasm is built with a manifest made up from its name. The module must
import only WASI preview1 functions the kernel provides; files must stay inside DIR.
The same inputs always give the same image digest.

A JavaScript or TypeScript app ("script" in nanovisor.json) is bundled (esbuild) and
compiled into a wasi:http/proxy component (componentize-js, tens of seconds), cached by source
hash in $NANOVISOR_JS_CACHE, else HOME/cache/js of the store (see docs/javascript.md).

When the manifest declares a build step ("build": {"command": [...]}, as the apps that
\`nanovisor new\` writes do), it runs first, in DIR: it compiles the sources into the
module (clang, clang++, rustc --target wasm32-wasi, asc). Its output goes to stderr.

Flags:
  -t, --tag NAME[:TAG]   tag the image NAME:TAG instead of the manifest's name:version
  -f, --manifest FILE    read this manifest instead of DIR/nanovisor.json
  --store DIR            image store (default $NANOVISOR_HOME or ~/.nanovisor)
  --json                 print {"digest","name","tag","size"} as JSON (a script app adds
                         "scriptCached": whether its component came from the cache)
  -q, --quiet            print only the digest

Example:
  nanovisor new c hello && nanovisor build hello
  nanovisor build build/examples/hello-c
  nanovisor build app.wasm --tag app:dev`;

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export const buildCommand: Command = {
  name: 'build',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'build');
    if (p.positionals.length > 1 || p.rest.length > 0) {
      throw new NanovisorError('NV_USAGE', 'build: give one app directory or .wasm file');
    }
    const home = storeHome(flagString(p, 'store'), io.env, io.cwd);
    const store = ImageStore.openHome(home);
    const dir = resolve(io.cwd, p.positionals[0] ?? '.');
    if (flagString(p, 'manifest') === undefined && isDirectory(dir)) runBuildStep(dir, io);
    const manifestPath = flagString(p, 'manifest');
    const tag = flagString(p, 'tag');
    const result = await buildImageAsync({
      dir,
      store,
      scriptCache: scriptCacheDir(home, io.env, io.cwd),
      ...(manifestPath === undefined ? {} : { manifestPath: resolve(io.cwd, manifestPath) }),
      ...(tag === undefined ? {} : { tag }),
    });
    if (result.scriptCached !== undefined && !flagBool(p, 'quiet') && !flagBool(p, 'json')) {
      io.stderr(result.scriptCached ? 'script: compiled component taken from the cache\n' : 'script: bundled and compiled into a component (cached for the next build)\n');
    }
    if (flagBool(p, 'json')) io.stdout(`${JSON.stringify(result)}\n`);
    else if (flagBool(p, 'quiet')) io.stdout(`${result.digest}\n`);
    else io.stdout(`${result.tag} ${result.digest} (${formatSize(result.size)})\n`);
    return 0;
  },
};
