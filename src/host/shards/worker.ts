/**
 * A shard: one host process started by the Supervisor (child_process.fork, IPC with the V8
 * serializer). It keeps compiled modules by key (the bytes are sent once, `load`), runs VMs
 * (`run`), boots VMs and keeps them alive without running them (`hold`/`release`, for
 * density), and reports on itself (`stats`). It exits when its parent disconnects, so a
 * shard never outlives its supervisor.
 */
import { NanoVm, prepareModule, type PreparedModule, type RunResult, type VmOptions } from '../index.ts';
import { NanovisorError, isNanovisorError, type ErrorCode } from '../../shared/errors.ts';
import type {
  HoldReply, ReleaseReply, ShardReady, ShardReply, ShardRequest, ShardRunOptions, ShardStats, WireError, WireRunResult,
} from './protocol.ts';

if (process.send === undefined) {
  throw new Error('src/host/shards/worker.ts is a shard process: start it through the Supervisor');
}

const modules = new Map<string, PreparedModule>();
/** Keys whose load failed: runs by them get the load's error. */
const failedLoads = new Map<string, WireError>();
const held = new Map<string, NanoVm[]>();
let heldCount = 0;
let asyncRunning = 0;
let runs = 0;

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

function prepared(key: string): PreparedModule {
  const p = modules.get(key);
  if (p !== undefined) return p;
  const failed = failedLoads.get(key);
  if (failed !== undefined) throw new NanovisorError(failed.code as ErrorCode, failed.message, failed.details === undefined ? {} : { details: failed.details });
  throw new NanovisorError('NV_HOST_FAULT', `module ${key} is not loaded in this shard`);
}

function vmOptions(o: ShardRunOptions): VmOptions {
  const { async: _async, ...rest } = o;
  return rest;
}

function load(key: string, bytes: Uint8Array, memoryLimitBytes: number | undefined): null {
  if (modules.has(key)) return null;
  try {
    modules.set(key, prepareModule(bytes, memoryLimitBytes));
    failedLoads.delete(key);
  } catch (e) {
    failedLoads.set(key, toWire(e));
    throw e;
  }
  return null;
}

function hold(key: string, count: number, options: ShardRunOptions): HoldReply {
  const p = prepared(key);
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
  return {
    pid: process.pid,
    liveVms: heldCount + asyncRunning,
    heldVms: heldCount,
    modules: modules.size,
    runs,
    rss: m.rss,
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
      return load(req.key, req.bytes, req.memoryLimitBytes);
    case 'unload':
      modules.delete(req.key);
      failedLoads.delete(req.key);
      return null;
    case 'run': {
      const p = prepared(req.key);
      const opts = vmOptions(req.options);
      if (req.options.async === true) {
        asyncRunning++;
        return NanoVm.createAsync(p, opts).runAsync().then(
          (r) => { runs++; return toWireResult(r); },
        ).finally(() => { asyncRunning--; });
      }
      const r = NanoVm.create(p, opts).run();
      runs++;
      return toWireResult(r);
    }
    case 'hold':
      return hold(req.key, req.count, req.options);
    case 'release':
      return release(req.key);
    case 'stats':
      return stats();
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

process.on('message', (batch: ShardRequest[]) => {
  for (const msg of batch) handleOne(msg);
});

// The supervisor is gone (closed, or died): a shard never outlives it.
process.on('disconnect', () => process.exit(0));

process.send({ op: 'ready', pid: process.pid } satisfies ShardReady);
