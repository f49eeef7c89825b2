/**
 * The prepared-module cache: what preparing a module derives from its bytes (validated,
 * memory initialisation split into a snapshot, interrupt checks added, the memory limit
 * applied) kept on disk across processes, so a module prepared once is only compiled by V8
 * afterwards. For a module of tens of MB that derivation (compile to validate, rewrite,
 * compile again) is most of a `run` (docs/performance.md, "the prepared-module cache").
 *
 * An entry is one file named by its key, the SHA-256 of: the module's identity (an image
 * layer's digest, or the file's own SHA-256), the preparation options (memory limit,
 * snapshot on/off, interrupt checks on/off), the preparing code (PREPARING_CODE) and V8's
 * version (and, for a component, the transpiler's). Its bytes: `NVPREP02`, a u32
 * (little-endian) header length, a JSON header (the key, the facts prepare needs, the
 * lengths and SHA-256 of the parts), then the parts: for a module, the module to compile
 * and the encoded snapshot; for a component, its core modules as rewritten, its glue and
 * its engine's snapshot (src/host/component/derived.ts). Written to a temporary file and renamed, so a
 * reader sees a whole entry or none; an entry that does not parse, whose key or payload hash
 * does not match, is reported as corrupt (`onCorrupt`), deleted and rebuilt by the caller.
 * The directory is kept under `maxBytes` by deleting the least recently used entries (a hit
 * touches its file). V8 has no public way to keep its compiled wasm code across processes
 * in Node 24 (a WebAssembly.Module serializes only to a worker of the same process), so the
 * compile itself is not cached.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSnapshot, encodeSnapshot } from './snapshot/format.ts';
import type { Snapshot } from './snapshot/types.ts';

/**
 * The modules whose code decides what preparation derives from the same bytes. Their files'
 * sizes and times are part of every key, so an edited, rebuilt or upgraded nanovisor never
 * reads an entry an older one wrote (those age out).
 */
const PREPARING_CODE = ['./prepare', './prepared-cache', './component/prepare', './component/derived', './snapshot/dirty', './interrupt/imports', './memory-limit', './interrupt/instrument', './interrupt/layout', './snapshot/transform', './snapshot/format', '../shared/wasm-binary'];

let fingerprint: string | undefined;

/** Sizes and modification times of PREPARING_CODE as this process loaded it. */
function codeFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const ext = import.meta.url.slice(import.meta.url.lastIndexOf('.'));
  fingerprint = PREPARING_CODE.map((m) => {
    try {
      const st = statSync(fileURLToPath(new URL(m + ext, import.meta.url)));
      return `${st.size}:${st.mtimeMs}`;
    } catch {
      return 'absent';
    }
  }).join(',');
  return fingerprint;
}

/** Default bound of the cache directory. */
export const DEFAULT_CACHE_BYTES = 1024 * 1024 * 1024;

const MAGIC = new TextEncoder().encode('NVPREP02');
const SUFFIX = '.nvprep';

/** What preparing a module derived from its bytes, ready for V8's compile. */
export interface DerivedModule {
  /** The module to compile (rewritten: snapshot split, interrupt checks, memory limit). */
  readonly module: Uint8Array;
  readonly snapshot?: Snapshot;
  readonly interruptible: boolean;
  readonly hasStart: boolean;
  readonly importedMemory?: { initial: number; maximum: number };
}

/** What a key is made of. */
export interface CacheKeyParts {
  /** `sha256:<hex>` of what was prepared: an image's module layer (with its snapshot layer's, if any), or the module file. */
  readonly identity: string;
  readonly memoryLimitBytes: number;
  readonly snapshot: 'auto' | 'off';
  readonly interrupts: boolean;
  /** What else decides the derivation: a component's transpiler and its version. */
  readonly tools?: string;
}

export interface PreparedCacheOptions {
  /** Bound of the directory's entries together (default 1 GiB). */
  maxBytes?: number;
  /** Told of an entry found corrupt (it is deleted; the caller rebuilds it). */
  onCorrupt?: (path: string, why: string) => void;
}

