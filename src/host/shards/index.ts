/**
 * Hosts as shards: a supervisor that runs several host processes and spreads Nano-VMs
 * across them, jailed (./jail.ts, docs/security.md), and the sharded VmHost over it. Public surface of src/host/shards; see
 * docs/shards.md.
 */
export { ShardedHost } from './sharded-host.ts';
export { Supervisor } from './supervisor.ts';
export type {
  HoldResult, ShardExitEvent, ShardInfo, ShardStartEvent, ShardState, SupervisorOptions, SupervisorStats,
} from './supervisor.ts';
export type { ShardRunOptions, ShardStats } from './protocol.ts';
export { JAIL_LAYERS, jailedPid } from './jail.ts';
export type { JailLayer, JailLayerName, JailOptions } from './jail.ts';
