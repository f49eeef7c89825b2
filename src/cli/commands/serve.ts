/**
 * `nanovisor serve`: the daemon. The primary process runs the control-plane API (src/api
 * over src/control), the HTTP gateway and their state — and no guest code: every request's
 * fresh Nano-VM runs on a host shard (one jailed process per core, src/host/shards), so the
 * API and `/healthz` answer whatever the guests do. State lives in a data directory created
 * on first start with the image store, the SQLite database, the request logs and the API
 * token. On first start it deploys the bundled example apps, so
 * `curl localhost:8080/echo-c` answers at once. SIGINT/SIGTERM/SIGHUP stop it cleanly: stop
 * accepting, let requests in flight finish within the grace period, flush logs, close the
 * database. The daemon logs JSON lines to stderr.
 */
import { HttpSwitch, parseCidr, type Cidr, type Resolve } from '../../switches/network/index.ts';
import { plainRoute } from '../../shared/routes.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuthThrottle, createApi, type Api } from '../../api/index.ts';
import { ControlPlane, StateDb, checkDataDirMode, prepareDataDir, type Logger } from '../../control/index.ts';
import { availableParallelism } from 'node:os';
import { subscribe, unsubscribe as unsubscribeChannel } from 'node:diagnostics_channel';
import { Admission, AppLoader, createGateway, defaultApiAdmission, type AdmissionOptions, type Gateway } from '../../gateway/index.ts';
import { ImageStore, buildImage, parseManifestText, type LoadedImage } from '../../image/index.ts';
import { componentKey, isComponent } from '../../host/component/index.ts';
import { DriverHost } from '../../drivers/driver-host.ts';
import { ScaleToZero } from '../../gateway/scale-to-zero.ts';
import { LinuxHost, probeRunsc, startServer, supervise, type RunscStatus } from '../../drivers/linux/index.ts';
import { DEFAULT_PROCESSES } from '../../image/manifest.ts';
import { InProcessHost, ShardedHost, enableEagerCompilation, isServerHost, type HostImage, type VmHost } from '../../host/index.ts';
import { startWasiServer } from './serve-instances.ts';
import type { JailLayer, ShardExitEvent, ShardStartEvent } from '../../host/shards/index.ts';
import { NanovisorMetrics, RequestLog, TrafficSeries, createLogger } from '../../observability/index.ts';
import { createDashboard, type Dashboard, type ShardRow } from '../../dashboard/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, flagList, flagString, parseDuration, parseFlags, type FlagSpec } from '../flags.ts';
import { VERSION } from '../version.ts';
import { DataDirLock } from '../daemon-lock.ts';

const USAGE = `Usage: nanovisor serve [flags]

Runs the nanovisor daemon: the control-plane API, the HTTP gateway (a fresh Nano-VM for
every request) and their state. The first start creates the data directory and an API
token, and deploys the bundled example apps.

Flags:
  --data DIR             data directory (default $NANOVISOR_HOME or ~/.nanovisor):
                         images/, nanovisor.db, logs/, token
  --api HOST:PORT        control-plane API address (default 127.0.0.1:7070)
  --listen HOST:PORT     gateway address for app traffic (default 127.0.0.1:8080)
  --grace DURATION       how long requests in flight may finish at shutdown (default 10s)
  --shards N             host processes that run the guests (default: one per core);
                         0 runs them in the daemon's own process (no isolation between
                         guests and the API: for debugging)
  --max-connections N    most connections the gateway holds open (default 10000, at
                         most half the open-files limit); more get 503 and are closed
  --volume-root DIR      a directory (repeatable) inside which volumes may be given an
                         operator hostPath (default: none; volumes live in <data>/volumes)
  --no-examples          do not deploy the example apps on first start
  --runsc PATH           the gVisor runsc of the linux driver (default: runsc on PATH)
  --no-linux             turn the linux driver off (linux apps answer 503)
  --outbound-allow-net CIDR
                         let apps' outbound HTTP calls reach this address range despite
                         the SSRF rules (repeatable; e.g. 127.0.0.1/32, 10.0.0.0/8);
                         default: no loopback, private, link-local or own address

The API needs "Authorization: Bearer <token>"; the token is in <data>/token (0600).
See docs/serve.md.`;

