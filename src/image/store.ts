/**
 * The content-addressed image store: an OCI image layout on disk (`oci-layout`, `index.json`,
 * `blobs/sha256/<hex>`). Blobs are immutable and written crash-safely; `index.json` holds the
 * tags. Every blob is verified against its digest each time it is read, and `import` verifies
 * a whole export before anything enters the store. All methods are synchronous; one lock file
 * serialises writers across processes. See docs/images.md.
 *
 * Tags under `nanovisor.app.` are reserved for the control plane's version pins: no upload,
 * build, import or `image tag` may write one, and no removal may drop one or delete the
 * blobs it holds, unless the caller passes `reserved: true` (only the control plane does).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { NanovisorError } from '../shared/errors.ts';
import { TEMP_PREFIX, withLock, writeFileAtomic } from './atomic-fs.ts';
import { parseManifest, type Manifest } from './manifest.ts';
import { checkModule, type ModuleInfo } from './module-check.ts';
import { componentToolsLoaded, isComponent, prepareComponent } from '../host/component/index.ts';
import { PreparedCache } from '../host/prepared-cache.ts';
import {
  ANNOTATION, MEDIA_TYPE, OCI_LAYOUT, OCI_LAYOUT_FILE, canonicalJson, descriptorOf, digestHex, emptyIndex,
  isDigest, normalizeTag, parseIndex, parseOciManifest, parseTagRef, sha256,
  type Descriptor, type ImageLayers, type OciIndex, type OciManifest,
} from './oci.ts';
import { readTar, writeTar, type TarEntry } from './tar.ts';
import type { ImageFile } from './types.ts';

/** What goes into an image. Callers validate it first (buildImage does). */
export interface ImageContent {
  manifest: Manifest;
  /** The module; for a linux image (`manifest.driver: 'linux'`), its rootfs as a tar. */
  module: Uint8Array;
  files?: readonly ImageFile[];
  /** The boot snapshot layer (src/host/snapshot/format.ts), when the module was transformed. */
  snapshot?: Uint8Array;
}

export interface PutResult {
  digest: string;
  /** Bytes of the manifest, config and layers together. */
  size: number;
  /** The tags set, as `name:tag`. */
  tags: string[];
}

export interface ImageSummary {
  digest: string;
  /** The manifest's `name`. */
  name: string;
  /** Every tag of this image, as `name:tag`, sorted. */
  tags: string[];
  size: number;
  /** ISO 8601: when the image first entered this store. */
  created: string;
}

export interface LayerInfo {
  role: 'module' | 'rootfs' | 'files' | 'snapshot';
  mediaType: string;
  digest: string;
  size: number;
}

export interface ImageDetails extends ImageSummary {
  manifest: Manifest;
  oci: OciManifest;
  config: Descriptor;
  layers: LayerInfo[];
  /** Imports, exports, memory of the module (wasi images). */
  module?: ModuleInfo;
  /** Entries of the root filesystem (linux images). */
  rootfsEntries?: number;
  /** Number of entries of the files layer. */
  fileCount: number;
}

/** What a runner needs to boot an image. */
export interface LoadedImage {
  digest: string;
  manifest: Manifest;
  module: Uint8Array;
  files: ImageFile[];
  /** Raw bytes of the boot snapshot layer, if the image has one. */
  snapshot?: Uint8Array;
  /** The verified digests of the module layer and the snapshot layer (`sha256:…+sha256:…`): what the module is, for the prepared-module cache. */
  moduleIdentity: string;
}

export interface RemoveResult {
  /** Tags dropped. */
  untagged: string[];
  /** Blobs deleted because nothing referred to them any more. */
  deleted: string[];
}

/**
 * The directory holding the store: `--store`, else `$NANOVISOR_HOME`, else `~/.nanovisor`.
 * The OCI layout itself is its `images/` subdirectory.
 */
export function storeHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (flag !== undefined && flag !== '') return resolvePath(cwd, flag);
  const home = env['NANOVISOR_HOME'];
  if (home !== undefined && home !== '') return resolvePath(cwd, home);
  return join(homedir(), '.nanovisor');
}

/**
 * Tag prefix reserved for the control plane's version pins, `nanovisor.app.<app>:v<N>`
 * (src/control/control.ts `pinTag`).
 */
export const RESERVED_TAG_PREFIX = 'nanovisor.app.';

