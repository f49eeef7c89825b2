/**
 * `nanovisor build`: turns an app directory (its `nanovisor.json`, module and files) or a bare
 * `.wasm` file into a sealed image in the store. Everything is checked here, once: the
 * manifest's schema, the module against the kernel's ABI, and that every file comes from
 * inside the app directory. Inputs are read in a fixed order and normalised (sorted, modes
 * reduced to 644/755), so the same inputs always give the same digest.
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { NanovisorError } from '../shared/errors.ts';
import { manifestTag, parseManifest, parseManifestText, type Manifest } from './manifest.ts';
import { checkModule } from './module-check.ts';
import { checkInitialMemory } from '../host/memory-limit.ts';
import { encodeSnapshot } from '../host/snapshot/format.ts';
import { preinitialize } from '../host/snapshot/preinit.ts';
import { asyncifyServer, loadServerTools, serverToolsLoaded } from '../host/server/asyncify.ts';
import { SnapshotUnsupported, extractSnapshot, type SnapshotModule } from '../host/snapshot/transform.ts';
import { normalizeTag } from './oci.ts';
import { componentToolsLoaded, isComponent, loadComponentTools, prepareComponent } from '../host/component/index.ts';
import { BINARY_PATH, collectRootfs } from './rootfs.ts';
import { compileScript } from './script/index.ts';
import { writeTar } from './tar.ts';
import type { ImageStore } from './store.ts';
import { identityOf, type PreparedCache } from '../host/prepared-cache.ts';
import type { ImageFile } from './types.ts';

export const MANIFEST_FILE = 'nanovisor.json';

export interface BuildOptions {
  /** The app directory, or a `.wasm` file (its manifest is synthesised). */
  dir: string;
  store: ImageStore;
  /** Another manifest file than `<dir>/nanovisor.json`. */
  manifestPath?: string;
  /** Tag to set instead of the manifest's `name:version` (`NAME[:TAG]`). */
  tag?: string;
  /**
   * Where compiled JavaScript apps are cached by source hash (`buildImageAsync` only);
   * without it every script app is compiled afresh.
   */
  scriptCache?: string;
}

export interface AsyncBuildResult extends BuildResult {
  /** For a script app: whether its component came from the cache. */
  scriptCached?: boolean;
}

export interface BuildResult {
  digest: string;
  /** The manifest's name. */
  name: string;
  /** The tag set, `name:tag`. */
  tag: string;
  /** Bytes of the image (manifest, config and layers). */
  size: number;
}

