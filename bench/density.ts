/**
 * Density benchmark: how many live Nano-VMs this machine holds, spread over host processes
 * (shards) by the Supervisor, and how much host memory each costs. A held VM is booted
 * (instance, its own linear memory, its kernel state) and kept alive without running.
 *
 * Method (vision.md, "memory per instance"): fall of `MemAvailable` in /proc/meminfo
 * between "shards started, module compiled" and "N VMs held", divided by N. MemAvailable is
 * machine-wide: anything else running moves it, so run this on a quiet machine.
 *
 * Also probes the per-process limit: one shard with no cap, holding VMs until the engine
 * refuses another memory; the error and the count are reported.
 *
 * Run alone: `node bench/density.ts [--target N] [--per-shard N] [--shards N] [--no-probe] [--json FILE]`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractSnapshot } from '../src/host/index.ts';
import { Supervisor } from '../src/host/shards/index.ts';
import { isNanovisorError } from '../src/shared/errors.ts';
import { summarize, type Row } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface DensityOptions {
  /** The guest to hold (default: the C hello world, see helloWasm). */
  wasm?: Uint8Array;
  /** Stop after this many live VMs. Default 50,000. */
  target?: number;
  /** The supervisor's cap per shard. Default 12,000. */
  perShard?: number;
  /** Shards to run. Default: enough for the target at the cap (more than the cores is fine: held VMs are idle). */
  shards?: number;
  /** VMs asked for per hold() call. Default 1000. */
  chunk?: number;
  /** Probe one process's limit of WebAssembly memories. Default true. */
  probe?: boolean;
  /** Progress lines on stderr. Default true. */
  verbose?: boolean;
}

export interface ProcessLimit {
  /** VMs one shard held when the engine refused the next one. */
  heldAtFailure: number;
  code: string;
  error: string;
}

export interface DensityReport {
  guest: { bytes: number; initialPages: number | undefined };
  target: number;
  shards: number;
  maxVmsPerShard: number;
  /** Live VMs reached on the whole machine, and per shard. */
  liveVms: number;
  perShard: number[];
  /** Why it stopped before the target, if it did. */
  stoppedBy?: { code: string; message: string };
  /** Host memory per live VM (fall of MemAvailable / VMs), KiB. */
  kibPerVm: number;
  /** The same from the shards' RSS (growth of their summed RSS / VMs), KiB: not moved by other processes. */
  kibPerVmRss: number;
  /** Of which the guest's own linear memory at boot, KiB. */
  kibGuestPages: number | undefined;
  /** Host memory per shard process before any VM (fall of MemAvailable at start / shards), MiB. */
  mibPerShardProcess: number;
  /** RSS of each shard with its VMs held, MiB. */
  shardRssMib: number[];
  /** VMs booted per second while holding (all shards together). */
  holdVmsPerSecond: number;
  processLimit?: ProcessLimit;
}

/** MemAvailable from /proc/meminfo, in KiB. */
export function memAvailableKiB(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  if (m === null) throw new Error('no MemAvailable in /proc/meminfo');
  return Number(m[1]);
}

const HELLO_C = `#include <stdio.h>\nint main(void) { printf("hello, world\\n"); return 0; }\n`;

/**
 * The C hello world: build/examples/hello-c/hello-c.wasm when the guests are built, else
 * build/guests/c/hello.wasm, else compiled here with clang for wasm32-wasi.
 */