/** True for a tag (`name:tag`) under the reserved prefix. */
export function isReservedTag(tag: string): boolean {
  return tag.startsWith(RESERVED_TAG_PREFIX);
}

/** The app and version a pin tag stands for (`nanovisor.app.hello:v2` -> hello, 2). */
function pinOwner(tag: string): { app: string; version: number | undefined } {
  const rest = tag.slice(RESERVED_TAG_PREFIX.length);
  const colon = rest.lastIndexOf(':');
  const m = /^v(\d+)$/.exec(rest.slice(colon + 1));
  return { app: colon < 0 ? rest : rest.slice(0, colon), version: m === null ? undefined : Number(m[1]) };
}

function refuseReserved(tags: readonly string[], what: string): void {
  const bad = tags.find(isReservedTag);
  if (bad === undefined) return;
  throw new NanovisorError('NV_IMAGE_TAG_RESERVED', `${what}: the tag "${bad}" is under the prefix "${RESERVED_TAG_PREFIX}", which is reserved for the version pins of nanovisor serve; choose another name`, {
    details: { tag: bad, prefix: RESERVED_TAG_PREFIX },
  });
}

function refusePinned(digest: string, pins: readonly string[]): void {
  if (pins.length === 0) return;
  const owners = pins.map(pinOwner);
  const list = owners.map((o) => `app "${o.app}" version ${o.version ?? '?'}`).join(', ');
  throw new NanovisorError('NV_IMAGE_PINNED', `image ${digestHex(digest).slice(0, 12)} is deployed as ${list} (pinned by ${pins.join(', ')}); its blobs are kept while a version runs on them: delete the app first (nanovisor rm APP), or remove only your own tags`, {
    details: { digest, pins, apps: owners },
  });
}

function io(message: string, cause: unknown): never {
  throw new NanovisorError('NV_STORE_IO', `${message}: ${(cause as Error).message}`, { cause });
}

function mismatch(digest: string, message: string): never {
  throw new NanovisorError('NV_IMAGE_DIGEST_MISMATCH', message, { details: { blob: digest } });
}

function toTarEntries(files: readonly ImageFile[]): TarEntry[] {
  return files.map((f) => {
    const path = f.path.replace(/^\/+/, '');
    const e: TarEntry = { path, kind: f.kind, mode: f.mode };
    if (f.kind === 'file') e.data = f.data ?? new Uint8Array(0);
    if (f.kind === 'symlink' && f.target !== undefined) e.target = f.target;
    return e;
  });
}

function toImageFiles(entries: readonly TarEntry[]): ImageFile[] {
  return entries.map((e) => {
    const f: ImageFile = { path: `/${e.path}`, kind: e.kind, mode: e.mode };
    if (e.data !== undefined) f.data = e.data;
    if (e.target !== undefined) f.target = e.target;
    return f;
  });
}

function layerRole(mediaType: string): LayerInfo['role'] {
  return mediaType === MEDIA_TYPE.rootfs ? 'rootfs' : mediaType === MEDIA_TYPE.module ? 'module' : mediaType === MEDIA_TYPE.files ? 'files' : 'snapshot';
}

/** The parts of an image, read and verified. */
interface ImageParts {
  digest: string;
  ociBytes: Uint8Array;
  oci: OciManifest;
  layers: ImageLayers;
  configBytes: Uint8Array;
  manifest: Manifest;
}

/**
 * An image store rooted at an OCI layout directory (created when missing).
 *
 * @example
 * const store = ImageStore.open(join(storeHome(undefined), 'images'));
 * const { digest } = store.put({ manifest, module }, ['hello:latest']);
 * const image = store.load('hello'); // { digest, manifest, module, files }
 */
export class ImageStore {
  readonly root: string;
  readonly #blobs: string;

  /**
   * The prepared-module cache beside a home's store (HOME/cache/prepared), when it was opened
   * by its home (none with NANOVISOR_PREPARED_CACHE=off): a component built or imported
   * here leaves its derivation there (its transpile and instrumentation), so a host that
   * loads the image only compiles.
   */
  preparedCache: PreparedCache | undefined;

  private constructor(root: string) {
    this.root = root;
    this.#blobs = join(root, 'blobs', 'sha256');
  }