function filesInvalid(message: string, path: string): never {
  throw new NanovisorError('NV_IMAGE_FILES_INVALID', message, { details: { path } });
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function realInside(appDir: string, hostPath: string, what: string): string {
  let real: string;
  try {
    real = realpathSync(hostPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NanovisorError('NV_FILE_NOT_FOUND', `${what}: no such file or directory: ${hostPath}`, { details: { path: hostPath } });
    }
    throw e;
  }
  if (!inside(appDir, real)) filesInvalid(`${what}: ${hostPath} leads outside the app directory ${appDir}`, hostPath);
  return real;
}

function fileMode(mode: number): number {
  return (mode & 0o111) !== 0 ? 0o755 : 0o644;
}

/** A synthesised name for a bare module: its file name, lower-cased, reduced to [a-z0-9-_.]. */
export function nameFromFile(file: string): string {
  const stem = basename(file).replace(/\.wasm$/i, '').toLowerCase().replace(/[^a-z0-9\-_.]+/g, '-').replace(/^[^a-z0-9]+/, '');
  return stem === '' ? 'app' : stem;
}

/**
 * Collects the manifest's `files` from the app directory as image files. A `from` or a
 * symlink that leads outside the directory, and anything but files, directories and
 * symlinks, is NV_IMAGE_FILES_INVALID. A symlink whose relative target stays inside the
 * copied tree is kept as a symlink; one pointing elsewhere in the app directory is copied
 * as the file it points to.
 */
export function collectFiles(appDir: string, files: Manifest['files']): ImageFile[] {
  const root = realpathSync(appDir);
  const out = new Map<string, ImageFile>();
  const add = (f: ImageFile, source: string): void => {
    const prev = out.get(f.path);
    if (prev !== undefined && !(prev.kind === 'dir' && f.kind === 'dir')) {
      filesInvalid(`files: ${f.path} is given twice (again by ${source})`, f.path);
    }
    out.set(f.path, f);
  };
  const addFile = (hostPath: string, guestPath: string, what: string): void => {
    const real = realInside(root, hostPath, what);
    const st = statSync(real);
    if (!st.isFile()) filesInvalid(`${what}: ${hostPath} is not a regular file`, hostPath);
    add({ path: guestPath, kind: 'file', mode: fileMode(st.mode), data: new Uint8Array(readFileSync(real)) }, what);
  };
  const walk = (treeRoot: string, hostDir: string, guestDir: string, what: string): void => {
    if (guestDir !== '/') add({ path: guestDir, kind: 'dir', mode: 0o755 }, what);
    for (const name of readdirSync(hostDir).sort()) {
      const host = join(hostDir, name);
      const guest = guestDir === '/' ? `/${name}` : `${guestDir}/${name}`;
      const st = lstatSync(host);
      if (st.isDirectory()) walk(treeRoot, host, guest, what);
      else if (st.isFile()) add({ path: guest, kind: 'file', mode: fileMode(st.mode), data: new Uint8Array(readFileSync(host)) }, what);
      else if (st.isSymbolicLink()) {
        const target = readlinkSync(host);
        if (!isAbsolute(target) && inside(treeRoot, resolve(hostDir, target))) {
          add({ path: guest, kind: 'symlink', mode: 0o777, target: target.split(sep).join('/') }, what);
        } else {
          addFile(host, guest, `${what}: symlink ${relative(root, host)} -> ${target}`);
        }
      } else {
        filesInvalid(`${what}: ${host} is not a regular file, directory or symlink`, host);
      }
    }
  };
  files.forEach((f, i) => {
    const what = `files[${i}].from "${f.from}"`;
    const host = resolve(root, f.from);
    if (!inside(root, host)) filesInvalid(`${what} is outside the app directory`, host);
    const real = realInside(root, host, what);
    const to = posix.normalize(f.to).replace(/(.)\/$/, '$1');
    if (statSync(real).isDirectory()) walk(real, real, to, what);
    else addFile(host, to, what);
  });
  return [...out.values()];
}

function readManifest(path: string): Manifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NanovisorError('NV_FILE_NOT_FOUND', `no manifest at ${path} (write a ${MANIFEST_FILE}, or build a .wasm file directly)`);
    }
    throw e;
  }
  return parseManifestText(text, path);
}

/**
 * Moves the module's memory initialisation into a snapshot layer (and, when the manifest asks
 * for it, runs the app's initialisation now). A module the transform cannot take faithfully
 * is stored as it is and boots through the ordinary path.
 */
function sealBoot(module: Uint8Array, manifest: Manifest): { module: Uint8Array; snapshot?: Uint8Array } {
  let sealed: SnapshotModule;
  try {
    sealed = extractSnapshot(module);
  } catch (e) {
    if (e instanceof SnapshotUnsupported) {
      // A server sleeps as a checkpoint of its memory and globals: the snapshot form is what exposes them.
      if (manifest.server !== undefined) throw new NanovisorError('NV_MANIFEST_INVALID', `server: this module cannot be checkpointed (${e.message})`);
      if (manifest.snapshot?.initialize === true) {
        throw new NanovisorError('NV_MANIFEST_INVALID', `snapshot.initialize: this module cannot be snapshotted (${e.message})`);
      }
      return { module };
    }
    throw e;
  }
  if (manifest.snapshot?.initialize === true) sealed = preinitialize(sealed, { memoryLimitBytes: manifest.limits.memoryBytes });
  return { module: sealed.module, snapshot: encodeSnapshot(sealed.snapshot) };
}

/**
 * Builds an image from an app directory or a `.wasm` file and tags it.
 *
 * @example
 * const store = ImageStore.openHome(storeHome(undefined));
 * const { digest, tag } = buildImage({ dir: 'examples/hello-c', store });
 * // tag === 'hello-c:latest'
 */
export function buildImage(options: BuildOptions): BuildResult {
  return buildImageOf(options, undefined);
}

