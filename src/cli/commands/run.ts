/**
 * `nanovisor run [flags] <image | file.wasm> [args...]`: boots one Nano-VM, wires it to
 * this terminal's stdio and exits with the guest's exit code. Flags follow `wasmtime run`
 * where they overlap (--env, --dir, --invoke), and as there they come before the module:
 * everything after it goes to the guest.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
// The host's modules one by one, not host/index.ts: that also loads the shards, which `run` never
// uses (start-up, docs/performance.md; test/startup.test.ts).
import { EXIT_TIMEOUT, LIMIT_MAXIMA, type LimitName, type Mount, type VmOptions } from '../../host/options.ts';
import { NanoVm } from '../../host/vm.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { formatBytes, formatMs } from '../../shared/units.ts';
// The TCP module itself: the switch's index also loads node:http, whose ESM import costs undici (~15 ms).
import { listenTcp, parseListenAddress } from '../../switches/network/tcp.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, flagList, flagString, parseDuration, parseFlags, parseSize, type FlagSpec } from '../flags.ts';
import { applyDeclared, preparedCache, resolveTarget } from './run-target.ts';
import { storeHome } from '../../image/index.ts';
import { parseVolumeFlag } from '../../shared/volumes.ts';
import { LOCK_FILE } from '../daemon-lock.ts';

const SPECS: FlagSpec[] = [
  { name: 'env', short: 'e', type: 'list' },
  { name: 'dir', type: 'list' },
  { name: 'dir-ro', type: 'list' },
  { name: 'volume', type: 'list' },
  { name: 'memory', type: 'string' },
  { name: 'timeout', type: 'string' },
  { name: 'max-output', type: 'string' },
  { name: 'writable-layer', type: 'string' },
  { name: 'invoke', type: 'string' },
  { name: 'tcplisten', type: 'list' },
  { name: 'store', type: 'string' },
  { name: 'stdin', type: 'string' },
  { name: 'no-cache', type: 'boolean' },
  { name: 'quiet', short: 'q', type: 'boolean' },
  { name: 'help', short: 'h', type: 'boolean' },
];

const USAGE = `Usage: nanovisor run [flags] <file.wasm | image> [args...]

Boots a fresh Nano-VM from a WebAssembly module or a stored image, runs it with this
terminal's stdin/stdout/stderr, and exits with the guest's exit code.

Flags:
  -e, --env K=V          set a guest environment variable (repeatable); --env K copies K from here
  --dir HOST[::GUEST][:ro]
                         mount a host directory at GUEST (default: same path),
                         read-write, or read-only with :ro
  --dir-ro HOST[::GUEST] mount a host directory read-only
  --volume NAME:/GUEST[:ro]
                         mount a volume of the local daemon's data directory (--store)
                         at GUEST, read-write unless :ro (docs/volumes.md)
  --memory SIZE          memory limit, e.g. 64M, 1G (default 4G for a .wasm file, or the image's; at most 4G)
  --timeout DURATION     wall-clock limit, e.g. 500ms, 10s (default none, or the image's; at most 15m)
  --max-output SIZE      limit on stdout+stderr bytes (default none for a .wasm file, or the image's; at most 1G)
  --writable-layer SIZE  quota of the VM's in-memory writable layer (default 64M; at most 1G)
  --invoke NAME          call this export instead of _start
  --tcplisten HOST:PORT  preopen a listening TCP socket for the guest (fd 3, 4, ...; before dirs)
  --stdin FILE           read stdin from FILE instead of this terminal
  --store DIR            image store (default $NANOVISOR_HOME or ~/.nanovisor)
  --no-cache             prepare the module afresh, neither reading nor writing the
                         prepared-module cache (STORE/cache/prepared; NANOVISOR_PREPARED_CACHE=off
                         turns it off too, =DIR moves it)
  -q, --quiet            do not print why the VM stopped

Exit codes: the guest's own; 124 timeout, 125 output limit, 134 trap; 1/2 nanovisor refused
(a module that cannot start, e.g. no such --invoke export, is 1).
Flags come before the module. Everything after the module goes to the guest verbatim, flags
included (as wasmtime run); the first -- is dropped. argv[0] is the module name.`;

function parseEnv(items: readonly string[], hostEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new NanovisorError('NV_USAGE', `--env "${item}": the name is empty`);
    if (eq < 0) {
      const v = hostEnv[item];
      if (v !== undefined) env[item] = v;
    } else {
      env[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }
  return env;
}

/**
 * `HOST::GUEST` (wasmtime's form) or `HOST` meaning the same path in the guest, each with an
 * optional `:ro` (read-only, as `--dir-ro`) or `:rw` suffix: `--dir data::/data:ro`.
 */
