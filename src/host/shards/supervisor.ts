/**
 * The shard supervisor: runs several host processes (shards, default one per core) and
 * spreads VMs across them. One Node process holds only ~16k WebAssembly memories (each
 * reserves 8 GiB of address space) and uses one core, so density and multi-core use come
 * from more processes; separate processes also separate tenants at the OS level. Each
 * shard starts jailed (./jail.ts: namespaces, a view of only its code, seccomp, limits).
 *
 * Work goes to the shard with the fewest outstanding requests. A shard that dies (killed,
 * out of memory, a host bug) fails only its own in-flight requests, with
 * NV_HOST_SHARD_CRASHED, and is restarted with its module cache re-sent; the other shards
 * never notice. Events: `nanovisor:host:shard-start`, `nanovisor:host:shard-exit` on
 * node:diagnostics_channel. See docs/shards.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import { availableParallelism, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BUNDLED } from '../../shared/bundled.ts';
import { ERROR_CODES, NanovisorError, type ErrorCode } from '../../shared/errors.ts';
import type { RunResult } from '../options.ts';
import { imageKey, type HostImage } from '../vm-host.ts';
import { JAIL_LAYERS, Jail, type JailLayer, type JailOptions } from './jail.ts';
import type {
  HoldReply, ReleaseReply, ShardOutboundCall, ShardOutboundReply, ShardReady, ShardReply, ServerShardRequest, ShardRequest, ShardRunOptions, ShardStats, WireError, WireRunResult,
} from './protocol.ts';
import type { OutboundPort, OutboundReply } from '../../shared/outbound-wire.ts';

export type { ShardRunOptions, ShardStats } from './protocol.ts';

/** The shard entry sits next to this file (.ts when run from source, .js when built). */
// From dist/bundle (scripts/bundle-dist.ts), the bundled shard: one file to load, not ~100.
const WORKER = fileURLToPath(BUNDLED
  ? new URL('../../bundle/shard-worker.js', import.meta.url)
  : new URL(`./worker${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url));

const startChannel = channel('nanovisor:host:shard-start');
const exitChannel = channel('nanovisor:host:shard-exit');

/** Published on `nanovisor:host:shard-start` when a shard process is ready for requests. */
export interface ShardStartEvent {
  shard: number;
  pid: number;
  /** 0 for the first process of this shard, then one more on every restart. */
  restarts: number;
  /** From fork to the shard's ready message. */
  startupMs: number;
}

/** Published on `nanovisor:host:shard-exit` when a shard process ends. */
export interface ShardExitEvent {
  shard: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the supervisor was closing; otherwise the shard crashed and will be restarted. */
  expected: boolean;
  /** Requests that failed with it. */
  failedRequests: number;
  /** Held VMs lost with it. */
  heldVms: number;
}

export interface SupervisorOptions {
  /** Host processes to run. Default: os.availableParallelism(). */
  shards?: number;
  /** Held VMs per shard before `hold` fails with NV_HOST_CAPACITY. Default 12000 (V8 stops near 16k memories). */
  maxVmsPerShard?: number;
  /** V8 old-space limit of each shard in MiB. Default: half the machine's memory shared by the shards, 256..4096. */
  maxOldSpaceSizeMb?: number;
  /** More Node/V8 flags for the shard processes. */
  execArgv?: readonly string[];
  /** Wait before restarting a shard that crashed again soon after a restart; doubles, capped at 5 s. Default 100. */
  restartDelayMs?: number;
  /**
   * The shards' jail (./jail.ts, docs/security.md): namespaces, a filesystem view of only
   * the code and these directories, no_new_privs, a system-call filter, resource limits.
   * Default on, with the layers this machine allows (see `Supervisor.jail`); `false` runs
   * shards as plain child processes. Guests' host-directory mounts must lie in `readOnly`
   * or `readWrite`.
   */
  jail?: JailOptions | false;
}

export type ShardState = 'starting' | 'ready' | 'restarting' | 'closed';

/** What the supervisor knows about a shard without asking it. */
export interface ShardInfo {
  shard: number;
  pid: number | undefined;
  state: ShardState;
  restarts: number;
  /** Requests sent or queued and not answered yet. */
  outstanding: number;
  heldVms: number;
  /** Runs this supervisor completed on the shard. */
  runs: number;
}

export interface SupervisorStats {
  shards: Array<ShardInfo & { process?: ShardStats }>;
  heldVms: number;
  modules: number;
}

export interface HoldResult {
  /** VMs booted and held by this call. */
  held: number;
  /** Of them, per shard. */
  perShard: number[];
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** The process the request was written to; undefined while queued. */
  sentTo: ChildProcess | undefined;
}

class Shard {
  readonly index: number;
  child: ChildProcess | undefined;
  pid: number | undefined;
  state: ShardState = 'starting';
  ready = false;
  /** Requests waiting for the process to be ready, in order. */
  queue: ShardRequest[] = [];
  readonly pending = new Map<number, Pending>();
  held = 0;
  /** VMs promised to hold requests not answered yet. */
  reserved = 0;
  restarts = 0;
  crashesInRow = 0;
  runs = 0;
  forkedAt = 0;
  restartTimer: NodeJS.Timeout | undefined;
  /** Requests written this tick, sent together. */
  outbox: ShardRequest[] = [];
  flushScheduled = false;
  exited: Promise<void> = Promise.resolve();

  constructor(index: number) {
    this.index = index;
  }

  info(): ShardInfo {
    return {
      shard: this.index, pid: this.pid, state: this.state, restarts: this.restarts,
      outstanding: this.pending.size, heldVms: this.held, runs: this.runs,
    };
  }
}

function fromWire(w: WireError): NanovisorError {
  const code: ErrorCode = w.code in ERROR_CODES ? (w.code as ErrorCode) : 'NV_HOST_FAULT';
  return new NanovisorError(code, w.message, w.details === undefined ? {} : { details: w.details });
}

function fromWireResult(r: WireRunResult): RunResult {
  const { error, ...rest } = r;
  return error === undefined ? rest : { ...rest, error: fromWire(error) };
}

function defaultOldSpaceMb(shards: number): number {
  return Math.max(256, Math.min(4096, Math.floor(totalmem() / 2 ** 20 / 2 / shards)));
}

/**
 * Runs `shards` host processes and spreads VMs across them.
 *
 * @example
 * const sup = await Supervisor.start({ shards: 2 });
 * const key = await sup.load(readFileSync('hello.wasm'));
 * const r = await sup.run(key, { args: ['hello'] });
 * console.log(new TextDecoder().decode(r.stdout));
 * await sup.close();
 */
export class Supervisor {
  readonly maxVmsPerShard: number;
  readonly #shards: Shard[];
  readonly #execArgv: string[];
  readonly #restartDelayMs: number;
  readonly #modules = new Map<string, HostImage>();
  /** The shard of each wasi server instance, by its id. */
  readonly #servers = new Map<string, Shard>();
  readonly #inflight = new Set<Promise<unknown>>();
  #jail: Jail | undefined;
  #nextId = 1;
  #rotate = 0;
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Until start() returns: a shard that dies before its first ready message fails the start. */
  #starting: ((error: Error | undefined, shard: Shard) => void) | undefined;

  private constructor(options: SupervisorOptions) {
    const shards = options.shards ?? availableParallelism();
    if (!Number.isInteger(shards) || shards < 1) throw new NanovisorError('NV_USAGE', `shards must be a positive integer, not ${shards}`);
    this.maxVmsPerShard = options.maxVmsPerShard ?? 12000;
    this.#shards = Array.from({ length: shards }, (_, i) => new Shard(i));
    this.#execArgv = [`--max-old-space-size=${options.maxOldSpaceSizeMb ?? defaultOldSpaceMb(shards)}`, ...(options.execArgv ?? [])];
    this.#restartDelayMs = options.restartDelayMs ?? 100;
  }

  /** Starts the shard processes; resolves when every one is ready for requests. */
  static async start(options: SupervisorOptions = {}): Promise<Supervisor> {
    const sup = new Supervisor(options);
    if (options.jail !== false) sup.#jail = await Jail.create(options.jail ?? {}, WORKER);
    const waiting = new Set(sup.#shards);
    const started = new Promise<void>((resolve, reject) => {
      sup.#starting = (error, shard) => {
        if (error !== undefined) reject(error);
        waiting.delete(shard);
        if (waiting.size === 0) resolve();
      };
    });
    for (const s of sup.#shards) sup.#spawn(s);
    try {
      await started;
    } catch (e) {
      await sup.close();
      throw e;
    } finally {
      sup.#starting = undefined;
    }
    return sup;
  }

  /** The jail's layers and whether the shards have each (all off with `jail: false`); for the daemon's start-up log. */
  get jail(): JailLayer[] {
    return this.#jail?.layers.map((l) => ({ ...l })) ?? JAIL_LAYERS.map((layer) => ({ layer, on: false, why: 'the jail is turned off (jail: false)' }));
  }

  /** Shards as the supervisor sees them now (no round trip). */
  get shards(): ShardInfo[] {
    return this.#shards.map((s) => s.info());
  }

  /**
   * Sends a module to every shard, which compiles it once; resolves to its key (sha256 of
   * the bytes, plus the memory limit when one is given). Loading the same bytes again is free.
   */
  load(bytes: Uint8Array, options: { memoryLimitBytes?: number } = {}): Promise<string> {
    return this.loadImage({ module: bytes, ...(options.memoryLimitBytes === undefined ? {} : { memoryLimitBytes: options.memoryLimitBytes }) });
  }

  /**
   * Sends an image (module, snapshot, files) to every shard, which compiles it once; resolves
   * to its key (see imageKey). Loading the same image again is free. Rejects with the image's
   * error when a shard cannot load it.
   */
  async loadImage(image: HostImage): Promise<string> {
    this.#checkOpen();
    const key = imageKey(image);
    if (this.#modules.has(key)) return key;
    this.#modules.set(key, image);
    const results = await Promise.allSettled(this.#shards.map((s) => this.#send(s, this.#loadRequest(key, image))));
    for (const r of results) {
      // A shard that crashes meanwhile gets the module again when it restarts.
      if (r.status === 'rejected' && (r.reason as NanovisorError).code !== 'NV_HOST_SHARD_CRASHED') {
        if (this.#modules.get(key) === image) this.unload(key);
        throw r.reason;
      }
    }
    return key;
  }

  /** Forgets a module in the supervisor and every shard. */
  unload(key: string): void {
    if (!this.#modules.delete(key)) return;
    for (const s of this.#shards) {
      if (s.state !== 'closed') this.#send(s, { id: this.#nextId++, op: 'unload', key }).catch(() => {});
    }
  }

  /**
   * Boots a VM of a loaded module on the least busy shard and runs it to the end. Rejects
   * only for host failures (NV_HOST_SHARD_CRASHED, NV_HOST_CLOSED, ...); the guest's own
   * behaviour (exit, trap, timeout) is in the RunResult, as with NanoVm.run.
   */
  run(key: string, options: ShardRunOptions = {}, outbound?: OutboundPort): Promise<RunResult> {
    try {
      this.#checkOpen();
      this.#checkKey(key);
    } catch (e) {
      return Promise.reject(e);
    }
    const shard = this.#pick();
    const id = this.#nextId++;
    // The run's outgoing requests come back from its shard (ShardOutboundCall), for its port only.
    if (outbound !== undefined) this.#outbound.set(id, { shard, port: outbound });
    const p = this.#send(shard, { id, op: 'run', key, options }).then((r) => {
      shard.runs++;
      return fromWireResult(r as WireRunResult);
    });
    if (outbound !== undefined) {
      const forget = () => { this.#outbound.delete(id); };
      p.then(forget, forget);
    }
    return p;
  }

  /** Ports of runs in flight that may make outgoing requests, by run request id. */
  readonly #outbound = new Map<number, { shard: Shard; port: OutboundPort }>();

  /** A shard's outgoing request: to its run's port, the answer back to the shard. */
  #onOutbound(shard: Shard, child: ChildProcess, msg: ShardOutboundCall): void {
    const run = this.#outbound.get(msg.run);
    const answer = (reply: OutboundReply): void => {
      if (child.connected) child.send({ op: 'outbound-reply', call: msg.call, reply } satisfies ShardOutboundReply);
    };
    if (run === undefined || run.shard !== shard) {
      answer({ ok: false, code: { tag: 'HTTP-request-denied' }, reason: 'no outbound port for this run' });
      return;
    }
    run.port.call(msg.request).then(answer, (e: unknown) => answer({ ok: false, code: { tag: 'internal-error', val: String(e) }, reason: String(e) }));
  }

  /**
   * Boots `count` VMs of a module and keeps them alive without running them (for density),
   * spread evenly over the shards. Fails with NV_HOST_CAPACITY, before booting anything, when
   * the shards have fewer than `count` free places under maxVmsPerShard; and after booting
   * some, when a shard's engine refuses another memory (the ones booted stay held: `release`).
   */
  async hold(key: string, count: number, options: ShardRunOptions = {}): Promise<HoldResult> {
    this.#checkOpen();
    this.#checkKey(key);
    if (!Number.isInteger(count) || count < 0) throw new NanovisorError('NV_USAGE', `count must be a non-negative integer, not ${count}`);
    const live = this.#shards.filter((s) => s.state !== 'closed');
    const load = (s: Shard) => s.held + s.reserved;
    const free = live.reduce((n, s) => n + Math.max(0, this.maxVmsPerShard - load(s)), 0);
    if (free < count) {
      throw new NanovisorError('NV_HOST_CAPACITY', `cannot hold ${count} more VMs: ${free} free places left on ${live.length} shards of ${this.maxVmsPerShard} VMs each`, {
        details: { requested: count, free, maxVmsPerShard: this.maxVmsPerShard, heldPerShard: this.#shards.map((s) => s.held) },
      });
    }
    // Level the shards: each VM goes to the shard holding the fewest.
    const alloc = new Map<Shard, number>();
    for (let i = 0; i < count; i++) {
      let best: Shard | undefined;
      for (const s of live) {
        const n = load(s) + (alloc.get(s) ?? 0);
        if (n < this.maxVmsPerShard && (best === undefined || n < load(best) + (alloc.get(best) ?? 0))) best = s;
      }
      alloc.set(best!, (alloc.get(best!) ?? 0) + 1);
    }
    const jobs = [...alloc].map(async ([s, n]) => {
      s.reserved += n;
      try {
        const reply = await this.#send(s, { id: this.#nextId++, op: 'hold', key, count: n, options }) as HoldReply;
        if (s.state !== 'closed' && s.ready) s.held = reply.total;
        return { shard: s, reply };
      } finally {
        s.reserved -= n;
      }
    });
    const settled = await Promise.allSettled(jobs);
    const perShard = this.#shards.map(() => 0);
    const failures: Array<Record<string, unknown>> = [];
    let crash: unknown;
    for (const r of settled) {
      if (r.status === 'rejected') {
        crash ??= r.reason;
        continue;
      }
      perShard[r.value.shard.index] = r.value.reply.held;
      const f = r.value.reply.failure;
      if (f !== undefined) failures.push({ shard: r.value.shard.index, pid: r.value.shard.pid, held: r.value.reply.total, code: f.code, error: f.message });
    }
    const held = perShard.reduce((a, b) => a + b, 0);
    if (failures.length > 0) {
      const first = failures[0]!;
      throw new NanovisorError('NV_HOST_CAPACITY', `held ${held} of ${count} VMs: shard ${String(first.shard)} could not boot another VM after ${String(first.held)} (${String(first.error)})`, {
        details: { requested: count, held, perShard, failures },
      });
    }
    if (crash !== undefined) throw crash;
    return { held, perShard };
  }

  /** Drops held VMs (of one module, or all); resolves to how many were released. */
  async release(key?: string): Promise<number> {
    this.#checkOpen();
    const replies = await Promise.allSettled(this.#shards.filter((s) => s.ready).map(async (s) => {
      const r = await this.#send(s, { id: this.#nextId++, op: 'release', ...(key === undefined ? {} : { key }) }) as ReleaseReply;
      s.held = r.total;
      return r.released;
    }));
    return replies.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value : 0), 0);
  }

  /** Asks every ready shard about itself (live VMs, modules, memory). */
  async stats(): Promise<SupervisorStats> {
    const shards = await Promise.all(this.#shards.map(async (s) => {
      const info = s.info();
      if (!s.ready) return info;
      try {
        return { ...info, process: await this.#send(s, { id: this.#nextId++, op: 'stats' }) as ShardStats };
      } catch {
        return s.info();
      }
    }));
    return { shards, heldVms: this.#shards.reduce((n, s) => n + s.held, 0), modules: this.#modules.size };
  }

  /**
   * Stops taking requests, lets those in flight finish (up to `graceMs`), then ends every
   * shard process; resolves when all have exited. Requests still in flight reject with NV_HOST_CLOSED.
   */
  close({ graceMs = 5000 }: { graceMs?: number } = {}): Promise<void> {
    this.#closed ??= this.#close(graceMs);
    return this.#closed;
  }

  async #close(graceMs: number): Promise<void> {
    this.#closing = true;
    for (const s of this.#shards) {
      clearTimeout(s.restartTimer);
      s.restartTimer = undefined;
      const queued = s.queue;
      s.queue = [];
      for (const req of queued) this.#settle(s, req.id, new NanovisorError('NV_HOST_CLOSED', 'the supervisor was closed before the request was sent'));
    }
    if (this.#inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.#inflight]),
        new Promise((resolve) => { timer = setTimeout(resolve, graceMs); }),
      ]);
      clearTimeout(timer);
    }
    await Promise.all(this.#shards.map(async (s) => {
      const child = s.child;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        // An idle shard exits when its channel closes; one still busy past the grace period
        // (a guest without a time limit) is killed.
        const busy = [...s.pending.values()].some((p) => p.sentTo === child);
        if (busy) child.kill('SIGKILL');
        else if (child.connected) child.disconnect();
        const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
        await s.exited;
        clearTimeout(kill);
      }
      s.state = 'closed';
    }));
  }

  #checkOpen(): void {
    if (this.#closing) throw new NanovisorError('NV_HOST_CLOSED', 'the supervisor is closed');
  }

  #checkKey(key: string): void {
    if (!this.#modules.has(key)) throw new NanovisorError('NV_USAGE', `module ${key} is not loaded: call load(bytes) first`);
  }

  /**
   * Sends a request about a wasi server instance to the shard that holds it; `server-start`
   * places a new instance on the least busy shard. A shard that dies takes its instances with
   * it: their requests reject with NV_HOST_SHARD_CRASHED (and `server-ended` with it).
   */
  server(req: ServerShardRequest): Promise<unknown> {
    try {
      this.#checkOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    let shard = this.#servers.get(req.server);
    if (req.op === 'server-start') {
      this.#checkKey(req.key);
      shard = this.#pick();
      this.#servers.set(req.server, shard);
    }
    if (shard === undefined) return Promise.reject(new NanovisorError('NV_INSTANCE_UNAVAILABLE', `no server instance "${req.server}" on the shards`));
    const p = this.#send(shard, { ...req, id: this.#nextId++ } as ShardRequest);
    if (req.op === 'server-ended') void p.catch(() => {}).finally(() => this.#servers.delete(req.server));
    return p;
  }

  /** The shard with the fewest outstanding requests, preferring ready ones; ties rotate. */
  #pick(): Shard {
    const n = this.#shards.length;
    let best: Shard | undefined;
    let bestScore = Infinity;
    for (let i = 0; i < n; i++) {
      const s = this.#shards[(this.#rotate + i) % n]!;
      const score = s.pending.size + (s.ready ? 0 : 1e6);
      if (score < bestScore) {
        best = s;
        bestScore = score;
      }
    }
    this.#rotate = (this.#rotate + 1) % n;
    return best!;
  }

  #loadRequest(key: string, image: HostImage): ShardRequest {
    return { id: this.#nextId++, op: 'load', key, image };
  }

  #send(shard: Shard, req: ShardRequest): Promise<unknown> {
    const p = new Promise<unknown>((resolve, reject) => {
      const pending: Pending = { resolve, reject, sentTo: undefined };
      shard.pending.set(req.id, pending);
      if (shard.ready) this.#write(shard, req, pending);
      else shard.queue.push(req);
    });
    this.#inflight.add(p);
    const done = () => { this.#inflight.delete(p); };
    p.then(done, done);
    return p;
  }

  /**
   * Requests written in the same tick go as one IPC message (one serialisation, one write):
   * per-message cost, not the guests, bounds a shard's rate of small runs.
   */
  #write(shard: Shard, req: ShardRequest, pending: Pending): void {
    pending.sentTo = shard.child;
    shard.outbox.push(req);
    if (!shard.flushScheduled) {
      shard.flushScheduled = true;
      process.nextTick(() => this.#flush(shard));
    }
  }

  #flush(shard: Shard): void {
    shard.flushScheduled = false;
    const batch = shard.outbox;
    shard.outbox = [];
    const child = shard.child;
    // A process that died meanwhile fails these requests through its exit.
    if (batch.length === 0 || child === undefined || !child.connected) return;
    const fail = (ids: readonly ShardRequest[], err: Error) => {
      for (const r of ids) this.#settle(shard, r.id, new NanovisorError('NV_HOST_FAULT', `could not send the request to shard ${shard.index}: ${err.message}`, { cause: err }));
    };
    try {
      child.send(batch, (err) => {
        if (err !== null && child.connected) fail(batch, err);
      });
    } catch {
      // One request the serializer cannot carry: send them one by one so only it fails.
      for (const r of batch) {
        try {
          child.send([r]);
        } catch (e) {
          fail([r], e as Error);
        }
      }
    }
  }

  #settle(shard: Shard, id: number, error: Error | undefined, value?: unknown): void {
    const pending = shard.pending.get(id);
    if (pending === undefined) return;
    shard.pending.delete(id);
    if (error === undefined) pending.resolve(value);
    else pending.reject(error);
  }

  #spawn(shard: Shard): void {
    shard.restartTimer = undefined;
    shard.ready = false;
    shard.forkedAt = performance.now();
    const child = fork(WORKER, [], {
      ...(this.#jail?.forkOptions(this.#execArgv) ?? { execPath: process.execPath, execArgv: this.#execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
      serialization: 'advanced',
    });
    this.#jail?.started(child);
    shard.child = child;
    shard.pid = child.pid;
    shard.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#onExit(shard, child, ...(this.#jail?.exitStatus(code, signal) ?? [code, signal]));
        resolve();
      });
    });
    child.on('message', (msg: ShardReply[] | ShardReady | ShardOutboundCall) => this.#onMessage(shard, child, msg));
    child.on('error', (e: Error) => {
      // A process that could not be spawned never emits 'exit'.
      if (child.pid === undefined) this.#onExit(shard, child, null, null, e);
    });
  }

  #onMessage(shard: Shard, child: ChildProcess, msg: ShardReply[] | ShardReady | ShardOutboundCall): void {
    if (child !== shard.child) return;
    if (!Array.isArray(msg) && msg.op === 'outbound') return this.#onOutbound(shard, child, msg);
    if (!Array.isArray(msg)) {
      shard.ready = true;
      shard.state = 'ready';
      // A jailed shard knows only its pid inside its namespace: keep the host's.
      shard.pid = child.pid ?? msg.pid;
      if (startChannel.hasSubscribers) {
        startChannel.publish({ shard: shard.index, pid: shard.pid, restarts: shard.restarts, startupMs: performance.now() - shard.forkedAt } satisfies ShardStartEvent);
      }
      // The module cache first, then whatever waited for the process.
      for (const [key, m] of this.#modules) this.#send(shard, this.#loadRequest(key, m)).catch(() => {});
      const queued = shard.queue;
      shard.queue = [];
      for (const req of queued) {
        const pending = shard.pending.get(req.id);
        if (pending !== undefined) this.#write(shard, req, pending);
      }
      this.#starting?.(undefined, shard);
      return;
    }
    for (const r of msg) this.#settle(shard, r.id, r.ok ? undefined : fromWire(r.error), r.ok ? r.value : undefined);
  }

  #onExit(shard: Shard, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void {
    if (child !== shard.child) return;
    const pid = shard.pid ?? -1;
    const wasReady = shard.ready;
    shard.child = undefined;
    shard.ready = false;
    shard.outbox = [];
    const heldVms = shard.held;
    shard.held = 0;
    const how = spawnError !== undefined ? `could not start (${spawnError.message})` : signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    let failed = 0;
    for (const [id, p] of [...shard.pending]) {
      if (p.sentTo !== child) continue;
      failed++;
      this.#settle(shard, id, this.#closing
        ? new NanovisorError('NV_HOST_CLOSED', `the supervisor was closed while the request was in flight on shard ${shard.index}`)
        : new NanovisorError('NV_HOST_SHARD_CRASHED', `host shard ${shard.index} (pid ${pid}) ${how} while the request was in flight`, {
          details: { shard: shard.index, pid, code, signal },
        }));
    }
    if (exitChannel.hasSubscribers) {
      exitChannel.publish({ shard: shard.index, pid, code, signal, expected: this.#closing, failedRequests: failed, heldVms } satisfies ShardExitEvent);
    }
    if (this.#closing) {
      shard.state = 'closed';
      return;
    }
    if (!wasReady && this.#starting !== undefined) {
      shard.state = 'closed';
      this.#starting(new NanovisorError('NV_HOST_FAULT', `host shard ${shard.index} ${how} before it was ready`, { details: { shard: shard.index, code, signal } }), shard);
      return;
    }
    if (!wasReady) {
      // It died before it could take any request: what waited for it must not wait forever.
      const queued = shard.queue;
      shard.queue = [];
      for (const req of queued) {
        this.#settle(shard, req.id, new NanovisorError('NV_HOST_SHARD_CRASHED', `host shard ${shard.index} ${how} while restarting`, {
          details: { shard: shard.index, pid, code, signal },
        }));
      }
    }
    // Restart at once after a crash of a process that ran a while; back off on a crash loop.
    const lived = performance.now() - shard.forkedAt;
    if (lived > 30_000) shard.crashesInRow = 0;
    const delay = shard.crashesInRow === 0 ? 0 : Math.min(5000, this.#restartDelayMs * 2 ** (shard.crashesInRow - 1));
    shard.crashesInRow++;
    shard.restarts++;
    shard.state = 'restarting';
    shard.restartTimer = setTimeout(() => this.#spawn(shard), delay);
  }
}
