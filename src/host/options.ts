/**
 * What a VM is booted with and what its run reports: options, defaults, exit codes.
 */
import type { OutboundPort } from '../shared/outbound-wire.ts';
import type { ListenerBackend } from '../kernel/socket.ts';
import type { OutputSink } from '../kernel/stdio.ts';
import type { ImageTree, MountUsage } from '../kernel/vfs/index.ts';
import { NanovisorError } from '../shared/errors.ts';
import { formatBytes, formatMs } from '../shared/units.ts';

export const DEFAULT_MEMORY_LIMIT = 256 * 1024 * 1024;
export const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;
export const DEFAULT_WRITABLE_LAYER = 64 * 1024 * 1024;

/**
 * The largest value each limit may take, wherever it is set: the manifest's `limits`, the
 * API's app limits, `nanovisor run`'s flags and `VmOptions`. Stated once here; the schemas,
 * the flags and docs/manifest.md, docs/serve.md and docs/run.md follow it.
 */
export const LIMIT_MAXIMA = {
  /** 15 minutes: longer work is a batch job, not a request; and a VM holds its slot meanwhile. */
  timeoutMs: 15 * 60 * 1000,
  /** 4 GiB: all a 32-bit WebAssembly memory can address. */
  memoryBytes: 4 * 1024 * 1024 * 1024,
  /** 1 GiB of stdout + stderr, captured in the host's memory. */
  maxOutputBytes: 1024 * 1024 * 1024,
  /** 1 GiB: the writable layer lives in the host's memory. */
  writableLayerBytes: 1024 * 1024 * 1024,
  /** 256 MiB: a request body is buffered whole before the guest starts. */
  maxBodyBytes: 256 * 1024 * 1024,
  /** VMs of one app running at once. */
  concurrency: 100_000,
  /** Requests of one app waiting for a slot. */
  queue: 1_000_000,
} as const;

export type LimitName = keyof typeof LIMIT_MAXIMA;

/** The limits `VmOptions` carries, and their names there. */
const VM_LIMITS: ReadonlyArray<readonly [keyof VmOptions, LimitName]> = [
  ['timeoutMs', 'timeoutMs'], ['memoryLimitBytes', 'memoryBytes'], ['maxOutputBytes', 'maxOutputBytes'], ['writableLayerBytes', 'writableLayerBytes'],
];

/** True when stdout or stderr is captured in the host's memory (the default). */
function captures(options: VmOptions): boolean {
  return [options.stdout, options.stderr].some((t) => t === undefined || t === 'capture');
}

/**
 * Refuses VM options whose limits are not positive numbers within LIMIT_MAXIMA
 * (NV_LIMIT_INVALID, naming the option and its maximum).
 */
export function checkVmLimits(options: VmOptions): void {
  for (const [option, limit] of VM_LIMITS) {
    const v = options[option];
    if (v === undefined) continue;
    // No output limit is allowed when nothing is held in memory (a terminal run, as wasmtime).
    if (option === 'maxOutputBytes' && v === Infinity && !captures(options)) continue;
    const max = LIMIT_MAXIMA[limit];
    if (typeof v !== 'number' || !(v > 0) || v > max) {
      const shown = limit === 'timeoutMs' ? `${max} (${formatMs(max)})` : `${max} (${formatBytes(max)})`;
      throw new NanovisorError('NV_LIMIT_INVALID', `${option}: must be a positive number at most ${shown}, got ${String(v)}`, {
        details: { field: option, maximum: max },
      });
    }
  }
}

/** Exit codes the host reports when the guest did not exit by itself (as shells do). */
export const EXIT_TRAP = 134;
export const EXIT_TIMEOUT = 124;
export const EXIT_OUTPUT_LIMIT = 125;

export interface Mount {
  /** Host directory; must exist. */
  hostPath: string;
  /** Where the guest sees it; also the preopen's name (may be relative, e.g. `scratch`). */
  guestPath: string;
  /** Default true: guests write only where a mount says so. */
  readonly?: boolean;
  /**
   * A volume's share of its quota for this VM (bytes and entries it may add); a change past
   * it fails in the guest with ENOSPC. The run reports what it used (`RunResult.mounts`).
   */
  quota?: { bytes: number; files: number };
  /** The volume this mount is (docs/volumes.md): its name and quotas, for the daemon's admission. Not read by the kernel. */
  volume?: { name: string; quotaBytes: number; quotaFiles: number };
}

export type OutputTarget = 'capture' | 'inherit' | OutputSink;

/**
 * How to boot a VM. Every field is optional and the defaults are the secure ones:
 * no environment, no directories, no network, stdin empty, output captured with a
 * 16 MiB budget, 256 MiB of memory, a 64 MiB writable layer; no time limit unless given.
 *
 * @example
 * const r = await runWasm(bytes, { args: ['app', '--verbose'], env: { LANG: 'C' }, timeoutMs: 1000 });
 * console.log(r.exitCode, new TextDecoder().decode(r.stdout));
 */
export interface VmOptions {
  /** Full argv, argv[0] included. Default: `['main']`. */
  args?: readonly string[];
  /** Environment variables. Default: none. */
  env?: Readonly<Record<string, string>>;
  /** Bytes or text for stdin, or `'inherit'` for the host's own stdin. Default: empty. */
  stdin?: Uint8Array | string | 'inherit';
  stdout?: OutputTarget;
  stderr?: OutputTarget;
  /** Host directories the guest may see. Default: none. */
  mounts?: readonly Mount[];
  /** Listening sockets the guest gets as preopens (fd 3, 4, ... before directories). Default: none. */
  listeners?: readonly ListenerBackend[];
  /**
   * Where a wasi:http component's outgoing requests go (the daemon's HTTP switch, one session
   * per run). Default: none, every outgoing request is refused (HTTP-request-denied).
   */
  outbound?: OutboundPort;
  /** The image's files as the read-only root (with a writable CoW layer per VM). */
  image?: ImageTree;
  /** Memory limit in bytes; growing past it fails inside the guest. */
  memoryLimitBytes?: number;
  /** Wall-clock limit in ms for the whole run. Default: none. */
  timeoutMs?: number;
  /**
   * Budget for stdout + stderr together; the VM is stopped when it is spent. Default 16 MiB.
   * `Infinity` (no budget) only when neither is captured (`nanovisor run` on a terminal).
   */
  maxOutputBytes?: number;
  /** Quota of the VM's writable filesystem layer. */
  writableLayerBytes?: number;
  /** Export to call. Default `_start`; reactors (`_initialize`) are initialised first. */
  entry?: string;
}

export type Outcome = 'exit' | 'trap' | 'timeout' | 'output-limit';

export interface RunResult {
  outcome: Outcome;
  /** The guest's exit code, or EXIT_TRAP / EXIT_TIMEOUT / EXIT_OUTPUT_LIMIT. */
  exitCode: number;
  /** Captured output (empty when the target was not `capture`). */
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** Why the guest did not exit by itself. */
  error?: NanovisorError;
  durationMs: number;
  /** What the VM did on each mount that had a `quota`. */
  mounts?: MountUsage[];
}

