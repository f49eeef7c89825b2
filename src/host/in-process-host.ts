/**
 * The in-process VmHost: images compiled once on this thread, every run a fresh Nano-VM on
 * the asynchronous (JSPI) path, so a guest that waits (a clock in poll_oneoff) is suspended
 * while the others run. The shard processes run one of these each; an embedder that wants
 * no extra processes uses it directly.
 */
import { buildImageTree, type ImageTree } from '../kernel/vfs/index.ts';
import { NanovisorError } from '../shared/errors.ts';
import { prepareModule, prepareSnapshot, type PreparedModule } from './prepare.ts';
import { componentToolsLoaded, isComponent, loadComponentTools } from './component/index.ts';
import { decodeSnapshot } from './snapshot/format.ts';
import { ShippedEntry } from './prepared-cache.ts';
import type { RunResult, VmOptions } from './options.ts';
import {
  imageKey, type ExchangeOptions, type HostImage, type HostRunOptions, type HostStats, type ServerEndInfo, type ServerHost, type ServerInfo,
  type ServerStartOptions, type VmHandle, type VmHost,
} from './vm-host.ts';
import { ServerTable } from './server/server-table.ts';
import { NanoVm } from './vm.ts';
import { watchdog } from './interrupt/watchdog.ts';

interface Loaded {
  readonly prepared: PreparedModule;
  readonly tree: ImageTree | undefined;
  refs: number;
}

/** Compiles an image into what NanoVm boots. */
function prepareImage(image: HostImage): { prepared: PreparedModule; tree: ImageTree | undefined } {
  const shipped = image.prepared === undefined ? {} : { shipped: new ShippedEntry(image.prepared.entry), identity: image.prepared.identity };
  const prepared = image.snapshot === undefined
    ? prepareModule(image.module, image.memoryLimitBytes, shipped)
    : prepareSnapshot(image.module, decodeSnapshot(image.snapshot), image.memoryLimitBytes);
  const tree = image.files === undefined || image.files.length === 0 ? undefined : buildImageTree(image.files);
  return { prepared, tree };
}

/**
 * VMs on this thread behind the VmHost interface.
 *
 * @example
 * const host = new InProcessHost();
 * const h = await host.load({ module: readFileSync('hello.wasm') });
 * const r = await host.run(h, { args: ['hello'], timeoutMs: 1000 });
 * await host.close();
 */
export class InProcessHost implements VmHost, ServerHost {
  readonly #loaded = new Map<string, Loaded>();
  readonly #inflight = new Set<Promise<RunResult>>();
  #live = 0;
  #runs = 0;
  #closed = false;
  #adopted = 0;
  readonly #servers = new ServerTable();

  load(image: HostImage): Promise<VmHandle> {
    if (isComponent(image.module) && !componentToolsLoaded()) {
      // A WASI 0.2 component needs the transpiler, loaded once per process on first use.
      return loadComponentTools().then(() => this.loadSync(image));
    }
    try {
      return Promise.resolve(this.loadSync(image));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** `load` without the promise (a shard answers its supervisor from it). */
  loadSync(image: HostImage): VmHandle {
    this.#checkOpen();
    const key = imageKey(image);
    const hit = this.#loaded.get(key);
    if (hit !== undefined) {
      hit.refs++;
      return { key };
    }
    const { prepared, tree } = prepareImage(image);
    this.#watch(prepared);
    this.#loaded.set(key, { prepared, tree, refs: 1 });
    return { key };
  }

  /** A handle for a module prepared by the caller (embedding, tests), with an optional file tree. */
  adopt(prepared: PreparedModule, tree?: ImageTree): VmHandle {
    this.#checkOpen();
    const key = `adopted:${++this.#adopted}`;
    this.#watch(prepared);
    this.#loaded.set(key, { prepared, tree, refs: 1 });
    return { key };
  }

  /** Starts the interrupt watchdog with the first instrumented module, before its first time-limited run. */
  #watch(prepared: PreparedModule): void {
    if (prepared.interruptible === true) watchdog().start();
  }

  /** The compiled module behind a handle (for hosts that hold VMs without running them). */
  prepared(handle: VmHandle): PreparedModule {
    return this.#get(handle).prepared;
  }

  run(handle: VmHandle, options: HostRunOptions = {}): Promise<RunResult> {
    let vm: NanoVm;
    try {
      this.#checkOpen();
      const loaded = this.#get(handle);
      const vmOptions: VmOptions = {
        ...options,
        ...(loaded.tree === undefined ? {} : { image: loaded.tree }),
        stdout: 'capture',
        stderr: 'capture',
      };
      vm = NanoVm.createAsync(loaded.prepared, vmOptions);
    } catch (e) {
      return Promise.reject(e);
    }
    this.#live++;
    const p = vm.runAsync().finally(() => {
      this.#live--;
      this.#runs++;
      this.#inflight.delete(p);
    });
    this.#inflight.add(p);
    return p;
  }

  async startServer(handle: VmHandle, id: string, options: ServerStartOptions): Promise<void> {
    this.#checkOpen();
    const loaded = this.#get(handle);
    await this.#servers.start(loaded.prepared, loaded.tree, id, options);
  }

  exchange(id: string, request: Uint8Array, options: ExchangeOptions): Promise<Uint8Array> {
    return this.#servers.exchange(id, request, options);
  }

  async sleepServer(id: string): Promise<ServerInfo | false> {
    return this.#servers.sleep(id);
  }

  async wakeServer(id: string): Promise<boolean> {
    return this.#servers.wake(id);
  }

  serverEnded(id: string): Promise<ServerEndInfo> {
    return this.#servers.ended(id);
  }

  async stopServer(id: string): Promise<void> {
    this.#servers.stop(id);
  }

  async serverInfo(id: string): Promise<ServerInfo | undefined> {
    return this.#servers.info(id);
  }

  unload(handle: VmHandle): Promise<void> {
    const loaded = this.#loaded.get(handle.key);
    if (loaded !== undefined && --loaded.refs <= 0) this.#loaded.delete(handle.key);
    return Promise.resolve();
  }

  /** Synchronous stats (the shard reports them; the in-process daemon reads them per scrape). */
  statsSync(): HostStats {
    let poolIdle = 0;
    for (const l of this.#loaded.values()) poolIdle += l.prepared.pool?.stats.idle ?? 0;
    return { liveVms: this.#live + this.#servers.size, poolIdle, loaded: this.#loaded.size, runs: this.#runs, processes: 1 };
  }

  stats(): Promise<HostStats> {
    return Promise.resolve(this.statsSync());
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#servers.stopAll();
    await Promise.allSettled([...this.#inflight]);
    this.#loaded.clear();
  }

  #checkOpen(): void {
    if (this.#closed) throw new NanovisorError('NV_HOST_CLOSED', 'the host is closed');
  }

  #get(handle: VmHandle): Loaded {
    const loaded = this.#loaded.get(handle.key);
    if (loaded === undefined) throw new NanovisorError('NV_HOST_FAULT', `image ${handle.key} is not loaded on this host (load it first)`);
    return loaded;
  }
}