/** The SHA-256 identity of module bytes (for a file; an image layer already has its digest). */
export function identityOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Prepared modules kept in a directory.
 *
 * @example
 * const cache = new PreparedCache(join(home, 'cache', 'prepared'));
 * const prepared = prepareModule(bytes, limit, { cache });
 */
export class PreparedCache implements DerivedStore {
  readonly dir: string;
  readonly #maxBytes: number;
  readonly #onCorrupt: ((path: string, why: string) => void) | undefined;

  constructor(dir: string, options: PreparedCacheOptions = {}) {
    this.dir = dir;
    this.#maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
    this.#onCorrupt = options.onCorrupt;
  }

  /** The key of a module prepared with these options, by this build on this engine. */
  static key(parts: CacheKeyParts): string {
    const text = JSON.stringify([parts.identity, parts.memoryLimitBytes, parts.snapshot, parts.interrupts, codeFingerprint(), process.versions.v8, ...(parts.tools === undefined ? [] : [parts.tools])]);
    return createHash('sha256').update(text).digest('hex');
  }

  #path(key: string): string {
    return join(this.dir, key + SUFFIX);
  }

  /** The entry under `key`, or undefined when there is none or it was corrupt (then it is gone). */
  get(key: string): DerivedModule | undefined {
    const p = this.getPayload(key);
    if (p === undefined) return undefined;
    try {
      return fromPayload(p);
    } catch (e) {
      rmSync(this.#path(key), { force: true });
      this.#onCorrupt?.(this.#path(key), (e as Error).message);
      return undefined;
    }
  }

  /** Stores a module's derivation (see putPayload). */
  put(key: string, entry: DerivedModule): void {
    this.putPayload(key, toPayload(entry));
  }

  /** An entry's bytes as they are on disk (unchecked: its reader checks them), or undefined. */
  readEntry(key: string): Uint8Array | undefined {
    try {
      return readFileSync(this.#path(key));
    } catch {
      return undefined;
    }
  }

  /** The payload under `key`, or undefined when there is none or it was corrupt (then it is gone). */
  getPayload(key: string): EntryPayload | undefined {
    const path = this.#path(key);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    let entry: EntryPayload;
    try {
      entry = decodeEntry(bytes, key);
    } catch (e) {
      rmSync(path, { force: true });
      this.#onCorrupt?.(path, (e as Error).message);
      return undefined;
    }
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Read-only cache: the entry is still good; only its age for eviction is not updated.
    }
    return entry;
  }

  /**
   * Stores an entry (whole or not at all: temporary file, then rename), then trims the
   * directory to its bound. A cache that cannot be written is skipped silently: it only
   * makes the next run slower.
   */
  putPayload(key: string, entry: EntryPayload): void {
    const tmp = join(this.dir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      mkdirSync(this.dir, { recursive: true });
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        for (const part of encodeEntry(key, entry)) writeSync(fd, part);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.#path(key));
    } catch {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // Nowhere to have written it either.
      }
      return;
    }
    this.#trim(key);
  }

  /** Deletes the least recently used entries (never `keep`) while the directory holds more than its bound. */
  #trim(keep: string): void {
    let entries: { path: string; size: number; used: number }[];
    try {
      entries = readdirSync(this.dir).filter((n) => n.endsWith(SUFFIX)).flatMap((n) => {
        try {
          const st = statSync(join(this.dir, n));
          return [{ path: join(this.dir, n), size: st.size, used: st.mtimeMs }];
        } catch {
          return [];
        }
      });
    } catch {
      return;
    }
    let total = entries.reduce((n, e) => n + e.size, 0);
    for (const e of entries.sort((a, b) => a.used - b.used)) {
      if (total <= this.#maxBytes) break;
      if (e.path === this.#path(keep)) continue;
      rmSync(e.path, { force: true });
      total -= e.size;
    }
  }
}

/** What an entry holds, whatever prepared it: facts (JSON) and byte parts. */
export interface EntryPayload {
  readonly facts: Record<string, unknown>;
  readonly parts: readonly Uint8Array[];
}

