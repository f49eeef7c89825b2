/**
 * Resolves what `run` was given: a .wasm file (module or component) on disk, or an image in the store. Either
 * way the result is a prepared module plus the VM options the image's manifest asks for.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
// Not host/index.ts, which also loads the shards (start-up of `run`, test/startup.test.ts).
import { LIMIT_MAXIMA, type Mount, type VmOptions } from '../../host/options.ts';
import { prepareModule, type PreparedModule } from '../../host/prepare.ts';
import { PreparedCache } from '../../host/prepared-cache.ts';
import { isComponent, loadComponentTools } from '../../host/component/index.ts';
import { ImageStore, loadRunnableAsync, storeHome } from '../../image/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import type { CliIo } from '../command.ts';

/** `run FILE.wasm`'s limits when no flag sets them: wasm's 4 GiB, no output cap, no time limit. */
export const RUN_FILE_DEFAULTS = { memoryLimitBytes: LIMIT_MAXIMA.memoryBytes, maxOutputBytes: Infinity } as const;

export interface Runnable {
  /** Prepares the module once the memory limit is known (flags may change it). */
  prepare(memoryLimitBytes: number | undefined): PreparedModule;
  /** Options from the image manifest (argv with argv[0], env, limits, image files). */
  options: VmOptions;
  /** Guest paths the image declares as mount points, with their read-only flag. */
  declaredMounts: ReadonlyMap<string, boolean>;
}

function looksLikeFile(target: string): boolean {
  return target.endsWith('.wasm') || target.includes('/') || target.startsWith('.');
}

/**
 * The prepared-module cache `run` uses (src/host/prepared-cache.ts): HOME/cache/prepared,
 * NANOVISOR_PREPARED_CACHE=DIR elsewhere; none with --no-cache or NANOVISOR_PREPARED_CACHE=off.
 * A corrupt entry is said on stderr, then rebuilt.
 */
export function preparedCache(noCache: boolean, home: string, io: CliIo): PreparedCache | undefined {
  const setting = io.env['NANOVISOR_PREPARED_CACHE'];
  if (noCache || setting === 'off' || setting === '0') return undefined;
  const dir = setting === undefined || setting === '' ? join(home, 'cache', 'prepared') : resolve(io.cwd, setting);
  return new PreparedCache(dir, { onCorrupt: (path, why) => io.stderr(`nanovisor: prepared-module cache: ${path} was corrupt (${why}); rebuilding it\n`) });
}

export async function resolveTarget(target: string, io: CliIo, storeDir: string | undefined, cache?: PreparedCache): Promise<Runnable> {
  const path = resolve(io.cwd, target);
  if (existsSync(path) && statSync(path).isFile()) {
    const bytes = readFileSync(path);
    // A local run of a module defaults like wasmtime: all the memory wasm32 can address and
    // no output limit (stdio is this terminal's, nothing is held). Images bring their limits.
    if (isComponent(bytes)) await loadComponentTools();
    return {
      prepare: (limit) => prepareModule(bytes, limit ?? RUN_FILE_DEFAULTS.memoryLimitBytes, cache === undefined ? {} : { cache }),
      options: { args: [basename(target)], ...RUN_FILE_DEFAULTS },
      declaredMounts: new Map(),
    };
  }
  if (looksLikeFile(target)) throw new NanovisorError('NV_FILE_NOT_FOUND', `no such file: ${target}`);
  const store = ImageStore.openHome(storeHome(storeDir, io.env, io.cwd));
  const image = await loadRunnableAsync(store, target, cache === undefined ? {} : { cache });
  return {
    // The image's prepared module carries its own limit; a different --memory re-prepares it.
    prepare: (limit) => (limit === undefined ? image.prepared : image.withMemoryLimit(limit)),
    options: image.options,
    declaredMounts: new Map(image.manifest.mounts.map((m) => [m.guest, m.readonly])),
  };
}

/** Applies an image's declared read-only flag to a `--dir` that fills one of its mount points. */
export function applyDeclared(m: Mount, declared: ReadonlyMap<string, boolean>): Mount {
  const ro = declared.get(m.guestPath);
  return ro === true ? { ...m, readonly: true } : m;
}
