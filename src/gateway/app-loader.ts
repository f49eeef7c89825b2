/**
 * From app specs to served apps. The control plane emits specs — plain data naming an image
 * by digest, with routes, limits and env — and never compiles anything; the loader loads each
 * spec's image on the VmHost (compiling in process or on the shards, asynchronously), swaps
 * the new set into the gateway at once, and unloads a replaced version's image only after its
 * requests in flight have finished on it.
 */
import type { OutboundPolicy } from '../shared/outbound.ts';
import type { HostImage, HostRunOptions, VmHandle, VmHost } from '../host/index.ts';
import { NanovisorError } from '../shared/errors.ts';
import type { Upstream } from './proxy.ts';
import type { InstanceView } from './scale-to-zero.ts';
import type { Gateway, GatewayApp, GatewayRoute } from './server.ts';

/** What the gateway serves one app from: its current version, as data. */
export interface AppSpec {
  name: string;
  version: number;
  /** The image, by content address. */
  digest: string;
  routes: GatewayRoute[];
  /** Memory limit of every VM of the app, in bytes. */
  memoryLimitBytes: number;
  /** Run options of every request (args, env with secrets, entry, limits). */
  options: Omit<HostRunOptions, 'stdin'>;
  maxBodyBytes?: number;
  concurrency: number;
  queue: number;
  /** Exclusive volumes its VMs mount (docs/volumes.md): they are admitted one at a time per volume. */
  exclusiveVolumes?: readonly string[];
  /** Why the app cannot serve (its image is missing or corrupt): its routes answer 503 NV_APP_BROKEN. */
  broken?: string;
  /**
   * A long-running server app: one instance, started at apply, every request proxied to it.
   * `port` for the linux driver; `idleTimeoutMs`: put to sleep after that long without a request.
   */
  server?: ServerConfig;
  /** Who its components may call over HTTP (the manifest's `outbound`); absent: no one. */
  outbound?: OutboundPolicy;
}

/** A server app's manifest `server` (src/image/manifest.ts). */
export interface ServerConfig {
  port?: number | undefined;
  ready: { http?: string | undefined; tcp?: true | undefined };
  readyTimeoutMs: number;
  idleTimeoutMs?: number | undefined;
}

/**
 * A running server instance, as the loader holds it: where its requests go (connections to a
 * linux sandbox's port, or exchanges with a wasi instance), how to stop it, and its view.
 */
export type LoadedInstance = Upstream & {
  stop(): Promise<void>;
  /** Its state (awake, asleep, ...), wakes and sleeps, for the API and metrics. */
  readonly view?: InstanceView;
};

export type LoaderLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface AppLoaderOptions {
  host: VmHost;
  gateway: Gateway;
  /** The image of a digest, read from the image store (verified). */
  resolveImage: (digest: string, memoryLimitBytes: number) => HostImage;
  log?: LoaderLog;
  /** Starts a server spec's instance on its loaded handle (resolves once it is ready). */
  startServer?: (spec: AppSpec, handle: VmHandle) => Promise<LoadedInstance>;
}

interface Served {
  spec: AppSpec;
  handle: VmHandle;
  instance?: LoadedInstance;
}

/** The upstream of an instance that could not start: every request gets 503 with why. */
function failedUpstream(error: Error): LoadedInstance {
  return {
    connect: () => Promise.reject(new NanovisorError('NV_INSTANCE_UNAVAILABLE', `the app's server instance could not be started: ${error.message}`)),
    stop: async () => {},
  };
}

const loadKey = (s: AppSpec) => `${s.digest}@m${s.memoryLimitBytes}`;

/** The gateway app of a spec on a loaded handle. */
export function gatewayApp(spec: AppSpec, handle: VmHandle, instance?: LoadedInstance): GatewayApp {
  return {
    ...(instance === undefined ? {} : { upstream: instance.exchange === undefined ? { connect: () => instance.connect!() } : { exchange: (r, o) => instance.exchange!(r, o) } }),
    name: spec.name,
    routes: spec.routes,
    handle,
    options: spec.options,
    ...(spec.maxBodyBytes === undefined ? {} : { maxBodyBytes: spec.maxBodyBytes }),
    concurrency: spec.concurrency,
    queue: spec.queue,
    ...(spec.exclusiveVolumes === undefined ? {} : { exclusiveVolumes: spec.exclusiveVolumes }),
    ...(spec.broken === undefined ? {} : { broken: spec.broken }),
    ...(spec.outbound === undefined ? {} : { outbound: spec.outbound }),
  };
}

/** Stands for the image of a broken app: nothing is loaded, nothing runs on it. */
function brokenHandle(spec: AppSpec): VmHandle {
  return { key: `broken:${spec.name}` };
}

const isBroken = (h: VmHandle): boolean => h.key.startsWith('broken:');

export class AppLoader {
  readonly #o: AppLoaderOptions;
  /** What the gateway serves now, by app name. */
  #served = new Map<string, Served>();
  /** Handles loaded by `check` for a change about to be committed, by load key. */
  readonly #checked = new Map<string, VmHandle>();
  /** Applies run one after the other; the last one wins. */
  #chain: Promise<void> = Promise.resolve();

  constructor(options: AppLoaderOptions) {
    this.#o = options;
  }