const SPECS: FlagSpec[] = [
  { name: 'data', type: 'string' },
  { name: 'api', type: 'string' },
  { name: 'listen', type: 'string' },
  { name: 'grace', type: 'string' },
  { name: 'shards', type: 'string' },
  { name: 'max-connections', type: 'string' },
  { name: 'no-examples', type: 'boolean' },
  { name: 'volume-root', type: 'list' },
  { name: 'outbound-allow-net', type: 'list' },
  { name: 'runsc', type: 'string' },
  { name: 'no-linux', type: 'boolean' },
];

export const DEFAULT_API = '127.0.0.1:7070';
export const DEFAULT_LISTEN = '127.0.0.1:8080';
const DEFAULT_GRACE_MS = 10_000;
/** A second stop signal sooner than this after the first is the same one, delivered twice. */
const REPEAT_SIGNAL_MS = 1000;

/** `HOST:PORT` or `[v6]:PORT`. */
export function parseAddress(text: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new NanovisorError('NV_USAGE', `--${flag} "${text}": expected HOST:PORT, e.g. 127.0.0.1:8080`);
  return { host: m[1] ?? m[2]!, port };
}

/** The data directory: `--data`, else `$NANOVISOR_HOME`, else `~/.nanovisor`. */
export function dataHome(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  if (flag !== undefined && flag !== '') return resolve(cwd, flag);
  const home = env['NANOVISOR_HOME'];
  if (home !== undefined && home !== '') return resolve(cwd, home);
  return join(homedir(), '.nanovisor');
}

/** The daemon's structured logger (src/observability/logger.ts): one JSON object per line. */
export function jsonLogger(write: (line: string) => void): Logger {
  const logger = createLogger({ stream: { write }, component: 'serve' });
  return (level, msg, fields) => logger.log(level, msg, fields);
}

/**
 * Removes the image store's lock file when the process that held it is gone (a kill -9 in
 * the middle of a store write); otherwise every write would wait for the lock to go stale.
 */
export function clearStaleStoreLock(imagesDir: string, log: Logger): void {
  const lock = join(imagesDir, 'index.json.lock');
  let text: string;
  try {
    text = readFileSync(lock, 'utf8').trim();
  } catch {
    return;
  }
  const pid = Number(text);
  let alive = false;
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 0);
      alive = true;
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  } else {
    // Killed between creating the lock and writing its pid: stale once it is a second old.
    try {
      alive = Date.now() - statSync(lock).mtimeMs < 1000;
    } catch {
      return;
    }
  }
  if (!alive) {
    rmSync(lock, { force: true });
    log('warn', 'removed a stale image store lock', { lock, pid: text });
  }
}

export interface DaemonOptions {
  dataDir: string;
  api?: { host: string; port: number };
  listen?: { host: string; port: number };
  /**
   * Directories inside which a volume may be given an operator `hostPath` (docs/volumes.md);
   * they are bound read-write into the shards' jail. Default: none.
   */
  volumeRoots?: readonly string[];
  /** Deploy the example apps on the first start. Default true. */
  examples?: boolean;
  graceMs?: number;
  /** Host shards that run the guests. Default: one per core; 0 runs them in this process. */
  shards?: number;
  /** The linux driver (gVisor): `false` turns it off; `runsc` / `platform` override the defaults. */
  linux?: false | { runsc?: string; platform?: string };
  /**
   * The HTTP switch of apps' outbound calls: `allowNets` are address ranges the operator lets
   * them reach despite the SSRF rules (docs/security.md#outbound-http). Default: none.
   */
  outbound?: { allowNets?: readonly Cidr[]; resolve?: Resolve };
  /** Caps on the gateway's connections, heads, buffered bodies and slow clients (src/gateway/admission.ts). */
  admission?: AdmissionOptions;
  /** The same for the API server (defaults: `defaultApiAdmission()`). */
  apiAdmission?: AdmissionOptions;
  log?: Logger;
  /** Where one-line notes for the user go (example builds). */
  note?: (text: string) => void;
}

