/**
 * One VmHost over every driver: images load on the host of their driver (`image.driver`:
 * `wasi` on the WebAssembly host, in process or sharded; `linux` on the gVisor host), and
 * each run goes to the host its handle came from. The gateway and the app loader hold this
 * one host, so they never learn which driver runs an app.
 */
import type { RunResult } from '../host/options.ts';
import type { HostImage, HostRunOptions, HostStats, VmHandle, VmHost } from '../host/vm-host.ts';

interface Routed extends VmHandle {
  readonly host: VmHost;
  readonly inner: VmHandle;
}

export class DriverHost implements VmHost {
  readonly wasi: VmHost;
  readonly linux: VmHost;
  readonly #handles = new WeakMap<VmHandle, Routed>();

  constructor(hosts: { wasi: VmHost; linux: VmHost }) {
    this.wasi = hosts.wasi;
    this.linux = hosts.linux;
  }

  async load(image: HostImage): Promise<VmHandle> {
    const host = image.driver === 'linux' ? this.linux : this.wasi;
    const inner = await host.load(image);
    const routed: Routed = { key: inner.key, host, inner };
    this.#handles.set(routed, routed);
    return routed;
  }

  /** The driver host and its own handle behind a handle of this host. */
  resolve(handle: VmHandle): { host: VmHost; handle: VmHandle } {
    const r = this.#handles.get(handle);
    if (r === undefined) return { host: this.wasi, handle };
    return { host: r.host, handle: r.inner };
  }

  run(handle: VmHandle, options?: HostRunOptions): Promise<RunResult> {
    const r = this.resolve(handle);
    return r.host.run(r.handle, options);
  }

  unload(handle: VmHandle): Promise<void> {
    const r = this.resolve(handle);
    return r.host.unload(r.handle);
  }

  async stats(): Promise<HostStats> {
    const [a, b] = await Promise.all([this.wasi.stats(), this.linux.stats()]);
    return {
      liveVms: a.liveVms + b.liveVms, poolIdle: a.poolIdle + b.poolIdle, loaded: a.loaded + b.loaded, runs: a.runs + b.runs, processes: a.processes + b.processes,
    };
  }

  async close(options?: { graceMs?: number }): Promise<void> {
    await Promise.all([this.wasi.close(options), this.linux.close(options)]);
  }
}
