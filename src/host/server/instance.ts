/**
 * One wasi server app's instance as the daemon keeps it (docs/server-apps.md): a ServerVm on
 * a host (in process or on a shard), started at deploy and ready once it waits in
 * sock_accept; each request one exchange; `sleep` checkpoints it on its host and drops its VM,
 * `wake` restores it there (the gateway's ScaleToZero decides when, and buffers the requests
 * meanwhile); when it ends on its own (exit, trap, a request's time limit, its shard's death)
 * it is restarted with backoff, and its requests get NV_INSTANCE_UNAVAILABLE (503) meanwhile.
 */
import { NanovisorError, isNanovisorError } from '../../shared/errors.ts';
import type { ExchangeOptions, ServerEndInfo, ServerHost, ServerInfo, ServerStartOptions, VmHandle } from '../vm-host.ts';

/** What an instance tells its owner (logs). */
export type InstanceEvent =
  | { kind: 'crash'; end: ServerEndInfo; restarts: number; backoffMs: number }
  | { kind: 'restarted'; restarts: number }
  | { kind: 'restart-failed'; error: string; restarts: number; backoffMs: number };

export interface InstanceOptions {
  host: ServerHost;
  handle: VmHandle;
  /** Prefix of the host-side ids of this instance's VMs (one per start). */
  id: string;
  start: ServerStartOptions;
  /** First restart delay, doubling while restarts keep failing, up to maxBackoffMs. Defaults 250 and 10 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
  onEvent?: (e: InstanceEvent) => void;
}

export class ServerInstance {
  readonly #o: InstanceOptions;
  /** The host-side id of the VM serving now; undefined while it restarts. */
  #vm: string | undefined;
  #restarts = 0;
  #delay: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(o: InstanceOptions, vm: string) {
    this.#o = o;
    this.#vm = vm;
    this.#delay = o.backoffMs ?? 250;
  }

  /** Starts the instance; resolves once it is ready, rejects with why it could not be. */
  static async start(o: InstanceOptions): Promise<ServerInstance> {
    const vm = `${o.id}.0`;
    await o.host.startServer(o.handle, vm, o.start);
    const inst = new ServerInstance(o, vm);
    inst.#watch(vm);
    return inst;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** What the host reports of the live VM (state, memory, checkpoint, counters). */
  async info(): Promise<ServerInfo | undefined> {
    return this.#vm === undefined ? undefined : this.#o.host.serverInfo(this.#vm);
  }

  #current(): string {
    if (this.#vm === undefined) {
      throw new NanovisorError('NV_INSTANCE_UNAVAILABLE', this.#stopped ? 'the server instance was stopped' : `the server instance crashed and is being restarted (restart ${this.#restarts + 1})`);
    }
    return this.#vm;
  }

  /** One request; rejects with NV_INSTANCE_UNAVAILABLE while the instance restarts (or its shard died under it). */
  async exchange(request: Uint8Array, options: ExchangeOptions): Promise<Uint8Array> {
    try {
      return await this.#o.host.exchange(this.#current(), request, options);
    } catch (e) {
      if (isNanovisorError(e) && (e.code === 'NV_HOST_SHARD_CRASHED' || e.code === 'NV_HOST_CLOSED')) {
        throw new NanovisorError('NV_INSTANCE_UNAVAILABLE', `the server instance's host process went away: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  /** Checkpoints the VM and drops it; rejects (it stays awake) when it is not waiting in sock_accept. */
  async sleep(): Promise<void> {
    const r = await this.#o.host.sleepServer(this.#current());
    if (r === false) throw new NanovisorError('NV_INSTANCE_UNAVAILABLE', 'the server is not waiting in sock_accept (busy, or waiting elsewhere): it stays awake');
  }

  /** Restores the VM from its checkpoint (waiting in sock_accept again, as when it slept). */
  async wake(): Promise<void> {
    await this.#o.host.wakeServer(this.#current());
  }

  #watch(vm: string): void {
    this.#o.host.serverEnded(vm).then(
      (end) => this.#ended(vm, end),
      (e: unknown) => this.#ended(vm, { reason: 'trap', message: (e as Error).message }),
    );
  }

  #ended(vm: string, end: ServerEndInfo): void {
    if (this.#stopped || this.#vm !== vm) return;
    this.#vm = undefined;
    this.#o.onEvent?.({ kind: 'crash', end, restarts: this.#restarts, backoffMs: this.#delay });
    this.#schedule();
  }

  #schedule(): void {
    const delay = this.#delay;
    this.#delay = Math.min(delay * 2, this.#o.maxBackoffMs ?? 10_000);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped) return;
      this.#restarts++;
      const vm = `${this.#o.id}.${this.#restarts}`;
      this.#o.host.startServer(this.#o.handle, vm, this.#o.start).then(() => {
        if (this.#stopped) {
          void this.#o.host.stopServer(vm);
          return;
        }
        this.#vm = vm;
        this.#delay = this.#o.backoffMs ?? 250;
        this.#o.onEvent?.({ kind: 'restarted', restarts: this.#restarts });
        this.#watch(vm);
      }, (e: unknown) => {
        if (this.#stopped) return;
        this.#o.onEvent?.({ kind: 'restart-failed', error: (e as Error).message, restarts: this.#restarts, backoffMs: this.#delay });
        this.#schedule();
      });
    }, delay);
  }

  /** Stops the instance for good (a replaced version, shutdown). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const vm = this.#vm;
    this.#vm = undefined;
    if (vm !== undefined) await this.#o.host.stopServer(vm);
  }
}
