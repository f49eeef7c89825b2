/**
 * A shard: one host process started by the Supervisor (child_process.fork, IPC with the V8
 * serializer). It runs an InProcessHost: images are sent once (`load`, by key) and compiled
 * here, every `run` boots a fresh VM of one (asynchronous runs share the thread while their
 * guests wait); `hold`/`release` boot VMs and keep them alive without running them (for
 * density); `stats` reports on the process. It exits when its parent disconnects, so a shard
 * never outlives its supervisor.
 */
import { componentToolsLoaded, isComponent, loadComponentTools } from '../component/index.ts';
import { closeSync } from 'node:fs';
import { setPriority } from 'node:os';
import { InProcessHost } from '../in-process-host.ts';
import { NanoVm, type RunResult, type VmOptions } from '../index.ts';
import { NanovisorError, isNanovisorError, type ErrorCode } from '../../shared/errors.ts';
import type { HostImage, VmHandle } from '../vm-host.ts';
import type {
  HoldReply, ReleaseReply, ShardOutboundCall, ShardOutboundReply, ShardReady, ShardReply, ShardRequest, ShardRunOptions, ShardStats, WireError, WireRunResult,
} from './protocol.ts';
import type { OutboundPort, OutboundReply } from '../../shared/outbound-wire.ts';
import { CLOSE_FDS } from './jail.ts';

if (process.send === undefined) {
  throw new Error('src/host/shards/worker.ts is a shard process: start it through the Supervisor');
}

// Descriptors the daemon inherited without close-on-exec and the jail passed on (./jail.ts).
for (const fd of (process.env[CLOSE_FDS] ?? '').split(',').filter(Boolean)) {
  try {
    closeSync(Number(fd));
  } catch {
    // already closed
  }
}

/**
 * Guests run a notch below the primary (the control plane, the API, the gateway's HTTP
 * work), so /healthz and the API stay prompt when every shard's guests are busy.
 */
const SHARD_NICENESS = 5;
try {
  setPriority(SHARD_NICENESS);
} catch {
  // Not allowed here: run at the primary's priority.
}

const host = new InProcessHost();
/** Handles by the supervisor's key (one reference each: the supervisor counts the rest). */
const handles = new Map<string, VmHandle>();
/** Keys whose load failed: runs by them get the load's error. */
const failedLoads = new Map<string, WireError>();
const held = new Map<string, NanoVm[]>();
let heldCount = 0;
let syncRuns = 0;

function toWire(e: unknown): WireError {
  if (isNanovisorError(e)) {
    const details = Object.keys(e.details).length === 0 ? undefined : e.details;
    return { code: e.code, message: e.message, ...(details === undefined ? {} : { details }) };
  }
  const name = typeof e === 'object' && e !== null && 'name' in e ? String((e as Error).name) : 'Error';
  const message = typeof e === 'object' && e !== null && 'message' in e ? String((e as Error).message) : String(e);
  return { code: 'NV_HOST_FAULT', message: `${name}: ${message}`, details: { name } };
}

function toWireResult(r: RunResult): WireRunResult {
  const { error, ...rest } = r;
  return error === undefined ? rest : { ...rest, error: toWire(error) };
}

function handleOf(key: string): VmHandle {
  const h = handles.get(key);
  if (h !== undefined) return h;
  const failed = failedLoads.get(key);
  if (failed !== undefined) throw new NanovisorError(failed.code as ErrorCode, failed.message, failed.details === undefined ? {} : { details: failed.details });
  throw new NanovisorError('NV_HOST_FAULT', `image ${key} is not loaded in this shard`);
}

function vmOptions(o: ShardRunOptions): VmOptions {
  // The synchronous path cannot wait for an outgoing request: it has no port (refused).
  const { async: _async, outbound: _outbound, ...rest } = o;
  return rest;
}

function load(key: string, image: HostImage): null {
  if (handles.has(key)) return null;
  try {
    handles.set(key, host.loadSync(image));
    failedLoads.delete(key);
  } catch (e) {
    failedLoads.set(key, toWire(e));
    throw e;
  }
  return null;
}

function unload(key: string): null {
  const h = handles.get(key);
  handles.delete(key);
  failedLoads.delete(key);
  if (h !== undefined) void host.unload(h);
  return null;
}

function hold(key: string, count: number, options: ShardRunOptions): HoldReply {
  const p = host.prepared(handleOf(key));
  const list = held.get(key) ?? [];
  held.set(key, list);
  const opts = vmOptions(options);
  let n = 0;
  let failure: WireError | undefined;
  try {
    for (; n < count; n++) list.push(NanoVm.create(p, opts));
  } catch (e) {
    failure = toWire(e);
  }
  heldCount += n;
  return { held: n, total: heldCount, ...(failure === undefined ? {} : { failure }) };
}

