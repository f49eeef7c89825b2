/**
 * The control plane's state on SQLite (Node's built-in `node:sqlite`): apps, their secrets
 * and versions, and the API tokens. WAL mode with `synchronous=FULL`, so a committed
 * transaction survives a crash of the process or the machine; every change of more than one
 * row runs in one `BEGIN IMMEDIATE ... COMMIT` (`tx`). The schema is created and upgraded by
 * numbered migrations recorded in `schema_version`.
 *
 * A missing database is a first start; it is created whole under a temporary name and renamed
 * into place, so a crash never leaves an empty one. An existing file that is empty, not a
 * database or damaged is NV_STATE_DAMAGED, never taken as a fresh start.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { NanovisorError } from '../shared/errors.ts';

/**
 * Schema migrations, applied in order; index + 1 is the schema version they produce.
 * Never edit one that has shipped: add the next.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE apps (
    name TEXT PRIMARY KEY,
    routes TEXT NOT NULL,          -- JSON: [{ path, host?, methods? }]
    env TEXT NOT NULL,             -- JSON: { NAME: value }
    limits TEXT NOT NULL,          -- JSON: { memoryBytes?, timeoutMs?, queue?, maxBodyBytes? }
    concurrency INTEGER,           -- most requests at once; NULL: the default
    current_version INTEGER,       -- NULL until the first deploy
    created TEXT NOT NULL,
    updated TEXT NOT NULL
  ) STRICT;
  CREATE TABLE secrets (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (app, name)
  ) STRICT;
  CREATE TABLE versions (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    digest TEXT NOT NULL,
    created TEXT NOT NULL,
    manifest TEXT NOT NULL,        -- JSON: the image's manifest when it was deployed
    PRIMARY KEY (app, number)
  ) STRICT;
  CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL UNIQUE,   -- hex sha256 of the token; the token itself is never stored
    created TEXT NOT NULL,
    rotated TEXT                   -- when it was replaced; NULL for the one in force
  ) STRICT;
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
  // 2: volumes (the storage switch, docs/volumes.md) and the volumes an app mounts.
  `
  CREATE TABLE volumes (
    name TEXT PRIMARY KEY,
    host_path TEXT UNIQUE,         -- the operator's directory (real path); NULL: <data>/volumes/<name>
    access TEXT NOT NULL CHECK (access IN ('shared', 'exclusive')),
    quota_bytes INTEGER NOT NULL,
    quota_files INTEGER NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
  ) STRICT;
  ALTER TABLE apps ADD COLUMN volumes TEXT NOT NULL DEFAULT '[]';  -- JSON: [{ volume, guest, readonly? }]
  `,
  // 3: point-in-time copies of volumes, in <data>/snapshots/<volume>/<name>; kept when the volume is deleted.
  `
  CREATE TABLE volume_snapshots (
    volume TEXT NOT NULL,
    name TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    files INTEGER NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (volume, name)
  ) STRICT;
  `,
  // 4: a version is an image and its config (src/control/version-config.ts): each version
  // records the routes, env, limits, concurrency, volumes and secrets (by revision id) it
  // serves with. Versions of before are given their app's config of now, marked 'migration'.
  `
  CREATE TABLE secret_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL
  ) STRICT;
  CREATE INDEX secret_revisions_by_app ON secret_revisions (app, name);
  INSERT INTO secret_revisions (app, name, value) SELECT app, name, value FROM secrets ORDER BY app, name;
  ALTER TABLE versions ADD COLUMN config TEXT NOT NULL DEFAULT '{}';  -- JSON: VersionConfig
  UPDATE versions SET config = (
    SELECT json_object(
      'routes', json(a.routes), 'env', json(a.env), 'limits', json(a.limits), 'concurrency', a.concurrency,
      'volumes', json(a.volumes),
      'secrets', (SELECT json_group_object(r.name, r.id) FROM secret_revisions r WHERE r.app = a.name),
      'recorded', 'migration')
    FROM apps a WHERE a.name = versions.app);
  `,
  // 5: an app's own outbound allowlist and caps (JSON OutboundPolicy); NULL: its manifest's.
  `
  ALTER TABLE apps ADD COLUMN outbound TEXT;
  `,
];

export type SqlValue = null | number | bigint | string | Uint8Array;
export type Row = Record<string, SqlValue>;

/** SQLite's result codes for a file that is not a database, or a damaged one. */
const SQLITE_DAMAGED = new Set([11 /* SQLITE_CORRUPT */, 26 /* SQLITE_NOTADB */]);

