/**
 * What a VM is booted with and what its run reports: options, defaults, exit codes.
 */
import type { ListenerBackend } from '../kernel/socket.ts';
import type { OutputSink } from '../kernel/stdio.ts';
import type { ImageTree } from '../kernel/vfs/index.ts';
import type { NanovisorError } from '../shared/errors.ts';

export const DEFAULT_MEMORY_LIMIT = 256 * 1024 * 1024;
export const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;
export const DEFAULT_WRITABLE_LAYER = 64 * 1024 * 1024;

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
  /** The image's files as the read-only root (with a writable CoW layer per VM). */
  image?: ImageTree;
  /** Memory limit in bytes; growing past it fails inside the guest. */
  memoryLimitBytes?: number;
  /** Wall-clock limit in ms for the whole run. Default: none. */
  timeoutMs?: number;
  /** Budget for stdout + stderr together; the VM is stopped when it is spent. */
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
}

