/**
 * The host: boots and runs Nano-VMs. Public surface of src/host.
 */
import type { RunResult, VmOptions } from './options.ts';
import { prepareModule, type PreparedModule } from './prepare.ts';
import { NanoVm } from './vm.ts';

export {
  DEFAULT_MAX_OUTPUT, DEFAULT_MEMORY_LIMIT, DEFAULT_WRITABLE_LAYER, EXIT_OUTPUT_LIMIT, EXIT_TIMEOUT, EXIT_TRAP, LIMIT_MAXIMA,
} from './options.ts';
export type { LimitName, Mount, Outcome, OutputTarget, RunResult, VmOptions } from './options.ts';
export { enableEagerCompilation, prepareModule, prepareSnapshot } from './prepare.ts';
export type { PrepareOptions, PreparedModule } from './prepare.ts';
export { PreparedCache } from './prepared-cache.ts';
export type { PreparedCacheOptions } from './prepared-cache.ts';
export { NanoVm } from './vm.ts';
export { extractSnapshot, SnapshotUnsupported } from './snapshot/transform.ts';
export type { Snapshot } from './snapshot/types.ts';

/**
 * Boots a fresh Nano-VM from module bytes (or a prepared module), runs it to the end and
 * destroys it. Secure defaults: no env, no dirs, no network, empty stdin (see VmOptions).
 *
 * @example
 * const r = await runWasm(readFileSync('hello.wasm'));
 * process.stdout.write(r.stdout);
 */
export async function runWasm(module: Uint8Array | PreparedModule, options: VmOptions = {}): Promise<RunResult> {
  const prepared = module instanceof Uint8Array ? prepareModule(module, options.memoryLimitBytes) : module;
  return NanoVm.create(prepared, options).run();
}

/**
 * Like runWasm, on the asynchronous path: a guest blocked in poll_oneoff is suspended (JSPI)
 * and other VMs run on this thread meanwhile.
 *
 * @example
 * const results = await Promise.all(jobs.map((j) => runWasmAsync(prepared, j)));
 */
export async function runWasmAsync(module: Uint8Array | PreparedModule, options: VmOptions = {}): Promise<RunResult> {
  const prepared = module instanceof Uint8Array ? prepareModule(module, options.memoryLimitBytes) : module;
  return NanoVm.createAsync(prepared, options).runAsync();
}
export { ShardedHost, Supervisor } from './shards/index.ts';
export { InProcessHost } from './in-process-host.ts';
export { imageKey, isServerHost } from './vm-host.ts';
export { ServerInstance } from './server/index.ts';
export type { InstanceEvent } from './server/index.ts';
export type { ExchangeOptions, HostImage, HostRunOptions, HostStats, ServerEndInfo, ServerHost, ServerInfo, ServerStartOptions, VmHandle, VmHost } from './vm-host.ts';