/** The app's directory and manifest, from a directory, a `.wasm` file or `manifestPath`. */
function appOf(options: BuildOptions): { root: string; manifest: Manifest; tag: string } {
  const target = resolve(options.dir);
  let st;
  try {
    st = statSync(target);
  } catch {
    throw new NanovisorError('NV_FILE_NOT_FOUND', `no such file or directory: ${options.dir}`);
  }
  let appDir: string;
  let manifest: Manifest;
  if (st.isFile() && options.manifestPath === undefined) {
    appDir = dirname(target);
    manifest = parseManifest({ name: nameFromFile(target), module: basename(target) }, target);
  } else {
    appDir = st.isFile() ? dirname(target) : target;
    manifest = readManifest(resolve(options.manifestPath ?? join(appDir, MANIFEST_FILE)));
  }
  const tag = normalizeTag(options.tag ?? manifestTag(manifest));
  return { root: realpathSync(appDir), manifest, tag };
}

/** Preparing a component into the store's prepared cache, keyed as its module layer will be (the SHA-256 of its bytes). */
function keptIn(store: ImageStore, component: Uint8Array): { store?: PreparedCache; identity?: string } {
  return store.preparedCache === undefined ? {} : { store: store.preparedCache, identity: identityOf(component) };
}

/** The build, with a script app's compiled component when there is one. */
function buildImageOf(options: BuildOptions, compiled: Uint8Array | undefined): BuildResult {
  const { root, manifest, tag } = appOf(options);
  if (manifest.driver === 'linux') return buildLinux(root, manifest, options.store, tag);
  if (manifest.script !== undefined) {
    if (compiled === undefined) throw new ScriptNeedsCompiling();
    // Every check of `run` and the host, once: its world, its imports, its memory limit;
    // what it derives is kept for the hosts that load the image (the store's prepared cache).
    prepareComponent(compiled, manifest.limits.memoryBytes, keptIn(options.store, compiled));
    const files = collectFiles(root, manifest.files);
    const { build: _build, ...kept } = manifest;
    const put = options.store.put({ manifest: kept, files, module: compiled }, [tag]);
    return { digest: put.digest, name: manifest.name, tag, size: put.size };
  }
  if (manifest.module === undefined) throw new NanovisorError('NV_MANIFEST_INVALID', 'module: is required');
  const modulePath = resolve(root, manifest.module);
  if (!inside(root, modulePath)) filesInvalid(`module "${manifest.module}" is outside the app directory`, modulePath);
  const moduleReal = realInside(root, modulePath, `module "${manifest.module}"`);
  const module = new Uint8Array(readFileSync(moduleReal));
  if (isComponent(module)) {
    if (!componentToolsLoaded()) throw new ComponentToolsNeeded();
    // Every check of `run` and the host, once: its world, its imports, its memory limit.
    // With a prepared cache beside the store, the whole preparation (instrumentation too)
    // is done here and kept, so the hosts that load the image only compile; without one,
    // the check skips the instrumentation (seconds for a JS engine) nobody would keep.
    prepareComponent(module, manifest.limits.memoryBytes, options.store.preparedCache === undefined ? { pool: false } : keptIn(options.store, module));
    const files = collectFiles(root, manifest.files);
    const put = options.store.put({ manifest, files, module }, [tag]);
    return { digest: put.digest, name: manifest.name, tag, size: put.size };
  }
  const info = checkModule(module, { entry: manifest.entry });
  // Before the snapshot transform: a few bytes of module can declare gigabytes of memory.
  checkInitialMemory(info.memory.minPages, manifest.limits.memoryBytes, 'limits.memoryBytes');
  const files = collectFiles(root, manifest.files);
  let runnable: Uint8Array = module;
  if (manifest.server !== undefined) {
    // A server's sock_accept must be able to unwind its stack (it sleeps there): docs/server-apps.md.
    if (!serverToolsLoaded()) throw new ServerToolsNeeded();
    if (manifest.snapshot?.initialize === true) throw new NanovisorError('NV_MANIFEST_INVALID', 'snapshot.initialize: not for a server (its own start-up runs once at deploy and is checkpointed then)');
    runnable = asyncifyServer(module);
  }
  const sealed = sealBoot(runnable, manifest);
  // The build step is how the module was made here, not part of what the image runs.
  const { build: _build, ...kept } = manifest;
  const put = options.store.put({ manifest: kept, files, ...sealed }, [tag]);
  return { digest: put.digest, name: manifest.name, tag, size: put.size };
}