/** Where derivations are read and written by key: a cache directory, or one entry shipped with an image. */
export interface DerivedStore {
  getPayload(key: string): EntryPayload | undefined;
  putPayload(key: string, payload: EntryPayload): void;
}

interface Frame {
  key: string;
  facts: Record<string, unknown>;
  lengths: number[];
  sha256: string;
}

function hashParts(parts: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** An entry's bytes: `NVPREP02`, the header's length, the header, the parts. */
export function encodeEntry(key: string, payload: EntryPayload): Uint8Array[] {
  const frame: Frame = { key, facts: payload.facts, lengths: payload.parts.map((p) => p.byteLength), sha256: hashParts(payload.parts) };
  const json = new TextEncoder().encode(JSON.stringify(frame));
  const head = new Uint8Array(MAGIC.length + 4);
  head.set(MAGIC);
  new DataView(head.buffer).setUint32(MAGIC.length, json.length, true);
  return [head, json, ...payload.parts];
}

/** The payload of an entry's bytes, checked whole against `key` and its SHA-256; throws why it is corrupt. */
export function decodeEntry(bytes: Uint8Array, key: string): EntryPayload {
  if (bytes.byteLength < MAGIC.length + 4 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('bad magic');
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  const start = MAGIC.length + 4 + jsonLength;
  if (start > bytes.byteLength) throw new Error('header runs past the end');
  const h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(MAGIC.length + 4, start))) as Frame;
  if (h.key !== key) throw new Error('entry is for another key');
  if (!Array.isArray(h.lengths) || !h.lengths.every((n) => Number.isInteger(n) && n >= 0)
    || start + h.lengths.reduce((a, b) => a + b, 0) !== bytes.byteLength) {
    throw new Error('payload length does not match its header');
  }
  const parts: Uint8Array[] = [];
  let at = start;
  for (const n of h.lengths) { parts.push(bytes.subarray(at, at + n)); at += n; }
  if (hashParts(parts) !== h.sha256) throw new Error('payload does not match its SHA-256');
  return { facts: h.facts ?? {}, parts };
}

function toPayload(entry: DerivedModule): EntryPayload {
  const snapshot = entry.snapshot === undefined ? new Uint8Array() : encodeSnapshot(entry.snapshot);
  return { facts: { interruptible: entry.interruptible, hasStart: entry.hasStart, importedMemory: entry.importedMemory ?? null }, parts: [entry.module, snapshot] };
}

function fromPayload(p: EntryPayload): DerivedModule {
  const [module, snapshot] = p.parts;
  if (module === undefined || snapshot === undefined || p.parts.length !== 2) throw new Error('payload length does not match its header');
  const importedMemory = p.facts['importedMemory'] as DerivedModule['importedMemory'] | null | undefined;
  return {
    module,
    ...(snapshot.byteLength === 0 ? {} : { snapshot: decodeSnapshot(snapshot) }),
    interruptible: p.facts['interruptible'] === true,
    hasStart: p.facts['hasStart'] !== false,
    ...(importedMemory == null ? {} : { importedMemory }),
  };
}

/**
 * One entry that came with an image (a shard is sent what its daemon's cache holds, so it
 * only compiles): read-only, checked like a file of the cache; a corrupt one is said and
 * ignored (the caller derives afresh).
 */
export class ShippedEntry implements DerivedStore {
  readonly #bytes: Uint8Array;
  readonly #onCorrupt: ((why: string) => void) | undefined;

  constructor(bytes: Uint8Array, onCorrupt?: (why: string) => void) {
    this.#bytes = bytes;
    this.#onCorrupt = onCorrupt;
  }

  getPayload(key: string): EntryPayload | undefined {
    try {
      return decodeEntry(this.#bytes, key);
    } catch (e) {
      this.#onCorrupt?.((e as Error).message);
      return undefined;
    }
  }

  putPayload(): void {
    // Nowhere to keep it: the daemon's cache is the daemon's to write.
  }
}
