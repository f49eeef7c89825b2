/**
 * Structured logs of the daemon: one JSON object per line,
 * `{"time","level","msg","component","requestId"?, ...fields}`, written to a stream
 * (stderr by default), so `jq` and log shippers read them as they are.
 *
 * Credentials never reach a log line. Three layers, all on by default:
 * - any field whose name says it holds a credential (`authorization`, `cookie`, `token`,
 *   `secret`, `password`, `apiKey`, ...) is written as `[redacted]`, at any depth;
 * - any string shaped like an HTTP credential (`Bearer ...`, `Basic ...`) keeps only the
 *   scheme;
 * - values registered with `addSecret` (the API token, app secrets) are replaced wherever they
 *   appear, in the message too.
 * Guest output does not come here: it goes to the per-app request log (request-log.ts).
 */
import { redact, REDACTED } from './request-log.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names whose values are credentials. */
const SENSITIVE_KEY = /authorization|cookie|token|secret|passw(or)?d|api[-_]?key|credential|private[-_]?key|^auth$/i;
/** HTTP credentials inside a string: keep the scheme, drop the rest. */
const CREDENTIAL_TEXT = /\b(Bearer|Basic|Digest|Token)\s+[A-Za-z0-9\-._~+/=:]+/gi;

const RESERVED = new Set(['time', 'level', 'msg', 'component', 'requestId']);
const MAX_DEPTH = 6;

export interface LogSink {
  write(line: string): unknown;
}

export interface LoggerOptions {
  /** Where lines go. Default: process.stderr. */
  stream?: LogSink;
  /** Lowest level written. Default `info`; `--debug` sets `debug`. */
  level?: LogLevel;
  /** The part of the daemon writing (`api`, `gateway`, `host`...). Default `nanovisor`. */
  component?: string;
  /** Clock, for tests. */
  now?: () => number;
}

/** Fields of a log line. `requestId` and `component` are lifted to the line's top level. */
export type LogFields = Record<string, unknown>;

interface Shared {
  stream: LogSink;
  level: number;
  now: () => number;
  secrets: Set<string>;
}

/**
 * A structured logger. `child` makes one for a component or a request that shares the
 * stream, level and registered secrets.
 *
 * @example
 * const log = createLogger({ level: debug ? 'debug' : 'info', component: 'api' });
 * log.addSecret(token);
 * log.info('app deployed', { app: 'echo', version: 3, requestId });
 * // {"time":"2025-01-02T03:04:05.000Z","level":"info","msg":"app deployed","component":"api","requestId":"ab12-000001","app":"echo","version":3}
 */
export class Logger {
  readonly #shared: Shared;
  readonly #bindings: LogFields;

  constructor(options: LoggerOptions = {}, shared?: Shared, bindings: LogFields = {}) {
    this.#shared = shared ?? {
      stream: options.stream ?? process.stderr,
      level: LEVELS[options.level ?? 'info'],
      now: options.now ?? Date.now,
      secrets: new Set(),
    };
    this.#bindings = shared === undefined ? { component: options.component ?? 'nanovisor', ...bindings } : bindings;
  }

  /** A logger whose lines carry `bindings` too (e.g. `{ component: 'gateway' }` or a requestId). */
  child(bindings: LogFields): Logger {
    return new Logger({}, this.#shared, { ...this.#bindings, ...bindings });
  }

  /** Redacts `value` from every later line of this logger and its relatives. */
  addSecret(value: string): void {
    if (value !== '') this.#shared.secrets.add(value);
  }

  /** Stops redacting `value` (e.g. a rotated-away token); credential-named fields stay redacted. */
  removeSecret(value: string): void {
    this.#shared.secrets.delete(value);
  }

  /** Changes the lowest level written, for this logger and its relatives. */
  setLevel(level: LogLevel): void {
    this.#shared.level = LEVELS[level];
  }

  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.#shared.level;
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (LEVELS[level] < this.#shared.level) return;
    const merged: LogFields = { ...this.#bindings, ...fields };
    const line: LogFields = {
      time: new Date(this.#shared.now()).toISOString(),
      level,
      msg: this.#text(msg),
      component: typeof merged['component'] === 'string' ? merged['component'] : 'nanovisor',
    };
    if (merged['requestId'] !== undefined) line['requestId'] = String(merged['requestId']);
    const debug = this.#shared.level <= LEVELS.debug;
    for (const [k, v] of Object.entries(merged)) {
      if (k === 'component' || k === 'requestId' || v === undefined) continue;
      const key = RESERVED.has(k) ? `${k}_` : k;
      line[key] = SENSITIVE_KEY.test(k) ? REDACTED : this.#clean(v, 0, new WeakSet(), debug);
    }
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      text = JSON.stringify({ time: line['time'], level, msg: line['msg'], component: line['component'], logError: 'fields could not be serialised' });
    }
    try {
      this.#shared.stream.write(`${text}\n`);
    } catch {
      // Logging must never take the daemon down.
    }
  }

  #text(s: string): string {
    const out = s.replace(CREDENTIAL_TEXT, (_m, scheme: string) => `${scheme} ${REDACTED}`);
    return this.#shared.secrets.size === 0 ? out : redact(out, [...this.#shared.secrets]);
  }

  /** A JSON-safe copy with credentials removed. Errors keep name, message, code (stack at debug). */
  #clean(v: unknown, depth: number, seen: WeakSet<object>, debug: boolean): unknown {
    if (typeof v === 'string') return this.#text(v);
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'undefined' || typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (depth >= MAX_DEPTH) return '[too deep]';
    const obj = v as object;
    if (seen.has(obj)) return '[circular]';
    seen.add(obj);
    try {
      return this.#cleanObject(obj, depth, seen, debug);
    } finally {
      // Only cycles are cut; the same object twice side by side is written twice.
      seen.delete(obj);
    }
  }

  #cleanObject(obj: object, depth: number, seen: WeakSet<object>, debug: boolean): unknown {
    if (obj instanceof Error) {
      const e: LogFields = { name: obj.name, message: this.#text(obj.message) };
      const code = (obj as { code?: unknown }).code;
      if (code !== undefined) e['code'] = String(code);
      if (debug && obj.stack !== undefined) e['stack'] = this.#text(obj.stack);
      return e;
    }
    if (obj instanceof Date) return obj.toISOString();
    if (obj instanceof Uint8Array) return `[${obj.length} bytes]`;
    if (Array.isArray(obj)) return obj.map((x) => this.#clean(x, depth + 1, seen, debug));
    if (obj instanceof Map) return this.#clean(Object.fromEntries(obj), depth, seen, debug);
    const out: LogFields = {};
    for (const [k, x] of Object.entries(obj)) {
      out[k] = SENSITIVE_KEY.test(k) ? REDACTED : this.#clean(x, depth + 1, seen, debug);
    }
    return out;
  }
}

/** A logger writing to `options.stream` (default stderr). */
export function createLogger(options: LoggerOptions = {}): Logger {
  return new Logger(options);
}

/** A logger that writes nothing (for tests and embedding). */
export function silentLogger(): Logger {
  return new Logger({ stream: { write: () => true }, level: 'error' }).child({});
}