  /** Opens (creating if needed) the OCI layout at `root`. */
  static open(root: string): ImageStore {
    const store = new ImageStore(resolvePath(root));
    try {
      mkdirSync(store.#blobs, { recursive: true });
      if (!existsSync(join(store.root, OCI_LAYOUT_FILE))) writeFileAtomic(join(store.root, OCI_LAYOUT_FILE), canonicalJson(OCI_LAYOUT));
      if (!existsSync(join(store.root, 'index.json'))) writeFileAtomic(join(store.root, 'index.json'), canonicalJson(emptyIndex()));
    } catch (e) {
      if (e instanceof NanovisorError) throw e;
      io(`cannot create the image store at ${root}`, e);
    }
    return store;
  }

  /** Opens the store of a nanovisor home directory (its `images/` subdirectory). */
  static openHome(home: string): ImageStore {
    const store = ImageStore.open(join(home, 'images'));
    const setting = process.env['NANOVISOR_PREPARED_CACHE'];
    if (setting !== 'off' && setting !== '0') store.preparedCache = new PreparedCache(join(home, 'cache', 'prepared'));
    return store;
  }

  // ---- blobs ----------------------------------------------------------------------------

  #blobPath(digest: string): string {
    return join(this.#blobs, digestHex(digest));
  }

  /** Reads a blob and checks its digest (and size, when the descriptor is known). */
  readBlob(digest: string, expectedSize?: number): Uint8Array {
    if (!isDigest(digest)) throw new NanovisorError('NV_IMAGE_MALFORMED', `not a sha256 digest: ${digest}`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(this.#blobPath(digest)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NanovisorError('NV_IMAGE_MALFORMED', `blob ${digest} is missing from the store at ${this.root}`, { details: { blob: digest } });
      }
      return io(`cannot read blob ${digest}`, e);
    }
    const actual = sha256(bytes);
    if (actual !== digest) mismatch(digest, `blob ${digest} is corrupt: its bytes hash to ${actual}`);
    if (expectedSize !== undefined && bytes.length !== expectedSize) {
      mismatch(digest, `blob ${digest} has ${bytes.length} bytes, its descriptor says ${expectedSize}`);
    }
    return bytes;
  }

  #writeBlob(bytes: Uint8Array): string {
    const digest = sha256(bytes);
    const path = this.#blobPath(digest);
    if (existsSync(path)) {
      try {
        if (sha256(readFileSync(path)) === digest) return digest;
      } catch {
        // unreadable: rewrite it below
      }
    }
    writeFileAtomic(path, bytes);
    return digest;
  }

  // ---- index ----------------------------------------------------------------------------

