/**
 * From a stored image to what the host boots: the prepared module (with its snapshot and
 * instance pool), the image's file tree, and the VM options its manifest asks for.
 * Prepared images are cached by digest, so an image is compiled once per process.
 */
// Not host/index.ts, which also loads the shards (start-up of `run`, test/startup.test.ts).
import type { VmOptions } from '../host/options.ts';
import { prepareModule, prepareSnapshot, type PreparedModule } from '../host/prepare.ts';
import type { PreparedCache } from '../host/prepared-cache.ts';
import { isComponent, loadComponentTools } from '../host/component/index.ts';
import { decodeSnapshot } from '../host/snapshot/format.ts';
import { buildImageTree, type ImageTree } from '../kernel/vfs/index.ts';
import type { Manifest } from './manifest.ts';
import type { ImageStore, LoadedImage } from './store.ts';

export interface RunnableImage {
  readonly digest: string;
  readonly manifest: Manifest;
  readonly prepared: PreparedModule;
  readonly tree: ImageTree;
  /** argv, env, limits, entry and files as the manifest gives them; callers add to them. */
  readonly options: VmOptions;
  /** The same image prepared under another memory limit (e.g. `run --memory`). */
  withMemoryLimit(memoryLimitBytes: number): PreparedModule;
}

/** Where prepared modules are kept across processes (src/host/prepared-cache.ts), if anywhere. */
export interface RunnableOptions {
  cache?: PreparedCache;
}

function prepareLoaded(loaded: LoadedImage, memoryLimitBytes: number, o: RunnableOptions): PreparedModule {
  const cached = o.cache === undefined ? {} : { cache: o.cache, identity: loaded.moduleIdentity };
  return loaded.snapshot === undefined
    ? prepareModule(loaded.module, memoryLimitBytes, cached)
    : prepareSnapshot(loaded.module, decodeSnapshot(loaded.snapshot), memoryLimitBytes, undefined, cached);
}

const cache = new Map<string, RunnableImage>();
/** Prepared images kept per process; the oldest is dropped first. */
const CACHE_LIMIT = 64;

export function prepareImage(loaded: LoadedImage, o: RunnableOptions = {}): RunnableImage {
  const hit = cache.get(loaded.digest);
  if (hit !== undefined) return hit;
  const m = loaded.manifest;
  const prepared = prepareLoaded(loaded, m.limits.memoryBytes, o);
  const tree = buildImageTree(loaded.files);
  const runnable: RunnableImage = {
    digest: loaded.digest,
    manifest: m,
    prepared,
    tree,
    options: {
      args: [m.name, ...m.args],
      env: { ...m.env },
      image: tree,
      entry: m.entry,
      memoryLimitBytes: m.limits.memoryBytes,
      timeoutMs: m.limits.timeoutMs,
      maxOutputBytes: m.limits.maxOutputBytes,
      writableLayerBytes: m.limits.writableLayerBytes,
    },
    withMemoryLimit: (limit) => (limit === m.limits.memoryBytes ? prepared : prepareLoaded(loaded, limit, o)),
  };
  cache.set(loaded.digest, runnable);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return runnable;
}

/** Loads (digest-checked) and prepares an image from the store. */
export function loadRunnable(store: ImageStore, ref: string, o: RunnableOptions = {}): RunnableImage {
  const { digest } = store.resolve(ref);
  return cache.get(digest) ?? prepareImage(store.load(digest), o);
}

/**
 * `loadRunnable` for callers that may meet a WASI 0.2 component: loads the component tools
 * (src/host/component) first when the image holds one.
 */
export async function loadRunnableAsync(store: ImageStore, ref: string, o: RunnableOptions = {}): Promise<RunnableImage> {
  const { digest } = store.resolve(ref);
  const hit = cache.get(digest);
  if (hit !== undefined) return hit;
  const loaded = store.load(digest);
  if (isComponent(loaded.module)) await loadComponentTools();
  return prepareImage(loaded, o);
}