export interface Daemon {
  readonly dataDir: string;
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  readonly tokenFile: string;
  readonly control: ControlPlane;
  readonly gateway: Gateway;
  /** Where the guests run: the sharded host (or the in-process one with `shards: 0`). */
  readonly host: VmHost;
  readonly api: Api;
  /** The dashboard under /ui/ on the API listener (docs/dashboard.md). */
  readonly dashboard: Dashboard;
  /** The last hour of traffic the dashboard charts (src/observability/series.ts). */
  readonly series: TrafficSeries;
  /** The apps deployed from the examples on this start. */
  readonly examples: string[];
  /** Stops accepting, finishes requests in flight (within the grace period), closes state. */
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePromise(server.address() as AddressInfo);
    });
  });
}

function url(a: AddressInfo): string {
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}

/** `nanovisor_connections_open` and `nanovisor_admission_refused_total`, by server (docs/observability.md). */
function admissionMetrics(metrics: NanovisorMetrics, servers: Record<string, Admission>): void {
  const refused = metrics.registry.counter('nanovisor_admission_refused_total', 'Clients turned away by admission control, by server and reason (connections: over maxConnections; body-budget: over maxBufferedBodyBytes).', ['server', 'reason']);
  metrics.registry.gauge('nanovisor_connections_open', 'Connections open, by server.', ['server'])
    .collect(() => Object.entries(servers).map(([server, a]) => [{ server }, a.stats().connections] as const));
  for (const [server, a] of Object.entries(servers)) a.onRefused((reason) => refused.inc({ server, reason }));
}

/** Per-volume metrics (docs/observability.md, docs/volumes.md), read from the gateway's admission at scrape time. */
function volumeMetrics(metrics: NanovisorMetrics, gw: Gateway): void {
  const r = metrics.registry;
  const per = (name: string, help: string, value: (v: ReturnType<Gateway['volumeStats']>[number]) => number) =>
    r.gauge(name, help, ['volume']).collect(() => gw.volumeStats().map((v) => [{ volume: v.name }, value(v)] as const));
  per('nanovisor_volume_used_bytes', 'Bytes a volume holds, as its quota counts them (measured, then followed through its VMs).', (v) => v.usedBytes);
  per('nanovisor_volume_used_files', 'Entries a volume holds.', (v) => v.usedFiles);
  per('nanovisor_volume_quota_bytes', 'A volume\'s quota of bytes.', (v) => v.quotaBytes);
  per('nanovisor_volume_quota_files', 'A volume\'s quota of entries.', (v) => v.quotaFiles);
  per('nanovisor_volume_vms', 'VMs admitted with the volume mounted, since the daemon started.', (v) => v.admitted);
  per('nanovisor_volume_wait_seconds', 'Total time requests waited for the (exclusive) volume before boot, since the daemon started.', (v) => v.waitMs / 1000);
  r.gauge('nanovisor_volume_calls', 'Reads, writes and syncs of files in the volume by its VMs, since the daemon started.', ['volume', 'call'])
    .collect(() => gw.volumeStats().flatMap((v) => [[{ volume: v.name, call: 'read' }, v.reads], [{ volume: v.name, call: 'write' }, v.writes], [{ volume: v.name, call: 'sync' }, v.syncs]] as const));
  r.gauge('nanovisor_volume_queue_depth', 'Requests waiting for an exclusive volume now.', ['volume'])
    .collect(() => Object.entries(gw.volumeQueueDepth()).map(([volume, n]) => [{ volume }, n] as const));
}

/** `--max-connections N`: the gateway's cap on open connections. */
function parseMaxConnections(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) throw new NanovisorError('NV_USAGE', `--max-connections "${text}": expected a whole number of connections, at least 1`);
  return n;
}

/** `--shards N`: a whole number, 0 (guests in the daemon) up to 256. */
export function parseShards(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 256) throw new NanovisorError('NV_USAGE', `--shards "${text}": expected a whole number of host processes from 0 to 256`);
  return n;
}