  #readIndex(): OciIndex {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(this.root, 'index.json'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
      return io('cannot read the store index', e);
    }
    try {
      return parseIndex(bytes, `${this.root}/index.json`);
    } catch (e) {
      throw new NanovisorError('NV_STORE_IO', `the store index ${this.root}/index.json is damaged: ${(e as Error).message}`, { cause: e });
    }
  }

  #writeIndex(index: OciIndex): void {
    index.manifests.sort((a, b) => (a.annotations?.[ANNOTATION.refName] ?? '').localeCompare(b.annotations?.[ANNOTATION.refName] ?? ''));
    writeFileAtomic(join(this.root, 'index.json'), canonicalJson(index));
  }

  #locked<T>(fn: () => T): T {
    return withLock(join(this.root, 'index.json.lock'), fn);
  }

  // ---- images ---------------------------------------------------------------------------

  /**
   * Writes an image and points `tags` (`name[:tag]`, default the manifest's `name:version`)
   * at it. The same content always gives the same digest.
   */
  put(content: ImageContent, tags?: readonly string[]): PutResult {
    const refs = (tags ?? [`${content.manifest.name}:${content.manifest.version ?? 'latest'}`]).map(normalizeTag);
    refuseReserved(refs, 'image');
    const config = canonicalJson(content.manifest);
    const files = content.files ?? [];
    const layers: Uint8Array[] = [content.module];
    const descriptors = [descriptorOf(content.manifest.driver === 'linux' ? MEDIA_TYPE.rootfs : MEDIA_TYPE.module, content.module)];
    if (files.length > 0) {
      const tar = writeTar(toTarEntries(files));
      layers.push(tar);
      descriptors.push(descriptorOf(MEDIA_TYPE.files, tar));
    }
    if (content.snapshot !== undefined) {
      layers.push(content.snapshot);
      descriptors.push(descriptorOf(MEDIA_TYPE.snapshot, content.snapshot));
    }
    const annotations: Record<string, string> = { [ANNOTATION.title]: content.manifest.name };
    if (content.manifest.version !== undefined) annotations[ANNOTATION.version] = content.manifest.version;
    const oci: OciManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      artifactType: MEDIA_TYPE.artifact,
      config: descriptorOf(MEDIA_TYPE.config, config),
      layers: descriptors,
      annotations,
    };
    const ociBytes = canonicalJson(oci);
    const digest = sha256(ociBytes);
    const size = ociBytes.length + config.length + layers.reduce((n, l) => n + l.length, 0);
    this.#locked(() => {
      for (const blob of [config, ...layers, ociBytes]) this.#writeBlob(blob);
      this.#tag(digest, ociBytes.length, refs, new Date().toISOString());
    });
    return { digest, size, tags: refs };
  }

  /** Points each ref at the image; call holding the lock. */
  #tag(digest: string, size: number, refs: readonly string[], created: string): void {
    const index = this.#readIndex();
    const existing = index.manifests.find((m) => m.digest === digest)?.annotations?.[ANNOTATION.created];
    index.manifests = index.manifests.filter((m) => !refs.includes(m.annotations?.[ANNOTATION.refName] ?? ''));
    for (const ref of refs) {
      index.manifests.push({
        mediaType: MEDIA_TYPE.ociManifest,
        digest,
        size,
        artifactType: MEDIA_TYPE.artifact,
        annotations: { [ANNOTATION.refName]: ref, [ANNOTATION.created]: existing ?? created },
      });
    }
    this.#writeIndex(index);
  }

  /** Adds a tag to an existing image; a reserved tag (a pin) only with `reserved: true`. */
  tag(ref: string, newTag: string, options: { reserved?: boolean } = {}): string {
    const { digest } = this.resolve(ref);
    const tag = normalizeTag(newTag);
    if (options.reserved !== true) refuseReserved([tag], 'image tag');
    this.#locked(() => {
      const size = this.#readIndex().manifests.find((m) => m.digest === digest)?.size ?? 0;
      this.#tag(digest, size, [tag], new Date().toISOString());
    });
    return tag;
  }

  /**
   * Finds an image by tag (`name`, `name:tag`), full digest (`sha256:<hex>`) or a unique
   * prefix of at least 6 hex digits. A tag wins over a digest prefix that spells the same.
   */
  resolve(ref: string): { digest: string; tags: string[] } {
    const entries = this.#readIndex().manifests;
    const tagsOf = (digest: string): string[] =>
      entries.filter((m) => m.digest === digest).map((m) => m.annotations?.[ANNOTATION.refName] ?? '').filter((t) => t !== '').sort();
    const tag = parseTagRef(ref);
    if (tag !== undefined) {
      const full = `${tag.name}:${tag.tag}`;
      const hit = entries.find((m) => m.annotations?.[ANNOTATION.refName] === full);
      if (hit !== undefined) return { digest: hit.digest, tags: tagsOf(hit.digest) };
    }
    let prefix: string | undefined;
    if (ref.startsWith('sha256:')) {
      if (!isDigest(ref)) throw new NanovisorError('NV_IMAGE_REF_INVALID', `"${ref}" is not a digest: expected sha256: and 64 hex digits`);
      prefix = ref;
    } else if (/^[0-9a-f]{6,64}$/.test(ref)) {
      prefix = `sha256:${ref}`;
    }
    if (prefix !== undefined) {
      const digests = [...new Set(entries.map((m) => m.digest).filter((d) => d.startsWith(prefix)))];
      if (digests.length === 1) return { digest: digests[0]!, tags: tagsOf(digests[0]!) };
      if (digests.length > 1) {
        throw new NanovisorError('NV_IMAGE_AMBIGUOUS', `"${ref}" matches ${digests.length} images: ${digests.map((d) => digestHex(d).slice(0, 12)).join(', ')}`, {
          details: { ref, digests },
        });
      }
    }
    if (tag === undefined && prefix === undefined) {
      throw new NanovisorError('NV_IMAGE_REF_INVALID', `"${ref}" is not an image reference: use NAME[:TAG], sha256:<digest> or 6+ hex digits`);
    }
    throw new NanovisorError('NV_IMAGE_NOT_FOUND', `no image "${ref}" in ${this.root}`, { details: { ref } });
  }

  #parts(digest: string): ImageParts {
    const ociBytes = this.readBlob(digest);
    const { manifest: oci, layers } = parseOciManifest(ociBytes, digest);
    const configBytes = this.readBlob(oci.config.digest, oci.config.size);
    return { digest, ociBytes, oci, layers, configBytes, manifest: parseConfig(configBytes, digest) };
  }

  /** Every image, newest first. */
  list(): ImageSummary[] {
    const byDigest = new Map<string, Descriptor[]>();
    for (const m of this.#readIndex().manifests) byDigest.set(m.digest, [...(byDigest.get(m.digest) ?? []), m]);
    const out: ImageSummary[] = [];
    for (const [digest, entries] of byDigest) {
      const p = this.#parts(digest);
      out.push(summary(p, entries));
    }
    return out.sort((a, b) => b.created.localeCompare(a.created) || a.digest.localeCompare(b.digest));
  }

  /** Everything about one image: manifest, layers, sizes, the module's imports and exports. */
  inspect(ref: string): ImageDetails {
    const { digest } = this.resolve(ref);
    const p = this.#parts(digest);
    const entries = this.#readIndex().manifests.filter((m) => m.digest === digest);
    const module = this.readBlob(p.layers.module.digest, p.layers.module.size);
    const files = p.layers.files === undefined ? [] : readTar(this.readBlob(p.layers.files.digest, p.layers.files.size));
    for (const l of p.oci.layers) if (l.mediaType === MEDIA_TYPE.snapshot) this.readBlob(l.digest, l.size);
    return {
      ...summary(p, entries),
      manifest: p.manifest,
      oci: p.oci,
      config: p.oci.config,
      layers: p.oci.layers.map((l) => ({ role: layerRole(l.mediaType), mediaType: l.mediaType, digest: l.digest, size: l.size })),
      // A WASI 0.2 component has no preview1 imports and exports to list.
      ...(p.manifest.driver === 'linux' ? { rootfsEntries: readTar(module).length } : isComponent(module) ? {} : { module: checkModule(module, { entry: p.manifest.entry }) }),
      fileCount: files.length,
    };
  }

  /** The app manifest of an image (reads only its OCI manifest and config, verified). */
  manifestOf(ref: string): Manifest {
    return this.#parts(this.resolve(ref).digest).manifest;
  }

  /** What a runner needs: the manifest, the module bytes and the files, all verified. */
  load(ref: string): LoadedImage {
    const { digest } = this.resolve(ref);
    const p = this.#parts(digest);
    const module = this.readBlob(p.layers.module.digest, p.layers.module.size);
    const files = p.layers.files === undefined ? [] : toImageFiles(readTar(this.readBlob(p.layers.files.digest, p.layers.files.size)));
    const snapshot = p.layers.snapshot === undefined ? undefined : this.readBlob(p.layers.snapshot.digest, p.layers.snapshot.size);
    const moduleIdentity = p.layers.module.digest + (p.layers.snapshot === undefined ? '' : `+${p.layers.snapshot.digest}`);
    return { digest, manifest: p.manifest, module, files, moduleIdentity, ...(snapshot === undefined ? {} : { snapshot }) };
  }

  /**
   * Drops a tag, or every tag of an image named by digest (more than one needs `force`,
   * else NV_IMAGE_IN_USE); then deletes blobs nothing refers to. A pin (a reserved tag) is
   * dropped only with `reserved: true`: removing a pin, or an image by digest that a pin
   * holds, is NV_IMAGE_PINNED naming the app and version. Dropping a user's tag of a pinned
   * image is allowed; the pin keeps its blobs.
   */
  remove(ref: string, options: { force?: boolean; reserved?: boolean } = {}): RemoveResult {
    return this.#locked(() => {
      const { digest, tags } = this.resolve(ref);
      const p = parseTagRef(ref);
      const byTag = p !== undefined && tags.includes(`${p.name}:${p.tag}`);
      const drop = byTag ? [`${p.name}:${p.tag}`] : tags;
      if (options.reserved !== true) refusePinned(digest, drop.filter(isReservedTag));
      if (!byTag && tags.length > 1 && options.force !== true) {
        throw new NanovisorError('NV_IMAGE_IN_USE', `image ${digestHex(digest).slice(0, 12)} has ${tags.length} tags (${tags.join(', ')}); remove them one by one or pass --force`, {
          details: { digest, tags },
        });
      }
      const index = this.#readIndex();
      index.manifests = index.manifests.filter((m) => !(m.digest === digest && drop.includes(m.annotations?.[ANNOTATION.refName] ?? '')));
      this.#writeIndex(index);
      return { untagged: drop, deleted: this.#gc(index) };
    });
  }

  /** Deletes blobs no image refers to (and stale temporary files). Returns their digests. */
  gc(): string[] {
    return this.#locked(() => this.#gc(this.#readIndex()));
  }

  #gc(index: OciIndex): string[] {
    const live = new Set<string>();
    for (const m of index.manifests) {
      live.add(m.digest);
      try {
        const { manifest } = parseOciManifest(this.readBlob(m.digest), m.digest);
        live.add(manifest.config.digest);
        for (const l of manifest.layers) live.add(l.digest);
      } catch (e) {
        // A damaged image keeps its blobs; never delete what we cannot account for.
        throw new NanovisorError('NV_STORE_IO', `garbage collection stopped: image ${m.digest} cannot be read (${(e as Error).message})`, { cause: e });
      }
    }
    const deleted: string[] = [];
    const hour = Date.now() - 3_600_000;
    for (const name of readdirSync(this.#blobs)) {
      const path = join(this.#blobs, name);
      if (name.startsWith(TEMP_PREFIX)) {
        if (statSync(path).mtimeMs < hour) rmSync(path, { force: true });
        continue;
      }
      const digest = `sha256:${name}`;
      if (!live.has(digest)) {
        rmSync(path, { force: true });
        deleted.push(digest);
      }
    }
    return deleted.sort();
  }

  // ---- export / import ------------------------------------------------------------------

  /** Writes one image (all its tags) as a `.tar` holding an OCI layout. */
  export(ref: string, file: string): { digest: string; tags: string[]; bytes: number } {
    const { digest } = this.resolve(ref);
    const p = this.#parts(digest);
    const blobs = new Map<string, Uint8Array>([[digest, p.ociBytes], [p.oci.config.digest, p.configBytes]]);
    for (const l of p.oci.layers) blobs.set(l.digest, this.readBlob(l.digest, l.size));
    const index = emptyIndex();
    // Pins belong to this store's control plane, never to an export (an import refuses them).
    index.manifests = this.#readIndex().manifests.filter((m) => m.digest === digest && !isReservedTag(m.annotations?.[ANNOTATION.refName] ?? ''));
    if (index.manifests.length === 0) {
      const entry = this.#readIndex().manifests.find((m) => m.digest === digest)!;
      const ref = normalizeTag(`${p.manifest.name}:${p.manifest.version ?? 'latest'}`);
      index.manifests = [{ ...entry, annotations: { ...entry.annotations, [ANNOTATION.refName]: isReservedTag(ref) ? `image:${digestHex(digest).slice(0, 12)}` : ref } }];
    }
    const entries: TarEntry[] = [
      { path: OCI_LAYOUT_FILE, kind: 'file', mode: 0o644, data: canonicalJson(OCI_LAYOUT) },
      { path: 'index.json', kind: 'file', mode: 0o644, data: canonicalJson(index) },
      { path: 'blobs', kind: 'dir', mode: 0o755 },
      { path: 'blobs/sha256', kind: 'dir', mode: 0o755 },
      ...[...blobs].map(([d, data]): TarEntry => ({ path: `blobs/sha256/${digestHex(d)}`, kind: 'file', mode: 0o644, data })),
    ];
    const tar = writeTar(entries);
    writeFileAtomic(resolvePath(file), tar);
    return { digest, tags: index.manifests.map((m) => m.annotations?.[ANNOTATION.refName] ?? '').sort(), bytes: tar.length };
  }

  /**
   * Reads an export and adds its images, after verifying every blob's digest and size, every
   * manifest and every module: a corrupt or tampered file changes nothing in the store.
   */
  import(file: string): { images: { digest: string; tags: string[] }[] } {
    let raw: Uint8Array;
    try {
      raw = new Uint8Array(readFileSync(file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NanovisorError('NV_FILE_NOT_FOUND', `no such file: ${file}`);
      return io(`cannot read ${file}`, e);
    }
    const { blobs, index } = verifyExport(raw, file, this.preparedCache);
    return this.#locked(() => {
      for (const data of blobs.values()) this.#writeBlob(data);
      const images = new Map<string, string[]>();
      for (const m of index.manifests) {
        const ref = normalizeTag(m.annotations?.[ANNOTATION.refName] ?? '');
        this.#tag(m.digest, m.size, [ref], m.annotations?.[ANNOTATION.created] ?? new Date().toISOString());
        images.set(m.digest, [...(images.get(m.digest) ?? []), ref]);
      }
      return { images: [...images].map(([digest, tags]) => ({ digest, tags })) };
    });
  }
}

