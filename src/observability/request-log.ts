/**
 * Per-app request logs: one entry per finished gateway request, keeping the guest's stderr
 * next to its request id, so `nanovisor logs <app>` can show why request X failed.
 *
 * Bounded everywhere, because a guest is untrusted and may flood its stderr:
 * - stderr kept per request is capped (8 KiB by default), the cut marked with the number of
 *   bytes dropped;
 * - memory keeps the newest entries per app (10,000 lines and 8 MiB by default);
 * - on disk, `<dir>/<app>.ndjson` rotates by size to `<app>.ndjson.1`, `.2`, ... and only a
 *   few rotations are kept (3 × 8 MiB by default), so one app can never fill the disk.
 *
 * Secrets: a `RequestRecord` carries no request headers (no `authorization`, no cookies) and
 * no env, so nothing secret enters a log entry from the gateway itself. What a guest prints is
 * another matter — it may echo its own secret env — so every text taken from the request
 * (stderr, error message, URL) passes through `redact` with the app's secret values before
 * it is kept in memory or written to disk.
 *
 * Disk writes are batched per loop turn (one append per app per turn); `flush()` writes now,
 * `close()` flushes and stops. A crash loses at most the last turn's entries.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestRecord } from '../gateway/server.ts';
import type { OutboundCallRecord } from '../shared/outbound-wire.ts';

/** One line of a request log (also the NDJSON line of `GET /v1/apps/{name}/logs`). */
export interface LogEntry {
  /** Per-app sequence number, increasing by one per entry, kept across restarts. */
  seq: number;
  /** ISO 8601 time the request finished. */
  time: string;
  app: string;
  requestId: string;
  method: string;
  url: string;
  status: number;
  durationMs: number;
  /** Time inside the VM (boot + run), when a VM ran. */
  vmMs?: number;
  /** Time waiting for the app's exclusive volumes (docs/volumes.md), when it has any. */
  volumeWaitMs?: number;
  /** The app version that served it, when the caller knows it. */
  version?: number;
  outcome?: string;
  exitCode?: number;
  errorCode?: string;
  errorMessage?: string;
  /** The guest's stderr (redacted, capped); absent when empty. */
  stderr?: string;
  /** Bytes of stderr dropped beyond the cap; absent when nothing was dropped. */
  stderrTruncated?: number;
  /** The guest's outbound HTTP calls through the switch, in order; absent when none. */
  outbound?: OutboundCallRecord[];
}

export interface RequestLogOptions {
  /** Directory of the `<app>.ndjson` files. Without one, logs live in memory only. */
  dir?: string;
  /** Newest entries kept in memory per app. Default 10,000. */
  maxEntries?: number;
  /** Bytes of entries (as JSON) kept in memory per app. Default 8 MiB. */
  maxMemoryBytes?: number;
  /** Bytes of stderr kept per request. Default 8 KiB. */
  maxStderrBytes?: number;
  /** Size at which `<app>.ndjson` is rotated. Default 8 MiB. */
  maxFileBytes?: number;
  /** Rotated files kept per app (`.1` ... `.N`). Default 2. */
  maxRotatedFiles?: number;
  /** The secret values of an app, to redact from what is logged. */
  secretsOf?: (app: string) => readonly string[];
  /** Clock, for tests. */
  now?: () => number;
}

/** Extra facts a caller knows about a request that the gateway's record does not carry. */
export interface AppendContext {
  version?: number;
}

export const DEFAULT_MAX_ENTRIES = 10_000;
export const DEFAULT_MAX_MEMORY_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_STDERR_BYTES = 8 * 1024;
export const DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_ROTATED_FILES = 2;
/** Default largest number of entries `read` returns. */
export const DEFAULT_READ_LIMIT = 1000;

/** What replaces a secret value in logs. */
export const REDACTED = '[redacted]';

/** Secrets shorter than this (in UTF-8 bytes) are redacted as written only, not in encodings. */
export const MIN_ENCODED_SECRET_BYTES = 4;

/**
 * The base64 characters that only `bytes` decide wherever they start in a longer encoded
 * text (three alignments): `user:s3cr3t` in a Basic header holds the secret at offset 5, and
 * its encoding shares no characters with the secret's own. Up to 4 bits at each end stay.
 */
function base64Cores(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const enc = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64').replace(/=+$/, '');
    const core = enc.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + bytes.length)) / 6));
    if (core.length > 0) out.push(core);
  }
  return out;
}

