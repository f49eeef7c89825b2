/**
 * The sharded VmHost: the same interface as InProcessHost, with the VMs in host processes
 * (shards, one per core by default) run by a Supervisor. Images are sent to every shard once
 * and compiled there; each run goes to the least busy shard on the asynchronous path, so
 * guests that wait share their shard. No guest code runs in this process: a spinning or
 * crashing guest costs its shard, never the caller's event loop.
 */
import { NanovisorError } from '../../shared/errors.ts';
import type { RunResult } from '../options.ts';
import type {
  ExchangeOptions, HostImage, HostRunOptions, HostStats, ServerEndInfo, ServerHost, ServerInfo, ServerStartOptions, VmHandle, VmHost,
} from '../vm-host.ts';
import { Supervisor, type SupervisorOptions } from './supervisor.ts';

/**
 * VMs on shards behind the VmHost interface.
 *
 * @example
 * const host = await ShardedHost.start({ shards: 2 });
 * const h = await host.load({ module: readFileSync('hello.wasm') });
 * const r = await host.run(h, { args: ['hello'], timeoutMs: 1000 });
 * await host.close();
 */
export class ShardedHost implements VmHost, ServerHost {
  readonly supervisor: Supervisor;
  readonly #refs = new Map<string, number>();
  #live = 0;
  #runs = 0;

  private constructor(supervisor: Supervisor) {
    this.supervisor = supervisor;
  }

  /** Starts the shard processes; resolves when every one is ready. */
  static async start(options: SupervisorOptions = {}): Promise<ShardedHost> {
    return new ShardedHost(await Supervisor.start(options));
  }

  async load(image: HostImage): Promise<VmHandle> {
    const key = await this.supervisor.loadImage(image);
    this.#refs.set(key, (this.#refs.get(key) ?? 0) + 1);
    return { key };
  }

  run(handle: VmHandle, options: HostRunOptions = {}): Promise<RunResult> {
    if (!this.#refs.has(handle.key)) {
      return Promise.reject(new NanovisorError('NV_HOST_FAULT', `image ${handle.key} is not loaded on this host (load it first)`));
    }
    this.#live++;
    const { outbound, ...rest } = options;
    const marker = outbound === undefined ? {} : { outbound: { mayConnect: outbound.mayConnect } };
    return this.supervisor.run(handle.key, { ...rest, ...marker, async: true }, outbound).finally(() => {
      this.#live--;
      this.#runs++;
    });
  }

  async startServer(handle: VmHandle, id: string, options: ServerStartOptions): Promise<void> {
    if (!this.#refs.has(handle.key)) throw new NanovisorError('NV_HOST_FAULT', `image ${handle.key} is not loaded on this host (load it first)`);
    await this.supervisor.server({ op: 'server-start', key: handle.key, server: id, options });
  }

  async exchange(id: string, request: Uint8Array, options: ExchangeOptions): Promise<Uint8Array> {
    return await this.supervisor.server({ op: 'server-exchange', server: id, request, options }) as Uint8Array;
  }

  async sleepServer(id: string): Promise<ServerInfo | false> {
    return await this.supervisor.server({ op: 'server-sleep', server: id }) as ServerInfo | false;
  }

  async wakeServer(id: string): Promise<boolean> {
    return await this.supervisor.server({ op: 'server-wake', server: id }) as boolean;
  }

  async serverEnded(id: string): Promise<ServerEndInfo> {
    return await this.supervisor.server({ op: 'server-ended', server: id }) as ServerEndInfo;
  }

  async stopServer(id: string): Promise<void> {
    await this.supervisor.server({ op: 'server-stop', server: id }).catch(() => {});
  }

  async serverInfo(id: string): Promise<ServerInfo | undefined> {
    return (await this.supervisor.server({ op: 'server-info', server: id }).catch(() => null) as ServerInfo | null) ?? undefined;
  }

  async unload(handle: VmHandle): Promise<void> {
    const n = this.#refs.get(handle.key);
    if (n === undefined) return;
    if (n > 1) {
      this.#refs.set(handle.key, n - 1);
      return;
    }
    this.#refs.delete(handle.key);
    this.supervisor.unload(handle.key);
  }

  async stats(): Promise<HostStats> {
    const s = await this.supervisor.stats();
    let poolIdle = 0;
    let processes = 0;
    for (const shard of s.shards) {
      if (shard.process === undefined) continue;
      processes++;
      poolIdle += shard.process.poolIdle;
    }
    return { liveVms: this.#live, poolIdle, loaded: this.#refs.size, runs: this.#runs, processes };
  }

  close(options?: { graceMs?: number }): Promise<void> {
    return this.supervisor.close(options);
  }
}