/** Thrown by buildImage for a component while the component tools are not loaded yet. */
class ComponentToolsNeeded extends Error {}

/** Thrown by buildImage for a wasi server while Binaryen (its sleep rewrite) is not loaded yet. */
class ServerToolsNeeded extends Error {}

/** Whether a build failed only because Binaryen is not loaded yet (`loadServerTools`, then build again). */
export function needsServerTools(e: unknown): boolean {
  return e instanceof ServerToolsNeeded;
}

/** Thrown by buildImage (sync) for a script app, which only buildImageAsync compiles. */
class ScriptNeedsCompiling extends NanovisorError {
  constructor() {
    super('NV_SCRIPT_NOT_COMPILED', 'a JavaScript or TypeScript app ("script" in nanovisor.json) is compiled by the CLI: nanovisor build DIR, or nanovisor deploy DIR (which builds it here and uploads the image)');
  }
}

/**
 * `buildImage` for callers that may build a WASI 0.2 component: loads the component tools
 * (src/host/component) when the module turns out to be one, and compiles a script app
 * (src/image/script: esbuild, then componentize-js, cached in `scriptCache`).
 */
export async function buildImageAsync(options: BuildOptions): Promise<AsyncBuildResult> {
  const { root, manifest } = appOf(options);
  if (manifest.driver !== 'linux' && manifest.script !== undefined) {
    const scriptPath = resolve(root, manifest.script);
    if (!inside(root, scriptPath)) filesInvalid(`script "${manifest.script}" is outside the app directory`, scriptPath);
    realInside(root, scriptPath, `script "${manifest.script}"`);
    const compiled = await compileScript(root, manifest.script, options.scriptCache);
    await loadComponentTools();
    return { ...buildImageOf(options, compiled.component), scriptCached: compiled.cached };
  }
  try {
    return buildImage(options);
  } catch (e) {
    if (!(e instanceof ComponentToolsNeeded) && !(e instanceof ServerToolsNeeded)) throw e;
    if (e instanceof ServerToolsNeeded) await loadServerTools();
    else await loadComponentTools();
  }
  return buildImageAsync(options);
}

/**
 * A linux image: the rootfs (and the manifest's `files` on top) sealed as one tar layer in
 * the place a module takes. A `rootfs.binary` app without `args` runs `/app`.
 */
function buildLinux(root: string, manifest: Manifest, store: ImageStore, tag: string): BuildResult {
  const tree = new Map<string, ImageFile>();
  for (const f of collectRootfs(root, manifest)) tree.set(f.path, f);
  for (const f of collectFiles(root, manifest.files)) {
    if (f.kind === 'dir' && tree.get(f.path)?.kind === 'dir') continue;
    tree.set(f.path, f);
  }
  // Parent directories of everything, so the tar unpacks on its own.
  for (const path of [...tree.keys()]) {
    const parts = path.split('/').slice(1, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!tree.has(dir)) tree.set(dir, { path: dir, kind: 'dir', mode: 0o755 });
    }
  }
  const entries = [...tree.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f) => ({
    path: f.path.slice(1), kind: f.kind, mode: f.mode,
    ...(f.kind === 'file' ? { data: f.data ?? new Uint8Array(0) } : {}),
    ...(f.kind === 'symlink' && f.target !== undefined ? { target: f.target } : {}),
  }));
  const sealed: Manifest = manifest.args.length === 0 && manifest.rootfs?.binary !== undefined ? { ...manifest, args: [BINARY_PATH] } : manifest;
  if (sealed.args.length === 0 || !sealed.args[0]!.startsWith('/')) {
    throw new NanovisorError('NV_MANIFEST_INVALID', 'args: a linux app names its program as args[0], an absolute path in its rootfs (e.g. ["/bin/busybox", "httpd", "-f"])');
  }
  const put = store.put({ manifest: sealed, module: writeTar(entries) }, [tag]);
  return { digest: put.digest, name: manifest.name, tag, size: put.size };
}