/** Logs every shard start and exit (a crash is a warning: the shard restarts by itself). */
/** One line at start: which layers of the shards' jail this machine gives, and why any is off (docs/security.md). */
function logJail(log: Logger, layers: readonly JailLayer[]): void {
  const off = layers.filter((l) => !l.on).map((l) => ({ layer: l.layer, why: l.why }));
  log(off.length === 0 ? 'info' : 'warn', off.length === 0 ? 'host shards jailed: every layer on' : `host shards jailed: ${off.length} layers off`, {
    on: layers.filter((l) => l.on).map((l) => l.layer), off,
  });
}

function logShardEvents(log: Logger): () => void {
  const onStart = (m: unknown) => {
    const e = m as ShardStartEvent;
    log('info', e.restarts === 0 ? 'host shard started' : 'host shard restarted', { shard: e.shard, pid: e.pid, restarts: e.restarts, startupMs: Math.round(e.startupMs) });
  };
  const onExit = (m: unknown) => {
    const e = m as ShardExitEvent;
    if (e.expected) return;
    log('warn', 'host shard crashed: restarting it', { shard: e.shard, pid: e.pid, code: e.code, signal: e.signal, failedRequests: e.failedRequests });
  };
  subscribe('nanovisor:host:shard-start', onStart);
  subscribe('nanovisor:host:shard-exit', onExit);
  return () => {
    unsubscribeChannel('nanovisor:host:shard-start', onStart);
    unsubscribeChannel('nanovisor:host:shard-exit', onExit);
  };
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The built example apps (`build/examples/<app>`), building them first when absent. */
function exampleDirs(note: (text: string) => void): string[] {
  const built = join(repoRoot, 'build', 'examples');
  if (!existsSync(built) && existsSync(join(repoRoot, 'examples'))) {
    const clang = spawnSync('clang', ['--version'], { stdio: 'ignore' });
    if (clang.status !== 0) {
      note('examples: clang is not installed, so the example apps are not built or deployed');
      return [];
    }
    try {
      execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-guests.ts'), 'examples/'], { stdio: 'ignore', cwd: repoRoot });
    } catch {
      note('examples: some example apps failed to build (npm run guests shows why); deploying the others');
    }
  }
  if (!existsSync(built)) return [];
  return readdirSync(built).sort().map((d) => join(built, d)).filter((d) => existsSync(join(d, 'nanovisor.json')));
}

/** Deploys every example app that declares routes; returns their names. */
/**
 * What the store's prepared cache holds for a component image (its build or upload put it
 * there), shipped to the shards so each only compiles it; nothing when there is none.
 */
function preparedEntry(store: ImageStore, image: LoadedImage, memoryLimitBytes: number): Pick<HostImage, 'prepared'> {
  if (store.preparedCache === undefined || image.manifest.driver === 'linux' || !isComponent(image.module)) return {};
  const entry = store.preparedCache.readEntry(componentKey(image.moduleIdentity, memoryLimitBytes));
  return entry === undefined ? {} : { prepared: { identity: image.moduleIdentity, entry } };
}

function deployExamples(control: ControlPlane, store: ImageStore, log: Logger, note: (text: string) => void): string[] {
  const done: string[] = [];
  for (const dir of exampleDirs(note)) {
    try {
      const manifest = parseManifestText(readFileSync(join(dir, 'nanovisor.json'), 'utf8'), dir);
      if (manifest.routes.length === 0) continue;
      const { digest } = buildImage({ dir, store });
      const routes = manifest.routes.map(plainRoute);
      control.execute({ kind: 'CreateApp', input: { name: manifest.name, routes } });
      control.execute({ kind: 'DeployVersion', app: manifest.name, image: digest });
      done.push(manifest.name);
    } catch (e) {
      log('warn', 'example app not deployed', { dir, error: (e as Error).message });
    }
  }
  return done;
}

/** The host's shards for the dashboard: state, restarts, live VMs, memory, time up. */
async function shardRows(host: VmHost): Promise<ShardRow[]> {
  if (!(host instanceof ShardedHost)) {
    const s = await host.stats();
    return [{ shard: 0, state: 'in-process', pid: process.pid, restarts: 0, liveVms: s.liveVms, rssBytes: process.memoryUsage().rss, uptimeMs: Math.round(process.uptime() * 1000) }];
  }
  const stats = await host.supervisor.stats();
  return stats.shards.map((s) => ({
    shard: s.shard, state: s.state, pid: s.pid ?? null, restarts: s.restarts,
    liveVms: s.process?.liveVms ?? s.heldVms, rssBytes: s.process?.rss ?? null, uptimeMs: s.process?.uptimeMs ?? null,
  }));
}

/**
 * Starts the daemon on a data directory.
 *
 * @example
 * const d = await startDaemon({ dataDir: '/tmp/nv', api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 } });
 * // d.apiUrl, d.gatewayUrl, d.tokenFile
 * await d.close();
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const dataDir = resolve(options.dataDir);
  // Creatable and writable, or NV_SERVE_DATA_DIR_UNWRITABLE naming the path.
  prepareDataDir(dataDir);
  // A data directory anyone may write is refused, not fixed (docs/serve.md, permissions).
  checkDataDirMode(dataDir);
  // One daemon per data directory (src/cli/daemon-lock.ts): taken before the database opens.
  const lock = DataDirLock.acquire(dataDir);
  try {
    const daemon = await startLocked(options, dataDir, lock);
    lock.update({ api: daemon.apiUrl, gateway: daemon.gatewayUrl });
    return daemon;
  } catch (e) {
    lock.release();
    throw e;
  }
}

/**
 * The linux driver's host. runsc is probed in the background (a real sandbox, ~0.5 s), so
 * start-up does not wait for it; the outcome is logged once, clearly: on, or off and why.
 */
function startLinuxDriver(workDir: string, option: DaemonOptions['linux'], log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void): LinuxHost {
  const runsc = { stateDir: join(workDir, 'state'), ...(option === false || option?.runsc === undefined ? {} : { binary: option.runsc }), ...(option === false || option?.platform === undefined ? {} : { platform: option.platform }) };
  const status: Promise<RunscStatus> = option === false
    ? Promise.resolve({ available: false, reason: 'turned off (--no-linux)' })
    : probeRunsc(runsc).catch((e: unknown) => ({ available: false as const, reason: (e as Error).message }));
  void status.then((s) => {
    if (s.available) log('info', 'linux driver on: gVisor sandboxes for linux apps', { runsc: s.version, platform: s.platform });
    else log('warn', 'linux driver off: linux apps answer 503 NV_LINUX_UNAVAILABLE, everything else works', { reason: s.reason });
  });
  return new LinuxHost({ ...runsc, workDir, status });
}

async function startLocked(options: DaemonOptions, dataDir: string, lock: DataDirLock): Promise<Daemon> {
  // Compile at deploy, not on a version's first request.
  enableEagerCompilation();
  const log = options.log ?? (() => {});
  const note = options.note ?? (() => {});
  // Volumes live here or under the operator's roots; the shards' jail binds both read-write
  // (at the same paths), and nothing else of the data directory.
  const volumesDir = join(dataDir, 'volumes');
  mkdirSync(volumesDir, { recursive: true, mode: 0o700 });
  const volumeRoots = (options.volumeRoots ?? []).map((r) => {
    try {
      if (!statSync(r).isDirectory()) throw new Error('not a directory');
      return realpathSync(r);
    } catch {
      throw new NanovisorError('NV_USAGE', `--volume-root ${r}: no such directory`);
    }
  });
  const imagesDir = join(dataDir, 'images');
  if (existsSync(imagesDir)) clearStaleStoreLock(imagesDir, log);
  const store = ImageStore.openHome(dataDir);
  const db = StateDb.open(join(dataDir, 'nanovisor.db'));
  const tokenFile = join(dataDir, 'token');
  const metrics = new NanovisorMetrics();
  // Filled in once the gateway exists; the series reads live VMs through it.
  let liveByApp: () => Record<string, number> = () => ({});
  const series = new TrafficSeries({ liveVms: () => {
    const byApp = liveByApp();
    return { total: Object.values(byApp).reduce((a, b) => a + b, 0), byApp };
  } });
  const requestLog = new RequestLog({ dir: join(dataDir, 'logs'), secretsOf: (app) => control?.secretValues(app) ?? [] });
  let control: ControlPlane | undefined;
  /** Where the gateway listens, once it does (for GET /healthz). */
  let servedGatewayUrl: string | undefined;

  const shards = options.shards ?? availableParallelism();
  const unsubscribe = logShardEvents(log);
  let host: VmHost;
  let linux: LinuxHost;
  let drivers: DriverHost;
  try {
    host = shards === 0
      ? new InProcessHost()
      : await ShardedHost.start({ shards, execArgv: ['--no-wasm-lazy-compilation'], jail: { readWrite: [volumesDir, ...volumeRoots] } });
    if (host instanceof ShardedHost) logJail(log, host.supervisor.jail);
    linux = startLinuxDriver(join(dataDir, 'linux'), options.linux, log);
    drivers = new DriverHost({ wasi: host, linux });
  } catch (e) {
    unsubscribe();
    requestLog.close();
    db.close();
    throw e;
  }
  const httpSwitch = new HttpSwitch({
    ...(options.outbound?.allowNets === undefined ? {} : { allowNets: options.outbound.allowNets }),
    ...(options.outbound?.resolve === undefined ? {} : { resolve: options.outbound.resolve }),
    onRefused: (s, c) => log('warn', 'outbound call refused', { app: s.app, requestId: s.requestId, destination: c.destination, method: c.method, errorCode: c.status, reason: c.reason }),
  });
  if ((options.outbound?.allowNets?.length ?? 0) > 0) log('warn', 'outbound HTTP may reach these address ranges despite the SSRF rules', { allowNets: options.outbound!.allowNets!.map((c) => c.text) });
  const gateway = createGateway({
    apps: [],
    host: drivers,
    httpSwitch,
    ...(options.admission === undefined ? {} : { admission: options.admission }),
    onRequest: (record) => {
      requestLog.append(record);
      metrics.recordRequest(record);
      series.record(record);
    },
  });
  const loader = new AppLoader({
    startServer: async (spec, handle) => {
      const r = drivers.resolve(handle);
      if (r.host !== linux) {
        if (!isServerHost(r.host)) throw new NanovisorError('NV_HOST_FAULT', 'this host runs no wasi server instances');
        return startWasiServer(spec, r.host, r.handle, log, metrics);
      }
      const start = () => startServer(linux, r.handle, {
        args: spec.options.args ?? [], env: spec.options.env ?? {}, server: { ...spec.server!, port: spec.server!.port! },
        ...(spec.options.writableLayerBytes === undefined ? {} : { writableLayerBytes: spec.options.writableLayerBytes }),
        onOutput: (line) => log('info', 'server instance output', { app: spec.name, version: spec.version, line }),
      });
      // A crash is logged and the instance restarted with backoff; meanwhile its requests get 503.
      const supervised = supervise(await start(), start, {
        onCrash: (c) => log('error', c.error === undefined ? 'server instance crashed: restarting it' : 'server instance restart failed', { app: spec.name, version: spec.version, exitCode: c.exitCode, restarts: c.restarts, backoffMs: c.backoffMs, ...(c.error === undefined ? {} : { error: c.error }) }),
      });
      // Scale to zero (with server.idleTimeoutMs): checkpointed when idle, restored by the next request.
      return new ScaleToZero(supervised, {
        idleTimeoutMs: spec.server!.idleTimeoutMs, wakeTimeoutMs: spec.server!.readyTimeoutMs,
        onEvent: (e) => {
          if (e.error === undefined) metrics.recordTransition(spec.name, e.event, e.ms);
          log(e.error === undefined ? 'info' : 'error', e.error === undefined ? `server instance ${e.event === 'sleep' ? 'asleep' : 'awake'}` : `server instance ${e.event} failed`, { app: spec.name, version: spec.version, ms: Math.round(e.ms * 10) / 10, ...(e.error === undefined ? {} : { error: e.error }) });
        },
      });
    },
    host: drivers,
    gateway,
    resolveImage: (digest, memoryLimitBytes): HostImage => {
      const image = store.load(digest);
      return {
        digest, module: image.module, files: image.files, memoryLimitBytes,
        ...(image.manifest.driver === 'linux' ? { driver: 'linux' as const, processes: image.manifest.limits.processes ?? DEFAULT_PROCESSES } : {}),
        ...(image.snapshot === undefined ? {} : { snapshot: image.snapshot }),
        ...preparedEntry(store, image, memoryLimitBytes),
      };
    },
    log,
  });
  try {
    control = ControlPlane.open({
      db, store, tokenFile, tmpDir: join(dataDir, 'tmp'), version: VERSION, requestLog, metrics, log, volumesDir, volumeRoots,
      lockVolume: (name) => gateway.holdVolume(name),
      gatewayUrl: () => servedGatewayUrl,
      instanceOf: (app) => loader.instances()[app],
      onAppsChanged: (specs) => {
        // A deleted app's series go with it (only served apps have traffic).
        series.retain(new Set(specs.map((a) => a.name)));
        return loader.apply(specs);
      },
      checkSpec: (spec) => loader.check(spec),
      refreshMetrics: async () => { poolIdle = (await drivers.stats()).poolIdle; },
    });
  } catch (e) {
    unsubscribe();
    await host.close();
    requestLog.close();
    db.close();
    throw e;
  }
  const cp = control;
  const gw = gateway;
  liveByApp = () => gw.liveVmsByApp();
  series.start();
  // Pool sizes live in the shards: read before each scrape (refreshMetrics), not per request.
  let poolIdle = 0;
  metrics.setSources({
    queueDepth: () => gw.queueDepth(),
    vmsLive: () => gw.liveVms(),
    poolIdle: () => poolIdle,
    instances: () => loader.instances(),
  });

  let examples: string[] = [];
  if (db.get("SELECT value FROM meta WHERE key = 'examples'") === undefined) {
    if (options.examples !== false) examples = deployExamples(cp, store, log, note);
    db.run("INSERT INTO meta (key, value) VALUES ('examples', ?)", JSON.stringify(examples));
  }
  // Everything deployed is loaded on the host before the gateway takes its first request.
  await loader.apply(cp.appSpecs());

  // One count of wrong tokens per client address, for the API's bearer check and the dashboard's login.
  const authThrottle = new AuthThrottle();
  const dashboard = createDashboard({
    control: cp, series, log, authThrottle,
    queueDepth: () => gw.queueDepth(),
    liveVmsByApp: () => gw.liveVmsByApp(),
    shards: () => shardRows(host),
  });
  const api = createApi({ control: cp, log, sessionAuth: dashboard.sessionAuth, authThrottle });
  const apiAdmission = new Admission(options.apiAdmission, defaultApiAdmission());
  admissionMetrics(metrics, { gateway: gw.admission, api: apiAdmission });
  volumeMetrics(metrics, gw);
  const apiServer = apiAdmission.createServer((req, res) => {
    if (!dashboard.handle(req, res)) api.handle(req, res);
  });
  let apiAddress: AddressInfo;
  let gwAddress: AddressInfo;
  try {
    const a = options.api ?? parseAddress(DEFAULT_API, 'api');
    const l = options.listen ?? parseAddress(DEFAULT_LISTEN, 'listen');
    apiAddress = await listen(apiServer, a.host, a.port);
    gwAddress = await gateway.listen(l.port, l.host);
  } catch (e) {
    apiServer.close();
    series.stop();
    await gateway.close();
    unsubscribe();
    await host.close();
    requestLog.close();
    db.close();
    const err = e as NodeJS.ErrnoException;
    throw new NanovisorError('NV_USAGE', `cannot listen: ${err.message}${err.code === 'EADDRINUSE' ? ' (another nanovisor serve running? pick another port with --api / --listen)' : ''}`, { cause: e });
  }

  servedGatewayUrl = url(gwAddress);
  let closing: Promise<void> | undefined;
  const grace = options.graceMs ?? DEFAULT_GRACE_MS;
  const daemon: Daemon = {
    dataDir,
    apiUrl: url(apiAddress),
    gatewayUrl: url(gwAddress),
    tokenFile,
    control: cp,
    gateway: gw,
    host,
    api,
    dashboard,
    series,
    examples,
    close() {
      closing ??= (async () => {
        log('info', 'shutting down', { graceMs: grace });
        api.close();
        dashboard.close();
        series.stop();
        const apiClosed = new Promise<void>((r) => apiServer.close(() => r()));
        apiServer.closeIdleConnections();
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), grace)));
        const outcome = await Promise.race([Promise.all([gw.close(), apiClosed]).then(() => 'done' as const), deadline]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          log('warn', 'grace period over: closing the connections still open', { graceMs: grace });
          gw.server?.closeAllConnections();
          apiServer.closeAllConnections();
        }
            await loader.stopAll();
            await drivers.close({ graceMs: 1000 });
        unsubscribe();
        requestLog.close();
        db.close();
        lock.release();
        log('info', 'stopped');
      })();
      return closing;
    },
  };
  log('info', 'nanovisor serve ready', { api: daemon.apiUrl, gateway: daemon.gatewayUrl, dataDir, shards, apps: loader.specs.map((a) => a.name) });
  return daemon;
}