/**
 * What each secret may look like in a guest's output: the value as written, and (for values of
 * MIN_ENCODED_SECRET_BYTES or more) its URL encoding (`%20` or `+` for a space, upper- or
 * lower-case escapes), its hex (lower and upper case), and its base64 and base64url, padded or
 * not, also inside a longer encoded text (`Authorization: Basic` of `user:secret`).
 * Not covered: other encodings (JSON `\u` escapes, quoted-printable, gzip, ...), a secret
 * split across writes or transformed by the guest.
 */
export function secretForms(secrets: readonly string[]): string[] {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (s === '') continue;
    needles.add(s);
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length < MIN_ENCODED_SECRET_BYTES) continue;
    const url = encodeURIComponent(s);
    needles.add(url);
    needles.add(url.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()));
    needles.add(new URLSearchParams({ '': s }).toString().slice(1));
    const hex = bytes.toString('hex');
    needles.add(hex);
    needles.add(hex.toUpperCase());
    for (const whole of [bytes.toString('base64'), bytes.toString('base64url')]) needles.add(whole);
    for (const core of base64Cores(bytes)) {
      needles.add(core);
      needles.add(core.replaceAll('+', '-').replaceAll('/', '_'));
    }
  }
  return [...needles].sort((a, b) => b.length - a.length);
}

/**
 * Replaces every occurrence of each secret value in `text`, and of its common encodings
 * (`secretForms`: URL encoding, hex, base64, base64url), with `[redacted]`. Longer forms are
 * replaced first, so a secret containing another is not half-replaced. Empty values are
 * ignored.
 *
 * @example
 * redact('token=s3cr3t!', ['s3cr3t!']); // 'token=[redacted]'
 * redact('Authorization: Basic dXNlcjpzM2NyM3Qh', ['s3cr3t!']); // 'Authorization: Basic dXNlcjp[redacted]'
 */
export function redact(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0 || text === '') return text;
  let out = text;
  for (const n of secretForms(secrets)) {
    if (out.includes(n)) out = out.split(n).join(REDACTED);
  }
  return out;
}

/** The longest UTF-8 prefix of `text` that fits in `maxBytes`, and the bytes dropped. */
export function capUtf8(text: string, maxBytes: number): { text: string; dropped: number } {
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return { text, dropped: 0 };
  const buf = Buffer.from(text);
  let end = maxBytes;
  // Do not split a multi-byte character: back up over continuation bytes.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return { text: buf.subarray(0, end).toString('utf8'), dropped: bytes - end };
}

const SAFE_NAME = /^[a-z0-9][a-z0-9\-_.]*$/;

/** The file stem for an app: its name when it is a valid app name, else percent-encoded. */
function fileStem(app: string): string {
  if (SAFE_NAME.test(app)) return app;
  return `%${[...Buffer.from(app)].map((b) => (/[a-z0-9_-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('')}`;
}

interface Stored {
  entry: LogEntry;
  /** The entry as one JSON line, without the newline. */
  line: string;
}

interface AppLog {
  seq: number;
  /** Newest entries, oldest first, from `start`. */
  items: Stored[];
  start: number;
  bytes: number;
  /** Size of the current file on disk, plus pending. */
  fileBytes: number;
  pending: string[];
  listeners: Set<(entry: LogEntry) => void>;
}

/**
 * Request logs of every app.
 *
 * @example
 * const log = new RequestLog({ dir: join(home, 'logs'), secretsOf: (app) => secretValues(app) });
 * const gw = createGateway({ apps, onRequest: (r) => log.append(r) });
 * log.read('echo', undefined, 50);      // the newest 50 entries
 * const stop = log.subscribe('echo', (e) => console.log(e.requestId, e.status));
 */
export class RequestLog {
  readonly dir: string | undefined;
  readonly #maxEntries: number;
  readonly #maxMemoryBytes: number;
  readonly #maxStderrBytes: number;
  readonly #maxFileBytes: number;
  readonly #maxRotated: number;
  readonly #secretsOf: (app: string) => readonly string[];
  readonly #now: () => number;
  readonly #apps = new Map<string, AppLog>();
  #flushScheduled = false;
  #closed = false;

