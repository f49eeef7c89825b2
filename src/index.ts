/**
 * nanovisor as a library: build sealed images and boot Nano-VMs from TypeScript.
 *
 * Secure defaults everywhere: a VM gets no environment, no directories, no network and an
 * empty stdin unless the caller grants them.
 *
 * @example
 * import { readFileSync } from 'node:fs';
 * import { runWasm } from 'nanovisor';
 * const r = await runWasm(readFileSync('hello.wasm'), { args: ['hello'], timeoutMs: 1000 });
 * process.stdout.write(r.stdout);
 */
import { NanoVm, type RunResult, type VmOptions } from './host/index.ts';
import { ImageStore, loadRunnable, loadRunnableAsync, storeHome } from './image/index.ts';

export {
  DEFAULT_MAX_OUTPUT, DEFAULT_MEMORY_LIMIT, DEFAULT_WRITABLE_LAYER, EXIT_OUTPUT_LIMIT, EXIT_TIMEOUT, EXIT_TRAP, LIMIT_MAXIMA,
  InProcessHost, NanoVm, PreparedCache, ShardedHost, extractSnapshot, imageKey, prepareModule, prepareSnapshot, runWasm, runWasmAsync,
} from './host/index.ts';
export type {
  HostImage, HostRunOptions, HostStats, LimitName, Mount, Outcome, OutputTarget, PrepareOptions, PreparedCacheOptions, PreparedModule, RunResult, Snapshot, VmHandle, VmHost, VmOptions,
} from './host/index.ts';
export {
  DEFAULT_LIMITS, ImageStore, buildImage, checkModule, loadRunnable, parseManifest, prepareImage, storeHome,
} from './image/index.ts';
export type { BuildOptions, BuildResult, ImageFile, ImageSummary, LoadedImage, Manifest, RunnableImage } from './image/index.ts';
export { Supervisor, JAIL_LAYERS } from './host/shards/index.ts';
export type {
  HoldResult, JailLayer, JailLayerName, JailOptions, ShardExitEvent, ShardInfo, ShardRunOptions, ShardStartEvent, ShardState, ShardStats, SupervisorOptions, SupervisorStats,
} from './host/shards/index.ts';
export { Admission, AppLoader, createGateway, defaultAdmission, defaultApiAdmission, gatewayApp } from './gateway/index.ts';
export type { AdmissionLimits, AdmissionOptions, AppLoaderOptions, AppSpec, Gateway, GatewayApp, GatewayOptions, GatewayRoute, RequestRecord } from './gateway/index.ts';
export { ERROR_CODES, NanovisorError, isNanovisorError } from './shared/errors.ts';
export type { ErrorClass, ErrorCode } from './shared/errors.ts';

export interface RunImageOptions extends VmOptions {
  /** Image store home (default: $NANOVISOR_HOME, else ~/.nanovisor). */
  store?: string | ImageStore;
  /** Run on the asynchronous (JSPI) path. */
  async?: boolean;
  /** Arguments appended after the image's argv (its name and the manifest's `args`), as `nanovisor run IMAGE ARGS...` does. */
  extraArgs?: readonly string[];
}

/**
 * Boots a stored image by tag or digest and runs it once. The image's manifest supplies argv,
 * env, limits and files; `options` add to or override them. `args` means what it means for
 * `runWasm`: the whole argv, argv[0] included, replacing the image's; `extraArgs` are
 * appended after the image's argv instead. `env` is merged over the manifest's.
 *
 * @example
 * const r = await runImage('hello-c', { env: { LANG: 'C' }, extraArgs: ['--verbose'] });
 */
export async function runImage(ref: string, options: RunImageOptions = {}): Promise<RunResult> {
  const { store, async: useAsync, extraArgs, ...vm } = options;
  const images = store instanceof ImageStore ? store : ImageStore.openHome(storeHome(store));
  const image = await loadRunnableAsync(images, ref);
  const prepared = vm.memoryLimitBytes === undefined ? image.prepared : image.withMemoryLimit(vm.memoryLimitBytes);
  const merged: VmOptions = {
    ...image.options,
    ...vm,
    args: [...(vm.args ?? image.options.args ?? []), ...(extraArgs ?? [])],
    env: { ...image.options.env, ...vm.env },
  };
  return useAsync === true ? NanoVm.createAsync(prepared, merged).runAsync() : NanoVm.create(prepared, merged).run();
}