  get #log(): LoaderLog {
    return this.#o.log ?? (() => {});
  }

  /** Stops every server instance (at shutdown; the gateway no longer takes requests). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#served.values()].map((s) => s.instance?.stop()));
  }

  /** The server instances served now, by app name. */
  instances(): Record<string, InstanceView> {
    const out: Record<string, InstanceView> = {};
    for (const [name, s] of this.#served) if (s.instance?.view !== undefined) out[name] = s.instance.view;
    return out;
  }

  /** The specs served now. */
  get specs(): AppSpec[] {
    return [...this.#served.values()].map((s) => s.spec);
  }

  /**
   * Loads a spec's image without serving it, so a change is refused before it is committed
   * when its image cannot serve (rejects with the image's error). The next `apply` uses it.
   */
  async check(spec: AppSpec): Promise<void> {
    const key = loadKey(spec);
    if (this.#checked.has(key) || [...this.#served.values()].some((s) => loadKey(s.spec) === key)) return;
    const handle = await this.#o.host.load(this.#o.resolveImage(spec.digest, spec.memoryLimitBytes));
    if (this.#checked.has(key)) await this.#o.host.unload(handle);
    else this.#checked.set(key, handle);
  }

  /** Serves exactly `specs` (resolves once the gateway serves them). */
  apply(specs: readonly AppSpec[]): Promise<void> {
    const next = this.#chain.then(() => this.#apply(specs));
    this.#chain = next.catch(() => {});
    return next;
  }

  async #apply(specs: readonly AppSpec[]): Promise<void> {
    const { host, gateway } = this.#o;
    const previous = this.#served;
    const next = new Map<string, Served>();
    /** Handles this apply took a reference on. */
    const loaded = new Map<string, VmHandle>();
    await Promise.all(specs.map(async (spec) => {
      const key = loadKey(spec);
      const old = previous.get(spec.name);
      if (spec.broken !== undefined) {
        next.set(spec.name, { spec, handle: brokenHandle(spec) });
        return;
      }
      try {
        let handle = loaded.get(key);
        if (handle === undefined) {
          handle = this.#checked.get(key);
          this.#checked.delete(key);
          handle ??= await host.load(this.#o.resolveImage(spec.digest, spec.memoryLimitBytes));
          if (loaded.has(key)) await host.unload(handle);
          else loaded.set(key, handle);
          handle = loaded.get(key)!;
        }
        next.set(spec.name, { spec, handle });
      } catch (e) {
        // One broken app never stops the rest: it keeps its running version if it has one.
        this.#log('error', 'app version cannot be loaded: it is not served', {
          app: spec.name, version: spec.version, digest: spec.digest, error: (e as Error).message, code: (e as { code?: unknown }).code,
        });
        if (old !== undefined && old.spec.broken === undefined && loadKey(old.spec) !== key) {
          const kept = loaded.get(loadKey(old.spec));
          if (kept === undefined) {
            const again = await host.load(this.#o.resolveImage(old.spec.digest, old.spec.memoryLimitBytes)).catch(() => undefined);
            if (again !== undefined) {
              loaded.set(loadKey(old.spec), again);
              next.set(spec.name, old);
            }
          } else next.set(spec.name, old);
        }
        // Nothing to keep: the routes stay and answer 503 with the reason, never a 404.
        if (!next.has(spec.name)) next.set(spec.name, { spec: { ...spec, broken: `version ${spec.version}'s image ${spec.digest.replace(/^sha256:/, '').slice(0, 12)} cannot be loaded (${String((e as { code?: unknown }).code ?? 'error')}; the daemon's log has the details)` }, handle: brokenHandle(spec) });
      }
    }));
    // Server apps: the instance of an unchanged version is kept; a new version's is started now.
    const kept = new Set<LoadedInstance>();
    await Promise.all([...next.values()].map(async (s) => {
      if (s.spec.server === undefined || s.spec.broken !== undefined || this.#o.startServer === undefined) return;
      const old = previous.get(s.spec.name);
      if (old?.instance !== undefined && old.spec.version === s.spec.version && old.spec.digest === s.spec.digest) {
        s.instance = old.instance;
        kept.add(old.instance);
        return;
      }
      try {
        s.instance = await this.#o.startServer(s.spec, loaded.get(loadKey(s.spec)) ?? s.handle);
        this.#log('info', 'server instance ready', { app: s.spec.name, version: s.spec.version });
      } catch (e) {
        this.#log('error', 'server instance could not be started: its requests get 503', { app: s.spec.name, version: s.spec.version, error: (e as Error).message, code: (e as { code?: unknown }).code });
        s.instance = failedUpstream(e as Error);
      }
    }));
    const apps = [...next.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name)).map((s) => gatewayApp(s.spec, s.spec.broken !== undefined ? s.handle : loaded.get(loadKey(s.spec))!, s.instance));
    try {
      gateway.setApps(apps);
    } catch (e) {
      for (const h of loaded.values()) await host.unload(h);
      throw e;
    }
    for (const s of next.values()) if (s.spec.broken === undefined) s.handle = loaded.get(loadKey(s.spec))!;
    this.#served = next;
    // Replaced instances stop once the requests routed to them are done.
    for (const s of previous.values()) {
      const inst = s.instance;
      if (inst !== undefined && !kept.has(inst)) void gateway.drained(s.handle).then(() => inst.stop()).catch(() => {});
    }
    // Every handle of the previous set goes once its requests finish; the new set holds its own references.
    const replaced = new Map<string, VmHandle>();
    for (const s of previous.values()) if (!isBroken(s.handle)) replaced.set(loadKey(s.spec), s.handle);
    for (const [key, h] of replaced) {
      // Still served: the new set's reference keeps it; drop the old one now.
      if (loaded.has(key)) void host.unload(h).catch(() => {});
      else void gateway.drained(h).then(() => host.unload(h)).catch(() => {});
    }
    // Checked images nobody applied (a change refused after its check) are dropped too.
    for (const [key, h] of this.#checked) {
      if (!specs.some((s) => loadKey(s) === key)) {
        this.#checked.delete(key);
        void host.unload(h).catch(() => {});
      }
    }
  }
}
