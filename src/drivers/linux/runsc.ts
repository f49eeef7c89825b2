/**
 * gVisor's `runsc`, as the linux driver uses it: find it, prove at start that it can really
 * run a sandbox here (it needs root for the ptrace platform unless rootless works), build the
 * relay (relay.c) it needs for server apps, and run one `runsc` command. A machine without a
 * working runsc gets one clear reason, logged at start; linux apps then answer 503
 * NV_LINUX_UNAVAILABLE and everything else keeps working.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleConfig } from './bundle.ts';

/** How the driver calls runsc. */
export interface RunscOptions {
  /** The runsc binary. Default `runsc` (on PATH). */
  binary?: string;
  /** gVisor platform: `ptrace` works everywhere; `systrap`/`kvm` where the machine has them. Default ptrace. */
  platform?: string;
  /** runsc's state directory (`--root`). */
  stateDir: string;
}

/** The global flags every runsc command of the driver gets. */
export function runscFlags(o: RunscOptions, extra: readonly string[] = []): string[] {
  return ['--root', o.stateDir, `--platform=${o.platform ?? 'ptrace'}`, '--network=none', ...extra];
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one command to its end, capturing (a bounded amount of) its output. */
export function runCommand(binary: string, args: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let child;
    try {
      child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ code: null, signal: null, stdout: '', stderr: (e as Error).message });
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => { if (stdout.length < 65536) stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < 65536) stderr += d.toString(); });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: stderr + e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The relay's C source, next to this module. */
export const RELAY_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'relay.c');

/**
 * Builds the relay (a static binary, so it runs in any rootfs) into `dir` once; returns its
 * path, or throws with why (no gcc, no static libc).
 */
export async function ensureRelay(dir: string, cc = 'gcc'): Promise<string> {
  const source = readFileSync(RELAY_SOURCE);
  const out = join(dir, `nv-relay-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = await runCommand(cc, ['-static', '-O2', '-pthread', '-o', tmp, RELAY_SOURCE], 120_000);
  if (r.code !== 0) throw new Error(`cannot build the relay with ${cc} -static (${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}); install gcc and libc6-dev`);
  renameSync(tmp, out);
  return out;
}

/** Whether the driver can run sandboxes here, and if not, why. */
export type RunscStatus =
  | { available: true; version: string; platform: string; relay: string }
  | { available: false; reason: string };

/**
 * Proves that runsc works here by running a real sandbox: the relay binary, bind-mounted
 * into an empty root, run without arguments (it prints its usage and exits 2). Never throws.
 *
 * @example
 * const s = await probeRunsc({ stateDir: '/tmp/nv/runsc' }, '/tmp/nv/bin');
 * if (!s.available) console.warn(`linux driver off: ${s.reason}`);
 */
export async function probeRunsc(o: RunscOptions, binDir = join(tmpdir(), 'nanovisor-relay')): Promise<RunscStatus> {
  const binary = o.binary ?? 'runsc';
  const v = await runCommand(binary, ['--version'], 10_000);
  if (v.code !== 0) {
    return { available: false, reason: v.code === null && /ENOENT/.test(v.stderr) ? `${binary} is not installed (Debian: apt-get install runsc)` : `${binary} --version failed: ${v.stderr.trim() || `exit ${v.code}`}` };
  }
  const version = v.stdout.split('\n')[0]?.trim() ?? 'runsc';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { available: false, reason: `${version} needs root here (the daemon runs as uid ${process.getuid()}; rootless gVisor is not supported by this driver yet)` };
  }
  let relay: string;
  try {
    relay = await ensureRelay(binDir);
  } catch (e) {
    return { available: false, reason: (e as Error).message };
  }
  mkdirSync(o.stateDir, { recursive: true });
  const bundle = mkdtempSync(join(o.stateDir, '..', 'probe-'));
  try {
    mkdirSync(join(bundle, 'rootfs', '.nv'), { recursive: true });
    mkdirSync(join(bundle, 'rootfs', 'proc'), { recursive: true });
    mkdirSync(join(bundle, 'rootfs', 'tmp'), { recursive: true });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(bundleConfig({
      rootfs: join(bundle, 'rootfs'), args: ['/.nv/relay'], env: {}, relay, memoryBytes: 64 * 1024 * 1024, processes: 8, writableLayerBytes: 1024 * 1024,
    })));
    const id = `nv-probe-${process.pid}-${Date.now().toString(36)}`;
    const r = await runCommand(binary, [...runscFlags(o), 'run', '--bundle', bundle, id], 30_000);
    if (r.code !== 2 || !r.stderr.includes('usage: nv-relay')) {
      await runCommand(binary, [...runscFlags(o), 'delete', '--force', id], 10_000);
      const why = r.stderr.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? `exit ${r.code}`;
      return { available: false, reason: `${version} cannot run a sandbox here (--platform=${o.platform ?? 'ptrace'}): ${why}` };
    }
    return { available: true, version, platform: o.platform ?? 'ptrace', relay };
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
}