  constructor(options: RequestLogOptions = {}) {
    this.dir = options.dir;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
    this.#maxStderrBytes = options.maxStderrBytes ?? DEFAULT_MAX_STDERR_BYTES;
    this.#maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.#maxRotated = options.maxRotatedFiles ?? DEFAULT_MAX_ROTATED_FILES;
    this.#secretsOf = options.secretsOf ?? (() => []);
    this.#now = options.now ?? Date.now;
    if (this.dir !== undefined) mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The path of an app's current log file (undefined without a directory). */
  fileOf(app: string): string | undefined {
    return this.dir === undefined ? undefined : join(this.dir, `${fileStem(app)}.ndjson`);
  }

  /**
   * Adds a finished request to its app's log and tells the app's subscribers. Requests that
   * reached no app (404) are not logged per app; returns undefined for them.
   */
  append(record: RequestRecord, context: AppendContext = {}): LogEntry | undefined {
    if (this.#closed) throw new Error('request log is closed');
    const app = record.app;
    if (app === undefined || app === '') return undefined;
    const log = this.#log(app);
    const secrets = this.#secretsOf(app);
    const entry: LogEntry = {
      seq: log.seq + 1,
      time: new Date(this.#now()).toISOString(),
      app,
      requestId: record.requestId,
      method: record.method,
      url: redact(record.url, secrets),
      status: record.status,
      durationMs: round3(record.durationMs),
    };
    if (record.vmMs !== undefined) entry.vmMs = round3(record.vmMs);
    if (record.volumeWaitMs !== undefined) entry.volumeWaitMs = round3(record.volumeWaitMs);
    if (context.version !== undefined) entry.version = context.version;
    if (record.outcome !== undefined) entry.outcome = record.outcome;
    if (record.exitCode !== undefined) entry.exitCode = record.exitCode;
    if (record.errorCode !== undefined) entry.errorCode = record.errorCode;
    if (record.errorMessage !== undefined) entry.errorMessage = capUtf8(redact(record.errorMessage, secrets), 1024).text;
    if (record.outbound !== undefined && record.outbound.length > 0) {
      entry.outbound = record.outbound.map((c) => ({ ...c, ...(c.reason === undefined ? {} : { reason: capUtf8(redact(c.reason, secrets), 512).text }) }));
    }
    if (record.stderr !== undefined && record.stderr !== '') {
      // Redact a prefix a little longer than the cap, so a secret straddling the cut is
      // still recognised whole, then cut; never scan a flood of megabytes.
      const longest = secrets.reduce((n, s) => Math.max(n, Buffer.byteLength(s) * 3), 0);
      const head = capUtf8(record.stderr, this.#maxStderrBytes + longest);
      const kept = capUtf8(redact(head.text, secrets), this.#maxStderrBytes);
      entry.stderr = kept.text;
      if (head.dropped + kept.dropped > 0) entry.stderrTruncated = head.dropped + kept.dropped;
    }
    log.seq = entry.seq;
    const line = JSON.stringify(entry);
    this.#keep(log, { entry, line });
    if (this.dir !== undefined) {
      log.pending.push(line);
      this.#scheduleFlush();
    }
    for (const fn of log.listeners) {
      try {
        fn(entry);
      } catch {
        // A subscriber's failure must not break logging for the others.
      }
    }
    return entry;
  }

  /**
   * Entries of `app`. With `since` (the last seq the caller has), the oldest `limit` entries
   * after it, so a reader can page forward; without it, the newest `limit` entries. Entries
   * older than memory holds are read back from the log files.
   */
  read(app: string, since?: number, limit = DEFAULT_READ_LIMIT): LogEntry[] {
    const log = this.#log(app);
    const items = log.items.slice(log.start);
    if (since === undefined) return items.slice(Math.max(0, items.length - limit)).map((s) => s.entry);
    const first = items[0]?.entry.seq ?? log.seq + 1;
    let older: LogEntry[] = [];
    if (since + 1 < first && this.dir !== undefined) {
      this.flush();
      older = this.#readFiles(app).filter((e) => e.seq > since && e.seq < first);
    }
    const out = older.slice(0, limit);
    for (const s of items) {
      if (out.length >= limit) break;
      if (s.entry.seq > since) out.push(s.entry);
    }
    return out;
  }

  /** The newest seq of `app` (0 when it has no entries). */
  lastSeq(app: string): number {
    return this.#log(app).seq;
  }

  /**
   * Calls `fn` with every new entry of `app` until the returned function is called.
   *
   * @example
   * const stop = log.subscribe('echo', (e) => res.write(`${JSON.stringify(e)}\n`));
   * req.on('close', stop);
   */
  subscribe(app: string, fn: (entry: LogEntry) => void): () => void {
    const log = this.#log(app);
    log.listeners.add(fn);
    return () => {
      log.listeners.delete(fn);
    };
  }

  /** Forgets an app's log: memory and files (for a deleted app). Subscribers stay. */
  remove(app: string): void {
    const log = this.#apps.get(app);
    if (log !== undefined) {
      log.items = [];
      log.start = 0;
      log.bytes = 0;
      log.pending = [];
      log.fileBytes = 0;
    }
    const file = this.fileOf(app);
    if (file === undefined) return;
    rmSync(file, { force: true });
    for (let i = 1; i <= this.#maxRotated; i++) rmSync(`${file}.${i}`, { force: true });
  }

  /** Writes every pending entry to disk now. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.dir === undefined) return;
    for (const [app, log] of this.#apps) {
      if (log.pending.length === 0) continue;
      const lines = log.pending;
      log.pending = [];
      this.#write(app, log, lines);
    }
  }

  /** Flushes and refuses further appends. */
  close(): void {
    this.flush();
    this.#closed = true;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      if (this.#flushScheduled) this.flush();
    });
  }

  #keep(log: AppLog, s: Stored): void {
    log.items.push(s);
    log.bytes += s.line.length;
    while (log.items.length - log.start > this.#maxEntries || (log.bytes > this.#maxMemoryBytes && log.items.length - log.start > 1)) {
      log.bytes -= log.items[log.start]!.line.length;
      log.items[log.start] = undefined as unknown as Stored;
      log.start++;
    }
    if (log.start > 1024 && log.start * 2 > log.items.length) {
      log.items = log.items.slice(log.start);
      log.start = 0;
    }
  }

  /** Appends lines to the app's file, rotating before a write would pass the size limit. */
  #write(app: string, log: AppLog, lines: string[]): void {
    const file = this.fileOf(app)!;
    let batch = '';
    const writeBatch = (): void => {
      if (batch === '') return;
      try {
        appendFileSync(file, batch, { mode: 0o600 });
        log.fileBytes += Buffer.byteLength(batch);
      } catch {
        // A full or read-only disk loses log lines, never requests.
      }
      batch = '';
    };
    for (const line of lines) {
      const text = `${line}\n`;
      const size = Buffer.byteLength(text);
      if (log.fileBytes + Buffer.byteLength(batch) + size > this.#maxFileBytes && log.fileBytes + Buffer.byteLength(batch) > 0) {
        writeBatch();
        this.#rotate(file);
        log.fileBytes = 0;
      }
      batch += text;
    }
    writeBatch();
  }

  #rotate(file: string): void {
    try {
      if (this.#maxRotated <= 0) {
        rmSync(file, { force: true });
        return;
      }
      rmSync(`${file}.${this.#maxRotated}`, { force: true });
      for (let i = this.#maxRotated - 1; i >= 1; i--) {
        if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      }
      renameSync(file, `${file}.1`);
    } catch {
      // As above: logs are best effort under disk trouble.
    }
  }

  /** Every entry on disk for `app`, oldest first. */
  #readFiles(app: string): LogEntry[] {
    const file = this.fileOf(app)!;
    const out: LogEntry[] = [];
    for (let i = this.#maxRotated; i >= 0; i--) out.push(...parseLines(i === 0 ? file : `${file}.${i}`));
    return out;
  }

  /** The state of an app's log, restored from its files the first time it is touched. */
  #log(app: string): AppLog {
    let log = this.#apps.get(app);
    if (log !== undefined) return log;
    log = { seq: 0, items: [], start: 0, bytes: 0, fileBytes: 0, pending: [], listeners: new Set() };
    this.#apps.set(app, log);
    const file = this.fileOf(app);
    if (file === undefined) return log;
    let text = '';
    try {
      log.fileBytes = statSync(file).size;
      text = readFileSync(file, 'utf8');
    } catch {
      // No current file (never written, or a crash right after a rotation): .1 may hold some.
    }
    // A crash may leave a half-written last line; end it so the next line starts clean.
    if (text.length > 0 && !text.endsWith('\n')) {
      try {
        writeFileSync(file, '\n', { flag: 'a' });
        log.fileBytes += 1;
      } catch {
        // Best effort.
      }
    }
    let restored = parseText(text);
    if (restored.length < this.#maxEntries) restored = [...parseLines(`${file}.1`), ...restored];
    for (const entry of restored.slice(-this.#maxEntries)) {
      this.#keep(log, { entry, line: JSON.stringify(entry) });
      log.seq = Math.max(log.seq, entry.seq);
    }
    return log;
  }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function parseText(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const e = JSON.parse(line) as LogEntry;
      if (typeof e === 'object' && e !== null && Number.isSafeInteger(e.seq)) out.push(e);
    } catch {
      // A torn line from a crash: skip it.
    }
  }
  return out;
}

function parseLines(file: string): LogEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return parseText(text);
}
