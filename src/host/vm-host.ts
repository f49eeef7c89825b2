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
import type { OutboundPort } from '../shared/outbound-wire.ts';

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
  /**
   * A WASI 0.2 component's derivation (transpile, rewritten core modules, snapshot) as its
   * daemon's prepared cache holds it: the entry's bytes and the identity it is keyed by
   * (src/host/prepared-cache.ts). The host checks it whole and then only compiles; a corrupt
   * or stale one is ignored and the component prepared afresh.
   */
  prepared?: { identity: string; entry: Uint8Array };
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
  /** Where a component's outgoing HTTP requests go (a session of the daemon's switch). Default: refused. */
  outbound?: OutboundPort;
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

/** How a wasi server instance is started (docs/server-apps.md); secure defaults as for runs. */
export interface ServerStartOptions {
  /** Full argv, argv[0] included. */
  args: readonly string[];
  env?: Readonly<Record<string, string>>;
  mounts?: readonly Mount[];
  writableLayerBytes?: number;
  /** Longest time from boot to the first wait in sock_accept (ready). */
  readyTimeoutMs: number;
}

/** One request's exchange with a server instance: its limits. */
export interface ExchangeOptions {
  timeoutMs: number;
  maxResponseBytes: number;
}

/** How a server instance ended (src/host/server/server-vm.ts). */
export interface ServerEndInfo {
  reason: 'exit' | 'trap' | 'timeout' | 'stopped';
  exitCode?: number;
  message: string;
}

/** What a server instance reports: its state, memory, and counters. */
export interface ServerInfo {
  state: 'starting' | 'parked' | 'running' | 'sleeping' | 'ended';
  /** Bytes of linear memory held now (0 while asleep). */
  memoryBytes: number;
  /** Bytes of the last checkpoint (what a sleeping instance holds). */
  checkpointBytes: number;
  wakes: number;
  sleeps: number;
  exchanges: number;
}

/**
 * Long-running wasi server instances on a host (both implementations): started from a loaded
 * image built with a `server` manifest, each request one exchange over the instance's
 * preopened listening socket, put to sleep (checkpointed) and woken by the next exchange.
 * Ids are the caller's. Everything crossing is plain data, so it crosses a process boundary.
 */
export interface ServerHost {
  /** Boots an instance; resolves once it first waits in sock_accept (ready). */
  startServer(handle: VmHandle, id: string, options: ServerStartOptions): Promise<void>;
  /** One connection carrying `request`; resolves with the bytes the guest answered. A sleeping instance is woken first. */
  exchange(id: string, request: Uint8Array, options: ExchangeOptions): Promise<Uint8Array>;
  /** Checkpoints an instance parked in sock_accept with nothing waiting and drops its VM; false when it was not idle. */
  sleepServer(id: string): Promise<ServerInfo | false>;
  /** Restores a sleeping instance from its checkpoint (parked in sock_accept again); false when it was not asleep. */
  wakeServer(id: string): Promise<boolean>;
  /** Resolves when the instance ends (it exited, trapped, ran past a limit, was stopped, or its shard died: rejects). */
  serverEnded(id: string): Promise<ServerEndInfo>;
  stopServer(id: string): Promise<void>;
  serverInfo(id: string): Promise<ServerInfo | undefined>;
}

/** Whether a host runs wasi server instances. */
export function isServerHost(h: VmHost): h is VmHost & ServerHost {
  return typeof (h as Partial<ServerHost>).startServer === 'function';
}

/** The key of an image: its digest (or the module's sha256) and its memory limit. */
export function imageKey(image: HostImage): string {
  const id = image.digest ?? `sha256:${createHash('sha256').update(image.module).digest('hex')}`;
  return image.memoryLimitBytes === undefined ? id : `${id}@m${image.memoryLimitBytes}`;
}