function stateIo(message: string, cause: unknown): never {
  const errcode = (cause as { errcode?: number } | undefined)?.errcode;
  const code = errcode !== undefined && SQLITE_DAMAGED.has(errcode) ? 'NV_STATE_DAMAGED' : 'NV_STATE_IO';
  throw new NanovisorError(code, `${message}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
}

function damaged(path: string, what: string): never {
  throw new NanovisorError('NV_STATE_DAMAGED', `the state database ${path} ${what}; nanovisor will not start afresh over it (every app, version and pin would be dropped): restore it from a backup, or move it aside to start with no apps`, {
    details: { path },
  });
}

function size(path: string): number | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile()) damaged(path, 'is not a regular file');
    return st.size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (e instanceof NanovisorError) throw e;
    return stateIo(`cannot read the state database ${path}`, e);
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * An open state database.
 *
 * @example
 * const db = StateDb.open('/var/lib/nanovisor/nanovisor.db');
 * db.tx(() => { db.run('UPDATE apps SET current_version = ? WHERE name = ?', 3, 'hello'); });
 */
export class StateDb {
  readonly path: string;
  readonly #db: DatabaseSync;
  #depth = 0;
  #created = false;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /** True when this open created the schema (the first start on this data directory). */
  get created(): boolean {
    return this.#created;
  }

  /**
   * Opens (creating and migrating as needed) the database at `path` (`:memory:` for tests).
   * An existing file that is empty or not a database is NV_STATE_DAMAGED; one that cannot be
   * read, NV_STATE_IO.
   */
  static open(path: string): StateDb {
    if (path === ':memory:') return StateDb.#openAt(path, false);
    const bytes = size(path);
    if (bytes === 0) damaged(path, 'is empty (0 bytes)');
    if (bytes !== undefined) return StateDb.#openAt(path, false);
    if ((size(`${path}-wal`) ?? 0) > 0) damaged(path, `is missing while its write-ahead log ${path}-wal is not`);
    // A first start: build the database under a temporary name, then rename it into place.
    const tmp = `${path}.new`;
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
    StateDb.#openAt(tmp, true).close();
    try {
      fsyncPath(tmp);
      renameSync(tmp, path);
      fsyncPath(dirname(path));
    } catch (e) {
      return stateIo(`cannot create the state database ${path}`, e);
    }
    return StateDb.#openAt(path, true);
  }

  static #openAt(path: string, created: boolean): StateDb {
    let db: DatabaseSync;
    try {
      // Secrets live here: create the file owner-only (SQLite gives -wal and -shm its mode);
      // opening for writing also tells an unreadable file at once.
      if (path !== ':memory:') closeSync(openSync(path, 'a', 0o600));
      db = new DatabaseSync(path);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = FULL');
      db.exec('PRAGMA foreign_keys = ON');
      db.exec('PRAGMA busy_timeout = 5000');
    } catch (e) {
      return stateIo(`cannot open the state database ${path}`, e);
    }
    const state = new StateDb(path, db);
    state.#created = state.#migrate() === 0 || created;
    return state;
  }

  /** Applies pending migrations; returns the version found before. */
  #migrate(): number {
    try {
      this.#db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT');
      const row = this.#db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
      const current = row?.version ?? 0;
      if (current > MIGRATIONS.length) {
        throw new NanovisorError('NV_STATE_IO', `the state database ${this.path} has schema version ${current}, newer than this nanovisor knows (${MIGRATIONS.length}); upgrade nanovisor`);
      }
      for (let v = current; v < MIGRATIONS.length; v++) {
        this.tx(() => {
          this.#db.exec(MIGRATIONS[v]!);
          this.#db.exec('DELETE FROM schema_version');
          this.#db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(v + 1);
        });
      }
      return current;
    } catch (e) {
      if (e instanceof NanovisorError) throw e;
      return stateIo(`cannot migrate the state database ${this.path}`, e);
    }
  }

  /** The schema version in force. */
  get schemaVersion(): number {
    return (this.get('SELECT version FROM schema_version')?.['version'] as number | undefined) ?? 0;
  }

  /**
   * Runs `fn` in one write transaction (`BEGIN IMMEDIATE`): all of its changes are committed
   * together, or none when it throws. Nested calls join the outer transaction.
   */
  tx<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.#exec('BEGIN IMMEDIATE');
    this.#depth++;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.#depth--;
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // The transaction is already gone (e.g. SQLite rolled it back itself).
      }
      throw e;
    }
    this.#depth--;
    this.#exec('COMMIT');
    return result;
  }

  #exec(sql: string): void {
    try {
      this.#db.exec(sql);
    } catch (e) {
      stateIo(`state database: ${sql} failed`, e);
    }
  }

  /** Runs a statement; returns the number of rows changed. */
  run(sql: string, ...params: SqlValue[]): number {
    try {
      return Number(this.#db.prepare(sql).run(...params).changes);
    } catch (e) {
      return stateIo('state database write failed', e);
    }
  }

  get(sql: string, ...params: SqlValue[]): Row | undefined {
    try {
      return this.#db.prepare(sql).get(...params) as Row | undefined;
    } catch (e) {
      return stateIo('state database read failed', e);
    }
  }

  all(sql: string, ...params: SqlValue[]): Row[] {
    try {
      return this.#db.prepare(sql).all(...params) as Row[];
    } catch (e) {
      return stateIo('state database read failed', e);
    }
  }

  /** Checkpoints the WAL into the main file and closes. */
  close(): void {
    if (!this.#db.isOpen) return;
    try {
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // Another connection may hold the WAL; closing is what matters.
    }
    this.#db.close();
  }
}
