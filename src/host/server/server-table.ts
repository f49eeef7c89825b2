/**
 * The wasi server instances of one host process, by the caller's id: what InProcessHost
 * (and through it every shard) answers the ServerHost calls with.
 */
import { NanovisorError } from '../../shared/errors.ts';
import type { ImageTree } from '../../kernel/vfs/index.ts';
import { MAX_PAGES, WASM_PAGE } from '../memory-limit.ts';
import type { PreparedModule } from '../prepare.ts';
import type { ExchangeOptions, ServerEndInfo, ServerInfo, ServerStartOptions } from '../vm-host.ts';
import { ASYNCIFY_EXPORTS } from './asyncify.ts';
import { ServerVm, type ServerModule } from './server-vm.ts';

/** What a server VM boots from: a prepared snapshot module carrying the asyncify exports. */
export function serverModule(p: PreparedModule): ServerModule {
  const names = WebAssembly.Module.exports(p.module).map((e) => e.name);
  if (p.snapshot === undefined || !Object.values(ASYNCIFY_EXPORTS).every((n) => names.includes(n))) {
    throw new NanovisorError('NV_MODULE_INVALID', 'this image was not built as a wasi server (its manifest needs "server"; build it again with this nanovisor)');
  }
  const limitPages = Math.min(MAX_PAGES, Math.floor(p.memoryLimitBytes / WASM_PAGE));
  return { module: p.module, snapshot: p.snapshot, maximumPages: Math.min(p.snapshot.maximumPages ?? MAX_PAGES, limitPages), interruptible: p.interruptible === true };
}

export class ServerTable {
  readonly #vms = new Map<string, ServerVm>();

  get size(): number {
    return this.#vms.size;
  }

  async start(p: PreparedModule, tree: ImageTree | undefined, id: string, o: ServerStartOptions): Promise<void> {
    if (this.#vms.has(id)) throw new NanovisorError('NV_HOST_FAULT', `a server instance "${id}" exists already`);
    const vm = new ServerVm(serverModule(p), {
      args: o.args, readyTimeoutMs: o.readyTimeoutMs,
      ...(o.env === undefined ? {} : { env: o.env }),
      ...(o.mounts === undefined ? {} : { mounts: o.mounts }),
      ...(o.writableLayerBytes === undefined ? {} : { writableLayerBytes: o.writableLayerBytes }),
      ...(tree === undefined ? {} : { image: tree }),
      // A server's output is its log: the host process's stderr (a shard's goes to the daemon's log).
      onOutput: (_stream, text) => void process.stderr.write(text),
    });
    this.#vms.set(id, vm);
    void vm.ended.then(() => this.#vms.delete(id));
    await vm.start();
  }

  #get(id: string): ServerVm {
    const vm = this.#vms.get(id);
    if (vm === undefined) throw new NanovisorError('NV_INSTANCE_UNAVAILABLE', `no server instance "${id}" on this host (it ended)`);
    return vm;
  }

  exchange(id: string, request: Uint8Array, o: ExchangeOptions): Promise<Uint8Array> {
    try {
      return this.#get(id).exchange(request, o);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  sleep(id: string): ServerInfo | false {
    const vm = this.#get(id);
    return vm.sleep() ? info(vm) : false;
  }

  wake(id: string): boolean {
    return this.#get(id).restore();
  }

  ended(id: string): Promise<ServerEndInfo> {
    const vm = this.#vms.get(id);
    return vm === undefined ? Promise.resolve({ reason: 'stopped', message: 'the server instance is gone' }) : vm.ended;
  }

  stop(id: string): void {
    this.#vms.get(id)?.stop();
  }

  info(id: string): ServerInfo | undefined {
    const vm = this.#vms.get(id);
    return vm === undefined ? undefined : info(vm);
  }

  stopAll(): void {
    for (const vm of this.#vms.values()) vm.stop();
  }
}

function info(vm: ServerVm): ServerInfo {
  return { state: vm.state, memoryBytes: vm.memoryBytes, checkpointBytes: vm.counters.checkpointBytes, wakes: vm.counters.wakes, sleeps: vm.counters.sleeps, exchanges: vm.counters.exchanges };
}