export function helloWasm(): { name: string; bytes: Uint8Array } {
  for (const rel of ['build/examples/hello-c/hello-c.wasm', 'build/guests/c/hello.wasm']) {
    const p = join(root, rel);
    if (existsSync(p)) return { name: rel, bytes: readFileSync(p) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'nv-density-'));
  try {
    writeFileSync(join(dir, 'hello.c'), HELLO_C);
    execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-Wl,--strip-all', '-o', join(dir, 'hello.wasm'), join(dir, 'hello.c')]);
    return { name: 'hello.c (compiled here)', bytes: readFileSync(join(dir, 'hello.wasm')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function errorOf(e: unknown): { code: string; message: string } {
  return { code: isNanovisorError(e) ? e.code : 'Error', message: (e as Error).message };
}

/** One shard, no cap: hold VMs until the engine refuses one. */
async function probeProcessLimit(wasm: Uint8Array, chunk: number, log: (s: string) => void): Promise<ProcessLimit | undefined> {
  const sup = await Supervisor.start({ shards: 1, maxVmsPerShard: Number.MAX_SAFE_INTEGER });
  try {
    const key = await sup.load(wasm);
    for (let held = 0; held < 200_000;) {
      try {
        held += (await sup.hold(key, chunk)).held;
      } catch (e) {
        const failures = (isNanovisorError(e) ? e.details['failures'] : undefined) as Array<{ held: number; code: string; error: string }> | undefined;
        const f = failures?.[0];
        return f === undefined
          ? { heldAtFailure: held, ...(({ code, message }) => ({ code, error: message }))(errorOf(e)) }
          : { heldAtFailure: f.held, code: f.code, error: f.error };
      }
      if (held % 4000 === 0) log(`  probe: one shard holds ${held} VMs`);
    }
    return undefined;
  } finally {
    await sup.close();
  }
}

export async function densityBench(options: DensityOptions = {}): Promise<{ rows: Row[]; report: DensityReport }> {
  const guest = options.wasm === undefined ? helloWasm() : { name: 'given module', bytes: options.wasm };
  const target = options.target ?? 50_000;
  const perShard = options.perShard ?? 12_000;
  const shards = options.shards ?? Math.max(1, Math.ceil(target / perShard));
  const chunk = options.chunk ?? 1000;
  const log = options.verbose === false ? () => {} : (s: string) => process.stderr.write(`${s}\n`);
  let initialPages: number | undefined;
  try {
    initialPages = extractSnapshot(guest.bytes).snapshot.initialPages;
  } catch {
    initialPages = undefined;
  }

  log(`density: ${guest.name}, target ${target} VMs on ${shards} shards of at most ${perShard}`);
  const memStart = memAvailableKiB();
  const sup = await Supervisor.start({ shards, maxVmsPerShard: perShard });
  let report: DensityReport;
  try {
    const key = await sup.load(guest.bytes);
    await sleep(300);
    const memBase = memAvailableKiB();
    const rssBase = (await sup.stats()).shards.reduce((n, sh) => n + (sh.process?.rss ?? 0), 0);
    let live = 0;
    let stoppedBy: DensityReport['stoppedBy'];
    const t0 = performance.now();
    while (live < target) {
      try {
        live += (await sup.hold(key, Math.min(chunk, target - live))).held;
      } catch (e) {
        stoppedBy = errorOf(e);
        live = (await sup.stats()).heldVms;
        break;
      }
      if (live % 10_000 === 0) log(`  ${live} live VMs`);
    }
    const seconds = (performance.now() - t0) / 1000;
    await sleep(500);
    const memHeld = memAvailableKiB();
    const stats = await sup.stats();
    const perShardVms = stats.shards.map((s) => s.process?.heldVms ?? 0);
    report = {
      guest: { bytes: guest.bytes.byteLength, initialPages },
      target,
      shards,
      maxVmsPerShard: perShard,
      liveVms: live,
      perShard: perShardVms,
      ...(stoppedBy === undefined ? {} : { stoppedBy }),
      kibPerVm: live === 0 ? NaN : (memBase - memHeld) / live,
      kibPerVmRss: live === 0 ? NaN : (stats.shards.reduce((n, sh) => n + (sh.process?.rss ?? 0), 0) - rssBase) / 1024 / live,
      kibGuestPages: initialPages === undefined ? undefined : initialPages * 64,
      mibPerShardProcess: (memStart - memBase) / 1024 / shards,
      shardRssMib: stats.shards.map((s) => (s.process?.rss ?? 0) / 2 ** 20),
      holdVmsPerSecond: live / seconds,
    };
    log(`  held ${live} (${perShardVms.join(' + ')}), ${report.kibPerVm.toFixed(1)} KiB per VM; releasing`);
    await sup.release();
  } finally {
    await sup.close();
  }

  if (options.probe !== false) {
    log('density: probing one process\'s limit of WebAssembly memories');
    const limit = await probeProcessLimit(guest.bytes, chunk, log);
    if (limit !== undefined) report.processLimit = limit;
  }

  const one = (x: number) => summarize([x]);
  const group = 'density';
  const rows: Row[] = [
    { group, name: `live VMs, whole machine (${shards} shards)`, unit: 'VMs', summary: one(report.liveVms), note: report.stoppedBy === undefined ? `target ${target} reached` : `stopped: ${report.stoppedBy.code}` },
    { group, name: 'live VMs per shard', unit: 'VMs', summary: summarize(report.perShard), note: `cap ${perShard}` },
    { group, name: 'host memory per VM', unit: 'KiB', summary: one(report.kibPerVm), note: report.kibGuestPages === undefined ? 'fall of MemAvailable / VMs' : `fall of MemAvailable / VMs; guest's own pages ${report.kibGuestPages} KiB` },
    { group, name: 'host memory per VM (shards\' RSS)', unit: 'KiB', summary: one(report.kibPerVmRss), note: 'growth of the shards\' RSS / VMs' },
    { group, name: 'host memory per shard process', unit: 'MiB', summary: one(report.mibPerShardProcess), note: 'before any VM' },
    { group, name: 'hold rate (boot and keep)', unit: 'VMs/s', summary: one(report.holdVmsPerSecond) },
  ];
  if (report.processLimit !== undefined) {
    rows.push({ group, name: 'per-process limit (one shard, no cap)', unit: 'VMs', summary: one(report.processLimit.heldAtFailure), note: report.processLimit.error });
  }
  return { rows, report };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatTable } = await import('./stats.ts');
  const args = process.argv.slice(2);
  const num = (flag: string) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : undefined);
  const opts: DensityOptions = { probe: !args.includes('--no-probe') };
  const target = num('--target');
  const perShard = num('--per-shard');
  const shards = num('--shards');
  if (target !== undefined) opts.target = target;
  if (perShard !== undefined) opts.perShard = perShard;
  if (shards !== undefined) opts.shards = shards;
  const { rows, report } = await densityBench(opts);
  console.log(formatTable(rows));
  console.log(JSON.stringify(report, null, 2));
  if (args.includes('--json')) writeFileSync(args[args.indexOf('--json') + 1]!, `${JSON.stringify(report, null, 2)}\n`);
}