function release(key: string | undefined): ReleaseReply {
  let released = 0;
  for (const k of key === undefined ? [...held.keys()] : [key]) {
    const list = held.get(k);
    if (list === undefined) continue;
    // A held VM never ran: shut its kernel (open host directories) and drop the instance.
    for (const vm of list) vm.kernel.shutdown();
    released += list.length;
    held.delete(k);
  }
  heldCount -= released;
  return { released, total: heldCount };
}

function stats(): ShardStats {
  const m = process.memoryUsage();
  const h = host.statsSync();
  return {
    pid: process.pid,
    liveVms: heldCount + h.liveVms,
    poolIdle: h.poolIdle,
    heldVms: heldCount,
    modules: h.loaded,
    runs: h.runs + syncRuns,
    rss: m.rss,
    uptimeMs: Math.round(process.uptime() * 1000),
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

/** Answers one request: a value, or a promise of one for asynchronous runs. */
function handle(req: ShardRequest): unknown {
  switch (req.op) {
    case 'load':
      // A WASI 0.2 component needs the transpiler, loaded once per shard on first use.
      if (isComponent(req.image.module) && !componentToolsLoaded()) return loadComponentTools().then(() => load(req.key, req.image));
      return load(req.key, req.image);
    case 'unload':
      return unload(req.key);
    case 'run': {
      const h = handleOf(req.key);
      if (req.options.async === true) {
        const { async: _a, stdout: _o, stderr: _e, outbound, ...opts } = req.options;
        return host.run(h, { ...opts, ...(outbound === undefined ? {} : { outbound: outboundPort(req.id, outbound.mayConnect) }) }).then(toWireResult);
      }
      const r = NanoVm.create(host.prepared(h), vmOptions(req.options)).run();
      syncRuns++;
      return toWireResult(r);
    }
    case 'hold':
      return hold(req.key, req.count, req.options);
    case 'release':
      return release(req.key);
    case 'stats':
      return stats();
    case 'server-start':
      return host.startServer(handleOf(req.key), req.server, req.options).then(() => null);
    case 'server-exchange':
      return host.exchange(req.server, req.request, req.options);
    case 'server-sleep':
      return host.sleepServer(req.server);
    case 'server-wake':
      return host.wakeServer(req.server);
    case 'server-ended':
      return host.serverEnded(req.server);
    case 'server-stop':
      return host.stopServer(req.server).then(() => null);
    case 'server-info':
      return host.serverInfo(req.server).then((i) => i ?? null);
  }
}

/** Replies of one tick go back as one message; a long batch of runs flushes every 64. */
let outbox: ShardReply[] = [];
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  const batch = outbox;
  outbox = [];
  if (batch.length === 0) return;
  try {
    process.send!(batch);
  } catch {
    // A value the serializer cannot carry (e.g. odd error details): only that reply says so.
    for (const r of batch) {
      try {
        process.send!([r]);
      } catch (e) {
        process.send!([{ id: r.id, ok: false, error: { code: 'NV_HOST_FAULT', message: `shard could not send its reply: ${String((e as Error).message)}` } }]);
      }
    }
  }
}

function reply(r: ShardReply): void {
  outbox.push(r);
  if (outbox.length >= 64) flush();
  else if (!flushScheduled) {
    flushScheduled = true;
    process.nextTick(flush);
  }
}

function handleOne(msg: ShardRequest): void {
  let value: unknown;
  try {
    value = handle(msg);
  } catch (e) {
    reply({ id: msg.id, ok: false, error: toWire(e) });
    return;
  }
  if (value instanceof Promise) {
    value.then(
      (v: unknown) => reply({ id: msg.id, ok: true, value: v }),
      (e: unknown) => reply({ id: msg.id, ok: false, error: toWire(e) }),
    );
  } else {
    reply({ id: msg.id, ok: true, value });
  }
}

/** Outgoing requests of this shard's runs waiting for the supervisor's answer, by call id. */
const outboundCalls = new Map<number, (reply: OutboundReply) => void>();
let nextOutboundCall = 1;

/** A run's outbound port: a shard has no network; the supervisor's switch makes each call. */
function outboundPort(run: number, mayConnect: boolean): OutboundPort {
  return {
    mayConnect,
    call: (request) => new Promise((resolve) => {
      const call = nextOutboundCall++;
      outboundCalls.set(call, resolve);
      process.send!({ op: 'outbound', run, call, request } satisfies ShardOutboundCall);
    }),
  };
}

process.on('message', (batch: ShardRequest[] | ShardOutboundReply) => {
  if (!Array.isArray(batch)) {
    const settle = outboundCalls.get(batch.call);
    outboundCalls.delete(batch.call);
    settle?.(batch.reply);
    return;
  }
  for (const msg of batch) handleOne(msg);
});

// The supervisor is gone (closed, or died): a shard never outlives it.
process.on('disconnect', () => process.exit(0));

process.send({ op: 'ready', pid: process.pid } satisfies ShardReady);
