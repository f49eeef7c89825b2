/**
 * The host boundary: everything above the host (gateway, daemon, benchmarks) boots Nano-VMs
 * through this one interface — load an image, get a handle; run a request against the
 * handle, get a promise of its result; stats; unload; close. Two implementations:
 * `InProcessHost` (VMs on this thread, guests that wait suspended with JSPI) and
 * `ShardedHost` (the same, in jailed host processes, one per core). Everything that crosses
 * the boundary is plain data (bytes, strings, numbers), so it crosses a process boundary too.
 */
import { createHash } from 'node:crypto';
import type { ImageFile } from '../kernel/vfs/index.ts';
import type { Mount, RunResult } from './options.ts';

/** An image as the host loads it: the module, its boot snapshot and files, its memory limit. */
export interface HostImage {
  /** Content address of the image (`sha256:...`); without one the module bytes are hashed. */
  digest?: string;
  /** The WebAssembly module (the snapshot module when `snapshot` is given). */
  module: Uint8Array;
  /** The encoded boot snapshot layer (src/host/snapshot/format.ts), if the image has one. */
  snapshot?: Uint8Array;
  /** The image's files: the VM's read-only root. Default: none. */
  files?: readonly ImageFile[];
  /** Memory limit of every VM of this load, in bytes. Default DEFAULT_MEMORY_LIMIT. */
  memoryLimitBytes?: number;
  /**
   * Which driver runs it: `wasi` (default; `module` is the WebAssembly module) or `linux`
   * (`module` is the image's rootfs tar, run under gVisor by src/drivers/linux).
   */
  driver?: 'wasi' | 'linux';
  /** Most processes of a linux sandbox (linux driver only). */
  processes?: number;
}

/** A loaded image on a host. Opaque: pass it back to the host that made it. */
export interface VmHandle {
  /** The image's identity and memory limit; equal keys share one compiled module. */
  readonly key: string;
}

/**
 * What one run is given. Output is always captured (bounded by `maxOutputBytes`); secure
 * defaults as for VmOptions: no env, no dirs, empty stdin.
 */
export interface HostRunOptions {
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  stdin?: Uint8Array | string;
  mounts?: readonly Mount[];
  /** Wall-clock limit of the whole run (boot, start section and guest), in ms. */
  timeoutMs?: number;
  maxOutputBytes?: number;
  writableLayerBytes?: number;
  entry?: string;
}

export interface HostStats {
  /** VMs booted and not yet ended. */
  liveVms: number;
  /** Idle pooled instances, ready to boot from. */
  poolIdle: number;
  /** Distinct images (by key) loaded. */
  loaded: number;
  /** Runs finished since the host started. */
  runs: number;
  /** Host processes (1 for an in-process host). */
  processes: number;
}

export interface VmHost {
  /**
   * Loads (validates and compiles) an image; loading the same key again is cheap and counts
   * one more reference. Rejects with the image's error (NV_MODULE_*, NV_GUEST_MEMORY_LIMIT).
   */
  load(image: HostImage): Promise<VmHandle>;
  /**
   * Boots a fresh VM of the handle's image and runs it to the end. The guest's own behaviour
   * (exit, trap, timeout, output limit) is in the result; rejects only for host failures
   * (NV_HOST_SHARD_CRASHED, NV_HOST_CLOSED, an unknown handle).
   */
  run(handle: VmHandle, options?: HostRunOptions): Promise<RunResult>;
  /** Drops one reference to the image; the last one frees it (runs in flight finish first). */
  unload(handle: VmHandle): Promise<void>;
  stats(): Promise<HostStats>;
  /** Stops taking runs, lets those in flight finish (up to `graceMs`), frees everything. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** The key of an image: its digest (or the module's sha256) and its memory limit. */
export function imageKey(image: HostImage): string {
  const id = image.digest ?? `sha256:${createHash('sha256').update(image.module).digest('hex')}`;
  return image.memoryLimitBytes === undefined ? id : `${id}@m${image.memoryLimitBytes}`;
}
