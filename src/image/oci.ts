/**
 * The OCI image-layout vocabulary nanovisor images are written in: media types, descriptors,
 * the image manifest and index shapes, digests, canonical JSON, and references
 * (`name[:tag]`). Parsing here is strict; anything that is not a nanovisor image is
 * NV_IMAGE_MALFORMED. No file I/O: store.ts does that.
 */
import { createHash } from 'node:crypto';
import { NanovisorError } from '../shared/errors.ts';
import { NAME_PATTERN } from './manifest.ts';

export const MEDIA_TYPE = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  /** The OCI manifest's artifactType: this is a nanovisor image. */
  artifact: 'application/vnd.nanovisor.image.v1',
  /** Config blob: the nanovisor manifest (nanovisor.json with defaults applied). */
  config: 'application/vnd.nanovisor.config.v1+json',
  module: 'application/wasm',
  /** A linux-driver image's root filesystem (a tar), in the place of the module. */
  rootfs: 'application/vnd.nanovisor.rootfs.v1.tar',
  files: 'application/vnd.nanovisor.files.v1.tar',
  /** Reserved: a boot snapshot of the module's initialised memory. */
  snapshot: 'application/vnd.nanovisor.snapshot.v1',
} as const;

export const ANNOTATION = {
  refName: 'org.opencontainers.image.ref.name',
  created: 'org.opencontainers.image.created',
  title: 'org.opencontainers.image.title',
  version: 'org.opencontainers.image.version',
} as const;

export const OCI_LAYOUT_FILE = 'oci-layout';
export const OCI_LAYOUT = { imageLayoutVersion: '1.0.0' } as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPE.ociManifest;
  artifactType: typeof MEDIA_TYPE.artifact;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface OciIndex {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPE.ociIndex;
  manifests: Descriptor[];
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function isDigest(text: string): boolean {
  return DIGEST_RE.test(text);
}

/** The hex part of `sha256:<hex>`. */
export function digestHex(digest: string): string {
  return digest.slice('sha256:'.length);
}

/** JSON with object keys sorted and no whitespace, as UTF-8: equal values give equal bytes. */
export function canonicalJson(value: unknown): Uint8Array {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = sort(x);
      }
      return out;
    }
    return v;
  };
  return new TextEncoder().encode(JSON.stringify(sort(value)));
}

export function descriptorOf(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

function malformed(message: string): never {
  throw new NanovisorError('NV_IMAGE_MALFORMED', message);
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    return malformed(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v) || Object.values(v).some((x) => typeof x !== 'string')) malformed(`${what}: annotations must map strings to strings`);
  return v as Record<string, string>;
}

export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (!isRecord(v)) return malformed(`${what} is not a descriptor`);
  const { mediaType, digest, size, artifactType } = v;
  if (typeof mediaType !== 'string') malformed(`${what}: mediaType missing`);
  if (typeof digest !== 'string' || !isDigest(digest)) malformed(`${what}: digest is not sha256:<64 hex>`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) malformed(`${what}: bad size`);
  const d: Descriptor = { mediaType, digest, size };
  if (typeof artifactType === 'string') d.artifactType = artifactType;
  const annotations = stringMap(v['annotations'], what);
  if (annotations !== undefined) d.annotations = annotations;
  return d;
}

/** The layers of a nanovisor image, found by media type. */
export interface ImageLayers {
  module: Descriptor;
  files?: Descriptor;
  snapshot?: Descriptor;
}

/** Parses an OCI manifest and checks it is a nanovisor image with the layers we know. */
export function parseOciManifest(bytes: Uint8Array, digest: string): { manifest: OciManifest; layers: ImageLayers } {
  const v = parseJson(bytes, `manifest ${digest}`);
  if (!isRecord(v) || v['schemaVersion'] !== 2 || v['mediaType'] !== MEDIA_TYPE.ociManifest) {
    malformed(`${digest} is not an OCI image manifest`);
  }
  if (v['artifactType'] !== MEDIA_TYPE.artifact) malformed(`${digest} is not a nanovisor image (artifactType ${JSON.stringify(v['artifactType'])})`);
  const config = parseDescriptor(v['config'], `${digest} config`);
  if (config.mediaType !== MEDIA_TYPE.config) malformed(`${digest}: config has media type ${config.mediaType}`);
  if (!Array.isArray(v['layers'])) malformed(`${digest}: layers missing`);
  const layerList = v['layers'].map((l, i) => parseDescriptor(l, `${digest} layer ${i}`));
  const found: Partial<ImageLayers> = {};
  for (const l of layerList) {
    const role = l.mediaType === MEDIA_TYPE.module || l.mediaType === MEDIA_TYPE.rootfs ? 'module' : l.mediaType === MEDIA_TYPE.files ? 'files' : l.mediaType === MEDIA_TYPE.snapshot ? 'snapshot' : undefined;
    if (role === undefined) malformed(`${digest}: unknown layer media type ${l.mediaType}`);
    if (found[role] !== undefined) malformed(`${digest}: more than one ${role} layer`);
    found[role] = l;
  }
  if (found.module === undefined) malformed(`${digest}: no module layer`);
  const manifest: OciManifest = {
    schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, artifactType: MEDIA_TYPE.artifact, config, layers: layerList,
  };
  const annotations = stringMap(v['annotations'], digest);
  if (annotations !== undefined) manifest.annotations = annotations;
  return { manifest, layers: found as ImageLayers };
}

/** Parses an `index.json`. */
export function parseIndex(bytes: Uint8Array, what: string): OciIndex {
  const v = parseJson(bytes, what);
  if (!isRecord(v) || v['schemaVersion'] !== 2 || !Array.isArray(v['manifests'])) malformed(`${what} is not an OCI image index`);
  const manifests = v['manifests'].map((m, i) => parseDescriptor(m, `${what} entry ${i}`));
  return { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests };
}

export function emptyIndex(): OciIndex {
  return { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [] };
}

export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$/;

/** `name[:tag]` split, with the tag defaulting to `latest`; undefined when not a valid reference. */
export function parseTagRef(ref: string): { name: string; tag: string } | undefined {
  const colon = ref.lastIndexOf(':');
  const name = colon < 0 ? ref : ref.slice(0, colon);
  const tag = colon < 0 ? 'latest' : ref.slice(colon + 1);
  if (!NAME_PATTERN.test(name) || !TAG_PATTERN.test(tag)) return undefined;
  return { name, tag };
}

/** Normalises a tag reference (`hello` → `hello:latest`) or throws NV_IMAGE_REF_INVALID. */
export function normalizeTag(ref: string): string {
  const p = parseTagRef(ref);
  if (p === undefined) {
    throw new NanovisorError('NV_IMAGE_REF_INVALID', `"${ref}" is not an image name: expected NAME[:TAG] with NAME like [a-z0-9][a-z0-9-_.]*`);
  }
  return `${p.name}:${p.tag}`;
}
