/**
 * The linux driver's VmHost: a "VM" is a gVisor sandbox (`runsc run`) of an image's rootfs.
 * `load` unpacks the rootfs once per image; `run` is one CGI request in a fresh sandbox —
 * env and body in, stdout out, bounded in wall time, memory, processes and output, no
 * network, the rootfs read-only with a private tmpfs on /tmp — then thrown away. The
 * gateway sees the same VmHost as for WebAssembly and cannot tell the drivers apart.
 *
 * When runsc cannot run here (`status.available` false, found once at start by probeRunsc)
 * images still load, so apps deploy and are listed, but every run rejects with
 * NV_LINUX_UNAVAILABLE carrying the reason (the gateway answers 503).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_OUTPUT, DEFAULT_MEMORY_LIMIT, DEFAULT_WRITABLE_LAYER, EXIT_OUTPUT_LIMIT, EXIT_TIMEOUT } from '../../host/options.ts';
import type { RunResult } from '../../host/options.ts';
import type { HostImage, HostRunOptions, HostStats, VmHandle, VmHost } from '../../host/vm-host.ts';
import { imageKey } from '../../host/vm-host.ts';
import { DEFAULT_PROCESSES } from '../../image/manifest.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { bundleConfig, type BundleOptions } from './bundle.ts';
import { unpackRootfs } from './rootfs-cache.ts';
import { runCommand, runscFlags, type RunscOptions, type RunscStatus } from './runsc.ts';

export interface LinuxHostOptions extends RunscOptions {
  /** Where the driver keeps unpacked rootfs trees, bundles and relay sockets. */
  workDir: string;
  /** What probeRunsc found (or will find: runs wait for it; the daemon does not). */
  status: RunscStatus | Promise<RunscStatus>;
}

/** One loaded linux image. */
export interface LinuxImage {
  digest: string;
  rootfs: string;
  memoryBytes: number;
  processes: number;
}

interface Loaded extends LinuxImage {
  refs: number;
}

/** A linux run's options: the host's, plus the process limit. */
export interface LinuxRunOptions extends HostRunOptions {
  processes?: number;
}

/** Default wall-clock limit of a linux CGI run. */
const DEFAULT_TIMEOUT_MS = 30_000;

export class LinuxHost implements VmHost {
  readonly #o: LinuxHostOptions;
  readonly #images = new Map<string, Loaded>();
  readonly #prefix = randomBytes(4).toString('hex');
  #n = 0;
  #live = 0;
  #runs = 0;
  #closed = false;
  readonly #running = new Set<Promise<unknown>>();

  #status: RunscStatus | undefined;
  readonly #probe: Promise<RunscStatus>;

  constructor(options: LinuxHostOptions) {
    this.#o = options;
    this.#probe = Promise.resolve(options.status).then((s) => (this.#status = s));
    // Checkpoints of instances asleep when an earlier daemon ended are never restored (a
    // start is fresh): they only hold disk, and their apps' memory.
    rmSync(join(options.workDir, 'checkpoints'), { recursive: true, force: true });
    mkdirSync(join(options.workDir, 'bundles'), { recursive: true });
    mkdirSync(options.stateDir, { recursive: true });
  }

  /** Whether runsc can run sandboxes here (waits for the probe). */
  status(): Promise<RunscStatus> {
    return this.#probe;
  }

  get runsc(): RunscOptions {
    return this.#o;
  }

  get workDir(): string {
    return this.#o.workDir;
  }

  /** The error every run gets when runsc cannot run here. */
  unavailable(): NanovisorError {
    const s = this.#status ?? { available: false, reason: 'still probing runsc' };
    return new NanovisorError('NV_LINUX_UNAVAILABLE', `the linux driver is off on this host: ${s.available ? 'closed' : s.reason}`);
  }