export function parseDir(spec: string, readonly: boolean, cwd: string): Mount {
  const mode = /:(ro|rw)$/.exec(spec)?.[1];
  const body = mode === undefined ? spec : spec.slice(0, -3);
  if (mode === 'rw' && readonly) throw new NanovisorError('NV_MOUNT_INVALID', `--dir-ro "${spec}": a read-only mount cannot be marked :rw`);
  const sep = body.indexOf('::');
  const host = sep < 0 ? body : body.slice(0, sep);
  const guest = sep < 0 ? body : body.slice(sep + 2);
  if (host === '' || guest === '') throw new NanovisorError('NV_MOUNT_INVALID', `--dir "${spec}": expected HOST[::GUEST][:ro]`);
  const hostPath = isAbsolute(host) ? host : resolve(cwd, host);
  if (!existsSync(hostPath) || !statSync(hostPath).isDirectory()) {
    throw new NanovisorError('NV_MOUNT_INVALID', `--dir "${spec}": ${hostPath} is not a directory`);
  }
  return { hostPath, guestPath: guest, readonly: readonly || mode === 'ro' };
}

/**
 * `--volume NAME:/GUEST[:ro]`: a volume of the daemon's data directory, looked up in its
 * state database (read-only). An exclusive volume is refused while a daemon may be serving
 * it (its lock file is there): this VM would not take part in the daemon's admission.
 * Its quotas hold (the VM may add what the volume has left: ENOSPC beyond). The control
 * plane's module (and SQLite) is loaded only when `--volume` is given.
 */
export async function volumeMount(spec: string, dataDir: string): Promise<Mount> {
  const m = parseVolumeFlag(spec);
  if (m === undefined) throw new NanovisorError('NV_USAGE', `--volume "${spec}": expected NAME:/GUEST[:ro], e.g. counter:/data`);
  const { findVolumeIn } = await import('../../control/volumes.ts');
  const v = findVolumeIn(dataDir, m.volume);
  if (v === undefined) throw new NanovisorError('NV_VOLUME_UNKNOWN', `--volume "${spec}": no volume named "${m.volume}" in ${dataDir}`, { details: { volume: m.volume } });
  if (v.access === 'exclusive' && existsSync(join(dataDir, LOCK_FILE))) {
    throw new NanovisorError('NV_USAGE', `--volume "${spec}": volume "${m.volume}" is exclusive and a nanovisor serve holds ${dataDir}; stop it first, or make the volume shared`);
  }
  // Its quota holds here too: this VM may add what the volume has left.
  const { measureUsage } = await import('../../switches/storage/index.ts');
  const used = measureUsage(v.path);
  return {
    hostPath: v.path, guestPath: m.guest, readonly: m.readonly ?? false,
    quota: { bytes: Math.max(0, v.quotaBytes - used.bytes), files: Math.max(0, v.quotaFiles - used.files) },
  };
}