function parseConfig(bytes: Uint8Array, digest: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new NanovisorError('NV_IMAGE_MALFORMED', `image ${digest}: config is not JSON: ${(e as Error).message}`);
  }
  return parseManifest(json, `image ${digestHex(digest).slice(0, 12)} config`);
}

function summary(p: ImageParts, entries: readonly Descriptor[]): ImageSummary {
  const created = entries.map((m) => m.annotations?.[ANNOTATION.created] ?? '').filter((c) => c !== '').sort()[0] ?? '';
  const size = p.ociBytes.length + p.oci.config.size + p.oci.layers.reduce((n, l) => n + l.size, 0);
  const tags = entries.map((m) => m.annotations?.[ANNOTATION.refName] ?? '').filter((t) => t !== '').sort();
  return { digest: p.digest, name: p.manifest.name, tags, size, created };
}

/** Checks an export completely; returns its blobs (by digest) and index. Throws on any flaw. */
function verifyExport(raw: Uint8Array, file: string, cache: PreparedCache | undefined): { blobs: Map<string, Uint8Array>; index: OciIndex } {
  const malformed: (message: string) => never = (message) => {
    throw new NanovisorError('NV_IMAGE_MALFORMED', `${file}: ${message}`);
  };
  const files = new Map<string, Uint8Array>();
  for (const e of readTar(raw)) {
    if (e.kind === 'symlink') malformed(`unexpected symlink ${e.path}`);
    if (e.kind === 'file') files.set(e.path, e.data ?? new Uint8Array(0));
  }
  const layout = files.get(OCI_LAYOUT_FILE);
  if (layout === undefined) malformed('not an OCI image layout (no oci-layout file)');
  const indexBytes = files.get('index.json');
  if (indexBytes === undefined) malformed('not an OCI image layout (no index.json)');
  const blobs = new Map<string, Uint8Array>();
  for (const [path, data] of files) {
    if (path === OCI_LAYOUT_FILE || path === 'index.json') continue;
    const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(path);
    if (m === null) malformed(`unexpected file ${path}`);
    const digest = `sha256:${m[1]!}`;
    const actual = sha256(data);
    if (actual !== digest) mismatch(digest, `${file}: blob ${digest} is corrupt or was tampered with: its bytes hash to ${actual}`);
    blobs.set(digest, data);
  }
  const used = new Map<string, Uint8Array>();
  const need = (d: Descriptor, what: string): Uint8Array => {
    const data = blobs.get(d.digest);
    if (data === undefined) return malformed(`${what} ${d.digest} is missing`);
    if (data.length !== d.size) mismatch(d.digest, `${file}: ${what} ${d.digest} has ${data.length} bytes, its descriptor says ${d.size}`);
    used.set(d.digest, data);
    return data;
  };
  const index = parseIndex(indexBytes, `${file}: index.json`);
  if (index.manifests.length === 0) malformed('holds no images');
  for (const m of index.manifests) {
    refuseReserved([normalizeTag(m.annotations?.[ANNOTATION.refName] ?? '')], `${file}: index.json`);
    const { manifest: oci, layers } = parseOciManifest(need(m, 'manifest'), m.digest);
    const manifest = parseConfig(need(oci.config, 'config'), m.digest);
    const module = need(layers.module, 'module layer');
    if (layers.files !== undefined) readTar(need(layers.files, 'files layer'));
    if (layers.snapshot !== undefined) need(layers.snapshot, 'snapshot layer');
    // A WASI 0.2 component is checked whole where the transpiler is loaded (the daemon's
    // uploads); the host checks it again when it loads it, before anything is served.
    if (manifest.driver === 'linux') readTar(module);
    else if (isComponent(module)) {
      if (componentToolsLoaded()) prepareComponent(module, manifest.limits.memoryBytes, cache === undefined ? {} : { store: cache, identity: layers.module.digest });
    } else checkModule(module, { entry: manifest.entry });
  }
  // Blobs no image refers to are left out: the store only keeps what it can account for.
  return { blobs: used, index };
}
