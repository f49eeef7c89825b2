/**
 * The messages between the shard supervisor and its host processes (shards). They travel
 * over the Node IPC channel with `serialization: 'advanced'` (the V8 serializer), so byte
 * arrays cross as bytes, not as JSON. Every request carries an id; the shard answers each
 * one exactly once, in the order it received them.
 */
import type { RunResult, VmOptions } from '../options.ts';
import type { ExchangeOptions, HostImage, ServerStartOptions } from '../vm-host.ts';
import type { OutboundReply, OutboundRequest } from '../../shared/outbound-wire.ts';

/**
 * What a run on a shard may be given: the VmOptions that can cross a process boundary.
 * Output is captured (or written to the shard's inherited stdout/stderr); listeners, an
 * image tree and custom sinks are objects of this process and cannot be sent.
 */
export interface ShardRunOptions extends Omit<VmOptions, 'stdin' | 'stdout' | 'stderr' | 'listeners' | 'image' | 'outbound'> {
  /**
   * The run has an outbound port in the supervisor (the daemon's HTTP switch): the shard's VM
   * sends each outgoing request there (`ShardOutboundCall`) and gets the answer back.
   */
  outbound?: { mayConnect: boolean };
  stdin?: Uint8Array | string;
  stdout?: 'capture' | 'inherit';
  stderr?: 'capture' | 'inherit';
  /**
   * Run on the asynchronous (JSPI) path, so guests blocked in poll_oneoff share the shard
   * (what the sharded VmHost always does). Default: the synchronous path.
   */
  async?: boolean;
}

/** A NanovisorError (or any error) as plain data. */
export interface WireError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type WireRunResult = Omit<RunResult, 'error'> & { error?: WireError };

export type ShardRequest =
  | { id: number; op: 'load'; key: string; image: HostImage }
  | { id: number; op: 'unload'; key: string }
  | { id: number; op: 'run'; key: string; options: ShardRunOptions }
  | { id: number; op: 'hold'; key: string; count: number; options: ShardRunOptions }
  | { id: number; op: 'release'; key?: string }
  | { id: number; op: 'stats' }
  | (ServerShardRequest & { id: number });

/** Requests about a wasi server instance (by the caller's id, `server`), sent to the shard holding it. */
export type ServerShardRequest =
  | { op: 'server-start'; key: string; server: string; options: ServerStartOptions }
  | { op: 'server-exchange'; server: string; request: Uint8Array; options: ExchangeOptions }
  | { op: 'server-sleep'; server: string }
  | { op: 'server-wake'; server: string }
  | { op: 'server-ended'; server: string }
  | { op: 'server-stop'; server: string }
  | { op: 'server-info'; server: string };

export type ShardOp = ShardRequest['op'];

/** What a shard reports about itself. */
export interface ShardStats {
  pid: number;
  /** VMs alive now: held ones plus asynchronous runs in progress. */
  liveVms: number;
  /** Idle pooled instances over the shard's loaded images. */
  poolIdle: number;
  heldVms: number;
  modules: number;
  /** Runs completed since the process started. */
  runs: number;
  rss: number;
  /** How long the process has run (since its last start, so since its last restart). */
  uptimeMs: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface HoldReply {
  /** VMs this request booted and now holds. */
  held: number;
  /** VMs the shard holds in all after this request. */
  total: number;
  /** Why the shard stopped before `count` (e.g. the engine refused another memory). */
  failure?: WireError;
}

export interface ReleaseReply {
  released: number;
  total: number;
}

export type ShardReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WireError };

/**
 * A shard's outgoing HTTP request for run `run` (the id of its run request): a shard has no
 * network, the supervisor hands it to the run's port and answers `ShardOutboundReply`.
 */
export interface ShardOutboundCall {
  op: 'outbound';
  run: number;
  call: number;
  request: OutboundRequest;
}

export interface ShardOutboundReply {
  op: 'outbound-reply';
  call: number;
  reply: OutboundReply;
}

/** The first message of a shard, once it listens for requests. */
export interface ShardReady {
  op: 'ready';
  pid: number;
}