/** A limit flag's value (a duration for --timeout, else a size), refused beyond LIMIT_MAXIMA. */
export function limitFlag(text: string, flag: string, limit: LimitName): number {
  const value = limit === 'timeoutMs' ? parseDuration(text, flag) : parseSize(text, flag);
  const max = LIMIT_MAXIMA[limit];
  if (value > max) {
    throw new NanovisorError('NV_USAGE', `--${flag}: ${text} is more than the maximum, ${limit === 'timeoutMs' ? formatMs(max) : formatBytes(max)}`);
  }
  return value;
}

export const runCommand: Command = {
  name: 'run',
  usage: USAGE,
  ownHelp: true,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'run', { stopAtPositional: true });
    if (flagBool(p, 'help')) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    // `run [flags] MODULE args...`, or `run [flags] -- MODULE args...`.
    const [target, ...guestArgs] = p.positionals.length > 0 ? [...p.positionals, ...p.rest] : p.rest;
    if (target === undefined) throw new NanovisorError('NV_USAGE', 'run: give a .wasm file or an image reference');
    const cache = preparedCache(flagBool(p, 'no-cache'), storeHome(flagString(p, 'store'), io.env, io.cwd), io);
    const runnable = await resolveTarget(target, io, flagString(p, 'store'), cache);
    const mounts = [
      ...flagList(p, 'dir').map((d) => parseDir(d, false, io.cwd)),
      ...flagList(p, 'dir-ro').map((d) => parseDir(d, true, io.cwd)),
      ...await Promise.all(flagList(p, 'volume').map((v) => volumeMount(v, storeHome(flagString(p, 'store'), io.env, io.cwd)))),
    ].map((m) => applyDeclared(m, runnable.declaredMounts));
    const memory = flagString(p, 'memory');
    const timeout = flagString(p, 'timeout');
    const maxOutput = flagString(p, 'max-output');
    const layer = flagString(p, 'writable-layer');
    const stdinFile = flagString(p, 'stdin');
    const options: VmOptions = {
      ...runnable.options,
      args: [...(runnable.options.args ?? []), ...guestArgs],
      env: { ...runnable.options.env, ...parseEnv(flagList(p, 'env'), io.env) },
      mounts,
      stdin: stdinFile === undefined ? 'inherit' : readFileSync(resolve(io.cwd, stdinFile)),
      stdout: 'inherit',
      stderr: 'inherit',
      ...(memory === undefined ? {} : { memoryLimitBytes: limitFlag(memory, 'memory', 'memoryBytes') }),
      ...(timeout === undefined ? {} : { timeoutMs: limitFlag(timeout, 'timeout', 'timeoutMs') }),
      ...(maxOutput === undefined ? {} : { maxOutputBytes: limitFlag(maxOutput, 'max-output', 'maxOutputBytes') }),
      ...(layer === undefined ? {} : { writableLayerBytes: limitFlag(layer, 'writable-layer', 'writableLayerBytes') }),
    };
    const listeners = flagList(p, 'tcplisten').map((a) => {
      const { host, port } = parseListenAddress(a);
      const l = listenTcp(host, port);
      if (port === 0 && !flagBool(p, 'quiet')) io.stderr(`nanovisor: listening on ${host}:${l.port}\n`);
      return l;
    });
    if (listeners.length > 0) options.listeners = listeners;
    const invoke = flagString(p, 'invoke');
    if (invoke !== undefined) options.entry = invoke;
    const prepared = runnable.prepare(memory === undefined ? undefined : options.memoryLimitBytes);
    const result = NanoVm.create(prepared, options).run();
    if (result.error !== undefined && !flagBool(p, 'quiet')) {
      const e = result.error;
      io.stderr(`nanovisor: ${basename(target)}: ${e.code}: ${e.message}\n`);
    }
    // nanovisor's own refusals of the module (no such export, a segment out of bounds) are
    // exit 1, as every other refusal: 134 is for the guest's traps.
    if (result.error !== undefined && result.error.code.startsWith('NV_MODULE_')) return 1;
    return result.outcome === 'timeout' ? EXIT_TIMEOUT : result.exitCode;
  },
};