  async load(image: HostImage): Promise<VmHandle> {
    if (this.#closed) throw new NanovisorError('NV_HOST_CLOSED', 'the linux host is closed');
    const key = imageKey(image);
    const have = this.#images.get(key);
    if (have !== undefined) {
      have.refs++;
      return { key };
    }
    const digest = image.digest ?? key;
    const rootfs = unpackRootfs(join(this.#o.workDir, 'rootfs'), digest, image.module);
    this.#images.set(key, { digest, rootfs, memoryBytes: image.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT, processes: image.processes ?? DEFAULT_PROCESSES, refs: 1 });
    return { key };
  }

  /** The loaded image of a handle (for server instances). */
  image(handle: VmHandle): LinuxImage {
    const img = this.#images.get(handle.key);
    if (img === undefined) throw new NanovisorError('NV_HOST_FAULT', `no linux image is loaded for ${handle.key}`);
    return img;
  }

  /** A fresh sandbox id. */
  nextId(kind: 'cgi' | 'srv'): string {
    return `nv-${kind}-${this.#prefix}-${(this.#n++).toString(36)}`;
  }

  /** Writes a bundle (config.json) for a sandbox; returns its directory. */
  writeBundle(id: string, config: BundleOptions): string {
    const dir = join(this.#o.workDir, 'bundles', id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(bundleConfig(config)));
    return dir;
  }

  /** Kills and removes a sandbox, whatever state it is in; never throws. */
  async destroy(id: string): Promise<void> {
    const bin = this.#o.binary ?? 'runsc';
    await runCommand(bin, [...runscFlags(this.#o), 'kill', '--all', id, 'KILL'], 10_000);
    await runCommand(bin, [...runscFlags(this.#o), 'delete', '--force', id], 10_000);
    rmSync(join(this.#o.workDir, 'bundles', id), { recursive: true, force: true });
  }

  run(handle: VmHandle, options: LinuxRunOptions = {}): Promise<RunResult> {
    const p = this.#run(handle, options);
    this.#running.add(p);
    void p.finally(() => this.#running.delete(p)).catch(() => {});
    return p;
  }

  async #run(handle: VmHandle, options: LinuxRunOptions): Promise<RunResult> {
    if (this.#closed) throw new NanovisorError('NV_HOST_CLOSED', 'the linux host is closed');
    if (!(await this.#probe).available) throw this.unavailable();
    const img = this.image(handle);
    const args = options.args ?? [];
    if (args.length === 0) throw new NanovisorError('NV_HOST_FAULT', 'a linux run needs args (the program is args[0])');
    const id = this.nextId('cgi');
    const bundle = this.writeBundle(id, {
      rootfs: img.rootfs, args, env: options.env ?? {},
      memoryBytes: img.memoryBytes, processes: options.processes ?? img.processes,
      writableLayerBytes: options.writableLayerBytes ?? DEFAULT_WRITABLE_LAYER,
    });
    const started = performance.now();
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    this.#live++;
    try {
      return await new Promise<RunResult>((resolve) => {
        const child = spawn(this.#o.binary ?? 'runsc', [...runscFlags(this.#o), 'run', '--bundle', bundle, id], { stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let size = 0;
        let ended: 'timeout' | 'output-limit' | undefined;
        const stop = (why: 'timeout' | 'output-limit'): void => {
          if (ended !== undefined) return;
          ended = why;
          void this.destroy(id).then(() => child.kill('SIGKILL'));
        };
        const timer = Number.isFinite(timeoutMs) ? setTimeout(() => stop('timeout'), timeoutMs) : undefined;
        const take = (into: Buffer[]) => (d: Buffer): void => {
          if (ended !== undefined) return;
          if (size + d.length > maxOutput) {
            into.push(d.subarray(0, maxOutput - size));
            size = maxOutput;
            stop('output-limit');
            return;
          }
          size += d.length;
          into.push(d);
        };
        child.stdout.on('data', take(out));
        child.stderr.on('data', take(err));
        child.stdin.on('error', () => {});
        child.stdin.end(options.stdin === undefined ? undefined : typeof options.stdin === 'string' ? options.stdin : Buffer.from(options.stdin.buffer, options.stdin.byteOffset, options.stdin.length));
        child.on('close', (code, signal) => {
          if (timer !== undefined) clearTimeout(timer);
          const stdout = new Uint8Array(Buffer.concat(out));
          const stderr = new Uint8Array(Buffer.concat(err));
          const durationMs = performance.now() - started;
          if (ended === 'timeout') {
            resolve({ outcome: 'timeout', exitCode: EXIT_TIMEOUT, stdout, stderr, durationMs, error: new NanovisorError('NV_GUEST_TIMEOUT', `the linux program ran past its limit of ${timeoutMs} ms`) });
          } else if (ended === 'output-limit') {
            resolve({ outcome: 'output-limit', exitCode: EXIT_OUTPUT_LIMIT, stdout, stderr, durationMs, error: new NanovisorError('NV_GUEST_OUTPUT_LIMIT', `the linux program wrote more than ${maxOutput} bytes`) });
          } else {
            resolve({ outcome: 'exit', exitCode: code ?? 128 + (signal === null ? 0 : 9), stdout, stderr, durationMs });
          }
        });
      });
    } finally {
      this.#live--;
      this.#runs++;
      rmSync(bundle, { recursive: true, force: true });
    }
  }

  async unload(handle: VmHandle): Promise<void> {
    const img = this.#images.get(handle.key);
    if (img === undefined) return;
    if (--img.refs <= 0) this.#images.delete(handle.key);
  }

  async stats(): Promise<HostStats> {
    return { liveVms: this.#live, poolIdle: 0, loaded: this.#images.size, runs: this.#runs, processes: this.#live };
  }

  async close(options: { graceMs?: number } = {}): Promise<void> {
    this.#closed = true;
    // A probe still under way is a runsc child of ours: let it end, so nothing is left behind.
    await this.#probe.catch(() => {});
    const grace = new Promise((resolve) => setTimeout(resolve, options.graceMs ?? 5000).unref());
    await Promise.race([Promise.allSettled([...this.#running]), grace]);
  }
}