export const serveCommand: Command = {
  name: 'serve',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'serve');
    if (p.positionals.length > 0) throw new NanovisorError('NV_USAGE', `serve: unexpected argument "${p.positionals[0]}"`);
    const grace = flagString(p, 'grace');
    const shardsFlag = flagString(p, 'shards');
    const maxConnections = flagString(p, 'max-connections');
    const log = jsonLogger(io.stderr);
    const daemon = await startDaemon({
      dataDir: dataHome(flagString(p, 'data'), io.env, io.cwd),
      api: parseAddress(flagString(p, 'api') ?? DEFAULT_API, 'api'),
      listen: parseAddress(flagString(p, 'listen') ?? DEFAULT_LISTEN, 'listen'),
      examples: !flagBool(p, 'no-examples'),
      volumeRoots: flagList(p, 'volume-root').map((r) => resolve(io.cwd, r)),
      ...(flagList(p, 'outbound-allow-net').length === 0 ? {} : { outbound: { allowNets: flagList(p, 'outbound-allow-net').map((c) => parseCidr(c)) } }),
      ...(flagBool(p, 'no-linux') ? { linux: false as const } : flagString(p, 'runsc') === undefined ? {} : { linux: { runsc: flagString(p, 'runsc')! } }),
      ...(grace === undefined ? {} : { graceMs: parseDuration(grace, 'grace') }),
      ...(shardsFlag === undefined ? {} : { shards: parseShards(shardsFlag) }),
      ...(maxConnections === undefined ? {} : { admission: { maxConnections: parseMaxConnections(maxConnections) } }),
      log,
      note: (t) => io.stdout(`${t}\n`),
    });
    const apps = daemon.control.execute({ kind: 'ListApps' }).filter((a) => a.currentVersion !== null);
    io.stdout([
      `nanovisor serve ${VERSION}`,
      `  api:        ${daemon.apiUrl}`,
      `  gateway:    ${daemon.gatewayUrl}`,
      `  dashboard:  ${daemon.apiUrl}/ui/ (log in with the token: nanovisor token)`,
      `  token file: ${daemon.tokenFile}`,
      `  data dir:   ${daemon.dataDir}`,
      ...apps.flatMap((a) => a.routes.map((r) => `  app ${a.name} v${a.currentVersion}: curl ${r.host === undefined ? daemon.gatewayUrl : `-H 'Host: ${r.host}' ${daemon.gatewayUrl}`}${r.path}`)),
      '',
    ].join('\n'));
    await new Promise<void>((done) => {
      let stoppingSince: number | undefined;
      const stop = (signal: string): void => {
        if (stoppingSince !== undefined) {
          // A terminal's Ctrl-C reaches both the launcher (bin/nanovisor.js), which passes
          // it on, and us: a repeat within a second is that same signal.
          if (performance.now() - stoppingSince < REPEAT_SIGNAL_MS) return;
          log('warn', 'second signal: exiting now', { signal });
          process.exit(130);
        }
        stoppingSince = performance.now();
        log('info', 'signal received', { signal });
        void daemon.close().then(done);
      };
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, stop);
    });
    return 0;
  },
};
