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
 * version. Its bytes: `NVPREP01`, a u32 (little-endian) header length, a JSON header
 * (the key, the facts prepare needs, the SHA-256 of the payload), then the payload: the
 * module to compile and the encoded snapshot. Written to a temporary file and renamed, so a
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
const PREPARING_CODE = ['./prepare', './prepared-cache', './memory-limit', './interrupt/instrument', './interrupt/layout', './snapshot/transform', './snapshot/format', '../shared/wasm-binary'];

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

const MAGIC = new TextEncoder().encode('NVPREP01');
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
}

interface Header {
  key: string;
  moduleLength: number;
  snapshotLength: number;
  interruptible: boolean;
  hasStart: boolean;
  importedMemory: { initial: number; maximum: number } | null;
  sha256: string;
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
export class PreparedCache {
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
    const text = JSON.stringify([parts.identity, parts.memoryLimitBytes, parts.snapshot, parts.interrupts, codeFingerprint(), process.versions.v8]);
    return createHash('sha256').update(text).digest('hex');
  }

  #path(key: string): string {
    return join(this.dir, key + SUFFIX);
  }

  /** The entry under `key`, or undefined when there is none or it was corrupt (then it is gone). */
  get(key: string): DerivedModule | undefined {
    const path = this.#path(key);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    let entry: DerivedModule;
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
  put(key: string, entry: DerivedModule): void {
    const tmp = join(this.dir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      mkdirSync(this.dir, { recursive: true });
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        for (const part of encodeEntry(entry, key)) writeSync(fd, part);
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

function encodeEntry(entry: DerivedModule, key: string): Uint8Array[] {
  const snapshot = entry.snapshot === undefined ? new Uint8Array() : encodeSnapshot(entry.snapshot);
  const sha256 = createHash('sha256').update(entry.module).update(snapshot).digest('hex');
  const header: Header = {
    key, moduleLength: entry.module.byteLength, snapshotLength: snapshot.byteLength,
    interruptible: entry.interruptible, hasStart: entry.hasStart, importedMemory: entry.importedMemory ?? null, sha256,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(MAGIC.length + 4);
  head.set(MAGIC);
  new DataView(head.buffer).setUint32(MAGIC.length, json.length, true);
  return [head, json, entry.module, snapshot];
}

function decodeEntry(bytes: Uint8Array, key: string): DerivedModule {
  if (bytes.byteLength < MAGIC.length + 4 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('bad magic');
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  const start = MAGIC.length + 4 + jsonLength;
  if (start > bytes.byteLength) throw new Error('header runs past the end');
  const h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(MAGIC.length + 4, start))) as Header;
  if (h.key !== key) throw new Error('entry is for another key');
  if (!Number.isInteger(h.moduleLength) || !Number.isInteger(h.snapshotLength) || start + h.moduleLength + h.snapshotLength !== bytes.byteLength) {
    throw new Error('payload length does not match its header');
  }
  const module = bytes.subarray(start, start + h.moduleLength);
  const snapshot = bytes.subarray(start + h.moduleLength);
  if (createHash('sha256').update(module).update(snapshot).digest('hex') !== h.sha256) throw new Error('payload does not match its SHA-256');
  return {
    module,
    ...(h.snapshotLength === 0 ? {} : { snapshot: decodeSnapshot(snapshot) }),
    interruptible: h.interruptible === true,
    hasStart: h.hasStart !== false,
    ...(h.importedMemory === null ? {} : { importedMemory: h.importedMemory }),
  };
}
