/**
 * The control plane: every action of actions.ts, written once, over the state database
 * (db.ts) and the image store. It also turns the state into app specs — plain data: image
 * digest, routes, limits, env — and after every change of what is served (deploy, rollback,
 * update, delete) hands the whole set to `onAppsChanged`, which loads them on the host and
 * swaps them into the gateway. It never compiles a module itself: `perform` asks
 * `checkSpec` (the loader, compiling on the host) whether a change can serve before
 * committing it, without blocking the thread.
 *
 * Every action runs synchronously to its end (node:sqlite and the image store are
 * synchronous), so within the daemon's one thread two actions never interleave; across a
 * crash, each action's database writes are one transaction, and everything it refers to
 * (image blobs, their tags) is durable before that transaction commits.
 *
 * Deployed images are pinned in the store by a tag of their own, `nanovisor.app.<app>:v<N>`,
 * so removing a user's tag never deletes the blobs a version runs on; deleting the app drops
 * its pins, and pins without a version (left by a crash between the two writes) are dropped
 * at start.
 */
import type { OutboundPolicy } from '../shared/outbound.ts';
import { loadComponentTools } from '../host/component/index.ts';
import { loadServerTools } from '../host/server/asyncify.ts';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { scriptName, type AppSpec } from '../gateway/index.ts';
import { DEFAULT_LIMITS, RESERVED_TAG_PREFIX, buildImage, needsServerTools, type ImageStore, type Manifest } from '../image/index.ts';
import type { NanovisorMetrics } from '../observability/index.ts';
import type { RequestLog } from '../observability/index.ts';
import { NanovisorError } from '../shared/errors.ts';
import type { Route } from '../shared/routes.ts';
import type { Action, AppView, LogEntry, ResultOf, VersionView } from './actions.ts';
import type { Row, StateDb } from './db.ts';
import type { AppLimits, CreateAppInput, UpdateAppInput } from './schemas.ts';
import { VolumeSnapshots, Volumes } from './volumes.ts';
import type { Mount } from '../host/index.ts';
import type { VolumeMount } from '../shared/volumes.ts';
import { generateToken, hashToken, readTokenFile, tokenMatches, writeTokenFile } from './tokens.ts';
import { checkTokenFileMode } from './permissions.ts';
import { extractAppTar } from './upload-tar.ts';
import { configChanges, configView, parseConfig, sameConfig, type VersionConfig } from './version-config.ts';
import type { InstanceView } from '../gateway/scale-to-zero.ts';

/** Default concurrency of an app that sets none: requests whose VMs run at once. */
export const DEFAULT_CONCURRENCY = 64;
/** Default places in an app's wait queue. */
export const DEFAULT_QUEUE = 256;
/**
 * Tag name prefix of the pins that keep deployed images in the store. The store reserves it:
 * uploads, builds, imports and `image tag` cannot write such a tag, nor `image rm` drop one.
 */
export const PIN_PREFIX = RESERVED_TAG_PREFIX;

export type LogLevel = 'info' | 'warn' | 'error';
/** A structured log line (the daemon writes it as JSON). Never pass tokens or secrets. */
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface ControlPlaneOptions {
  db: StateDb;
  store: ImageStore;
  /** The token file, `<data>/token` (0600). */
  tokenFile: string;
  /** Scratch directory for uploads, on the same filesystem as the store. Emptied at start. */
  tmpDir: string;
  /** nanovisor's version, for `GET /healthz`. */
  version: string;
  requestLog?: RequestLog;
  metrics?: NanovisorMetrics;
  /**
   * Receives the app specs after every change of what is served; the promise (if any) settles
   * once they are served, and `perform` waits for it.
   */
  onAppsChanged?: (specs: AppSpec[]) => void | Promise<void>;
  /** Brings pull-based gauges up to date before `perform` renders the metrics (e.g. pool sizes read from the shards). */
  refreshMetrics?: () => Promise<void>;
  /** Checks that a spec can serve (loads its image on the host); `perform` calls it before committing. */
  checkSpec?: (spec: AppSpec) => Promise<void>;
  /** Where the gateway listens, once it does (reported by `GET /healthz` so clients print right URLs). */
  gatewayUrl?: () => string | undefined;
  /** The server instance of a served server app (its state, wakes, sleeps), for the app's view. */
  instanceOf?: (app: string) => InstanceView | undefined;
  /** Where data-directory volumes live. Default `<dir of tokenFile>/volumes`. */
  volumesDir?: string;
  /** Roots an operator's volume `hostPath` must lie in (`serve --volume-root`). Default: none allowed. */
  volumeRoots?: readonly string[];
  /**
   * Takes an exclusive volume's admission (the gateway's; resolves with its release) so a
   * snapshot, restore or import happens between two of its VMs. Without it, none is taken.
   */
  lockVolume?: (name: string) => Promise<() => void>;
  log?: Logger;
}

interface AppRow {
  name: string;
  routes: Route[];
  env: Record<string, string>;
  limits: AppLimits;
  concurrency: number | null;
  volumes: VolumeMount[];
  /** The app's own outbound policy; null: its manifest's. */
  outbound: OutboundPolicy | null;
  currentVersion: number | null;
  created: string;
  updated: string;
}

function appRow(r: Row): AppRow {
  return {
    name: r['name'] as string,
    routes: JSON.parse(r['routes'] as string),
    env: JSON.parse(r['env'] as string),
    limits: JSON.parse(r['limits'] as string),
    concurrency: r['concurrency'] as number | null,
    volumes: JSON.parse(r['volumes'] as string),
    outbound: r['outbound'] === null || r['outbound'] === undefined ? null : JSON.parse(r['outbound'] as string),
    currentVersion: r['current_version'] as number | null,
    created: r['created'] as string,
    updated: r['updated'] as string,
  };
}

/** `nanovisor.app.<app>:v<N>`. */
export function pinTag(app: string, version: number): string {
  return `${PIN_PREFIX}${app}:v${version}`;
}

/**
 * Runs `fn`; a NanovisorError it throws is rethrown with each scratch path replaced by what the
 * client knows it as ("the upload"), its original kept as the cause for the log.
 */
function reworded<T>(fn: () => T, replacements: readonly [string, string][]): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof NanovisorError)) throw e;
    let message = e.message;
    for (const [from, to] of replacements) message = message.replaceAll(from, to);
    if (message === e.message) throw e;
    throw new NanovisorError(e.code, message, { cause: e, details: e.details });
  }
}

function routeKey(r: { path: string; host?: string }): string {
  return `${r.host ?? '*'} ${scriptName(r.path)}`;
}

/**
 * The control plane over one data directory's state.
 *
 * @example
 * const cp = ControlPlane.open({ db, store, tokenFile, tmpDir, version: '0.1.0', onAppsChanged: (a) => gw.setApps(a) });
 * cp.execute({ kind: 'CreateApp', input: { name: 'hello', routes: [{ path: '/hello' }] } });
 * cp.execute({ kind: 'DeployVersion', app: 'hello', image: 'hello:latest' }); // { version: 1, digest }
 */
export class ControlPlane {
  readonly #o: ControlPlaneOptions;
  #tokenHash = '';
  /** The last publish: settles once the specs it handed over are served. */
  #published: Promise<void> = Promise.resolve();
  /**
   * Apps whose current version's image was found missing or corrupt (at start, or when it was
   * rechecked): kept visible and routed as broken (503 NV_APP_BROKEN) until repaired.
   */
  #broken = new Map<string, { version: number; digest: string; reason: string }>();
  /** Secret values by app, for redacting request logs; refreshed on every publish. */
  #secretValues = new Map<string, string[]>();
  /** The volumes' records and directories. */
  readonly volumes: Volumes;
  readonly snapshots: VolumeSnapshots;

  private constructor(options: ControlPlaneOptions) {
    this.#o = options;
    this.volumes = new Volumes(options.db, options.volumesDir ?? join(dirname(options.tokenFile), 'volumes'), options.volumeRoots ?? []);
    this.snapshots = new VolumeSnapshots(options.db, this.volumes, join(dirname(this.volumes.dir), 'snapshots'));
  }

  /**
   * Opens the control plane: makes sure a token exists (creating `<data>/token` on first
   * start), empties the scratch directory, drops pins no version holds, and checks that
   * every version's image is in the store.
   */
  static open(options: ControlPlaneOptions): ControlPlane {
    const cp = new ControlPlane(options);
    rmSync(options.tmpDir, { recursive: true, force: true });
    mkdirSync(options.tmpDir, { recursive: true, mode: 0o700 });
    cp.#ensureToken();
    cp.#reconcile();
    cp.#checkServedImages();
    cp.volumes.cleanLeftovers((msg, fields) => cp.#log('warn', msg, fields));
    cp.#loadSecretValues();
    return cp;
  }

  get #log(): Logger {
    return this.#o.log ?? (() => {});
  }

  /**
   * The server's own locations, by the placeholder an API answer shows instead (`<data>`,
   * `<store>`, `<tmp>`): answers never carry server file paths; the operator's log does.
   */
  serverPaths(): readonly { path: string; name: string }[] {
    const { store, tmpDir, tokenFile, db } = this.#o;
    const out = [
      { path: tmpDir, name: '<tmp>' },
      { path: this.volumes.dir, name: '<data>/volumes' },
      { path: this.snapshots.dir, name: '<data>/snapshots' },
      { path: store.root, name: '<store>' },
      { path: dirname(tokenFile), name: '<data>' },
      ...(db.path === ':memory:' ? [] : [{ path: dirname(db.path), name: '<data>' }]),
    ];
    const withReal = out.flatMap((p) => {
      try {
        const real = realpathSync(p.path);
        return real === p.path ? [p] : [p, { path: real, name: p.name }];
      } catch {
        return [p];
      }
    });
    return withReal.filter((p) => p.path !== '/' && p.path !== '').sort((a, b) => b.path.length - a.path.length);
  }

  // ---- auth -----------------------------------------------------------------------------

  #ensureToken(): void {
    const { db, tokenFile } = this.#o;
    let token = readTokenFile(tokenFile);
    const now = new Date().toISOString();
    if (token === undefined) {
      token = generateToken();
      writeTokenFile(tokenFile, token);
      this.#log('info', 'created a new API token', { file: tokenFile });
    } else {
      const was = checkTokenFileMode(tokenFile);
      if (was !== undefined) this.#log('warn', 'the token file was readable by others: its mode is now 0600', { file: tokenFile, mode: was });
    }
    const hash = hashToken(token);
    // The file is the truth: a rotation writes it before its transaction commits, so after a
    // crash between the two the file holds the newer token.
    db.tx(() => {
      const active = db.get('SELECT sha256 FROM tokens WHERE rotated IS NULL');
      if (active?.['sha256'] === hash) return;
      db.run('UPDATE tokens SET rotated = ? WHERE rotated IS NULL', now);
      if (db.run('UPDATE tokens SET rotated = NULL WHERE sha256 = ?', hash) === 0) {
        db.run('INSERT INTO tokens (sha256, created) VALUES (?, ?)', hash, now);
      }
    });
    this.#tokenHash = hash;
  }

  /**
   * Names the token in force without revealing it (the sha256 the database keeps): it changes
   * at every rotation, so a dashboard session bound to it ends when the token is rotated.
   */
  tokenEpoch(): string {
    return this.#tokenHash;
  }

  /** True when `authorization` is `Bearer <the token in force>` (constant-time check). */
  authenticate(authorization: string | undefined): boolean {
    if (authorization === undefined) return false;
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    return m !== null && tokenMatches(m[1]!, this.#tokenHash);
  }

  // ---- start-up checks ------------------------------------------------------------------

  #reconcile(): void {
    const { db, store } = this.#o;
    const versions = new Map<string, string>();
    for (const r of db.all('SELECT app, number, digest FROM versions')) versions.set(pinTag(r['app'] as string, r['number'] as number), r['digest'] as string);
    let images;
    try {
      images = store.list();
    } catch (e) {
      this.#log('error', 'cannot list the image store at start', { error: (e as Error).message });
      return;
    }
    const present = new Set(images.map((i) => i.digest));
    for (const img of images) {
      for (const tag of img.tags) {
        if (!tag.startsWith(PIN_PREFIX)) continue;
        if (versions.get(tag) === img.digest) continue;
        try {
          store.remove(tag, { reserved: true });
          this.#log('info', 'dropped a pin no version holds', { tag });
        } catch (e) {
          this.#log('warn', 'cannot drop a stale pin', { tag, error: (e as Error).message });
        }
      }
    }
    for (const [tag, digest] of versions) {
      if (!present.has(digest)) this.#log('error', 'a version\'s image is missing from the store', { pin: tag, digest });
      else if (!images.find((i) => i.digest === digest)?.tags.includes(tag)) {
        // Pinned before the commit, so this only happens if someone removed the pin by hand.
        try {
          store.tag(digest, tag, { reserved: true });
        } catch (e) {
          this.#log('warn', 'cannot re-pin a version', { tag, error: (e as Error).message });
        }
      }
    }
  }

  /**
   * Reads every current version's image whole (each blob digest-checked): one missing or
   * corrupt is an error in the log naming app, version and digest, and the app stays visible
   * as broken, with the repair in its reason.
   */
  #checkServedImages(): void {
    for (const r of this.#o.db.all('SELECT a.name AS app, a.current_version AS version, v.digest AS digest FROM apps a JOIN versions v ON v.app = a.name AND v.number = a.current_version')) {
      const app = r['app'] as string;
      const version = r['version'] as number;
      const digest = r['digest'] as string;
      const problem = this.#imageProblem(digest);
      if (problem === undefined) {
        this.#broken.delete(app);
        continue;
      }
      const reason = `version ${version}'s image ${digest} is missing from the store or corrupt (${problem.code}); to repair, upload that image again (same digest), or roll back or deploy another version`;
      this.#broken.set(app, { version, digest, reason });
      this.#log('error', 'BROKEN APP: a deployed version\'s image is missing or corrupt; the app answers 503 until it is repaired', {
        app, version, digest, error: problem.message, code: problem.code,
        repair: `upload the image ${digest} again (nanovisor image import / POST /v1/images), or nanovisor rollback ${app} --to N, or deploy another version`,
      });
    }
  }

  /** Why an image cannot be read whole, or undefined when it can. */
  #imageProblem(digest: string): { code: string; message: string } | undefined {
    try {
      this.#o.store.load(digest);
      return undefined;
    } catch (e) {
      return { code: String((e as { code?: unknown }).code ?? 'NV_HOST_FAULT'), message: (e as Error).message };
    }
  }

  /**
   * After something that can repair a broken app (an upload or build of its image, a deploy,
   * a rollback): checks the broken ones again, re-pins a repaired image, and serves what is
   * whole again.
   */
  #recheckBroken(): void {
    if (this.#broken.size === 0) return;
    const before = JSON.stringify([...this.#broken]);
    for (const [app, b] of [...this.#broken]) {
      const row = this.#o.db.get('SELECT current_version FROM apps WHERE name = ?', app);
      if (row === undefined || row['current_version'] !== b.version) {
        this.#broken.delete(app);
        continue;
      }
      if (this.#imageProblem(b.digest) === undefined) {
        try {
          this.#o.store.tag(b.digest, pinTag(app, b.version), { reserved: true });
        } catch (e) {
          this.#log('warn', 'cannot re-pin a repaired version', { app, version: b.version, error: (e as Error).message });
        }
        this.#broken.delete(app);
        this.#log('info', 'broken app repaired: its image is whole again', { app, version: b.version, digest: b.digest });
      }
    }
    if (JSON.stringify([...this.#broken]) !== before) this.#publish();
  }

  #loadSecretValues(): void {
    const m = new Map<string, string[]>();
    for (const r of this.#o.db.all('SELECT app, value FROM secrets')) {
      const app = r['app'] as string;
      m.set(app, [...(m.get(app) ?? []), r['value'] as string]);
    }
    this.#secretValues = m;
  }

  /** The secret values of an app, to redact from its request log. Never log them. */
  secretValues(app: string): readonly string[] {
    return this.#secretValues.get(app) ?? [];
  }

  // ---- reading state --------------------------------------------------------------------

  #app(name: string): AppRow {
    const r = this.#o.db.get('SELECT * FROM apps WHERE name = ?', name);
    if (r === undefined) throw new NanovisorError('NV_APP_NOT_FOUND', `no app named "${name}"`, { details: { app: name } });
    return appRow(r);
  }

  #secrets(app: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.#o.db.all('SELECT name, value FROM secrets WHERE app = ? ORDER BY name', app)) out[r['name'] as string] = r['value'] as string;
    return out;
  }

  #digestOf(app: string, version: number | null): string | null {
    if (version === null) return null;
    return (this.#o.db.get('SELECT digest FROM versions WHERE app = ? AND number = ?', app, version)?.['digest'] as string | undefined) ?? null;
  }

  #view(row: AppRow): AppView {
    const secrets = this.#o.db.all('SELECT name FROM secrets WHERE app = ? ORDER BY name', row.name).map((r) => r['name'] as string);
    return {
      name: row.name,
      routes: row.routes,
      env: row.env,
      secrets,
      limits: { ...row.limits, concurrency: row.concurrency ?? DEFAULT_CONCURRENCY, queue: row.limits.queue ?? DEFAULT_QUEUE },
      volumes: row.volumes,
      outbound: row.outbound,
      status: row.currentVersion === null ? 'undeployed' : this.#broken.get(row.name)?.version === row.currentVersion ? 'broken' : 'serving',
      ...(this.#broken.get(row.name)?.version === row.currentVersion && row.currentVersion !== null ? { problem: this.#broken.get(row.name)!.reason } : {}),
      ...(() => {
        const instance = this.#o.instanceOf?.(row.name);
        return instance === undefined ? {} : { instance };
      })(),
      currentVersion: row.currentVersion,
      currentDigest: this.#digestOf(row.name, row.currentVersion),
      created: row.created,
      updated: row.updated,
    };
  }

  #checkRoutes(name: string, routes: readonly { path: string; host?: string }[]): void {
    const mine = new Map<string, string>();
    for (const r of routes) {
      const k = routeKey(r);
      if (mine.has(k)) throw new NanovisorError('NV_API_BAD_REQUEST', `routes: ${r.host ?? ''}${r.path} is given twice`);
      mine.set(k, r.path);
    }
    for (const other of this.#o.db.all('SELECT name, routes FROM apps WHERE name <> ?', name)) {
      for (const r of JSON.parse(other['routes'] as string) as { path: string; host?: string }[]) {
        if (mine.has(routeKey(r))) {
          throw new NanovisorError('NV_ROUTE_CONFLICT', `route ${r.host === undefined ? '' : `${r.host} `}${r.path} is already served by app "${other['name'] as string}"`, {
            details: { app: other['name'], route: r },
          });
        }
      }
    }
  }

  // ---- the gateway's view ---------------------------------------------------------------

  /** The manifest a version was deployed with (recorded at deploy), else the image's. */
  #manifestOf(app: string, version: number | null, digest: string): Manifest {
    if (version !== null) {
      const r = this.#o.db.get('SELECT manifest FROM versions WHERE app = ? AND number = ?', app, version);
      const m = r === undefined ? undefined : (JSON.parse(r['manifest'] as string) as { manifest?: Manifest }).manifest;
      if (m !== undefined) return m;
    }
    return this.#o.store.manifestOf(digest);
  }

  /** The spec of one app at one image: its manifest under the app's own config. */
  #spec(row: AppRow, version: number, digest: string, manifest: Manifest, secrets: Record<string, string>): AppSpec {
    const limits = { ...DEFAULT_LIMITS, ...manifest.limits };
    const { mounts, exclusive } = this.#volumeMounts(row, manifest);
    return {
      name: row.name,
      version,
      digest,
      routes: row.routes,
      memoryLimitBytes: row.limits.memoryBytes ?? limits.memoryBytes,
      options: {
        // A WebAssembly guest gets its name as argv[0]; a linux program's argv is the manifest's own.
        args: manifest.driver === 'linux' ? [...manifest.args] : [manifest.name, ...manifest.args],
        env: { ...manifest.env, ...row.env, ...secrets },
        entry: manifest.entry,
        timeoutMs: row.limits.timeoutMs ?? limits.timeoutMs,
        maxOutputBytes: limits.maxOutputBytes,
        writableLayerBytes: limits.writableLayerBytes,
        ...(mounts.length === 0 ? {} : { mounts }),
      },
      ...(exclusive.length === 0 ? {} : { exclusiveVolumes: exclusive }),
      ...(row.limits.maxBodyBytes === undefined ? {} : { maxBodyBytes: row.limits.maxBodyBytes }),
      ...(manifest.server === undefined ? {} : { server: manifest.server }),
      ...((row.outbound ?? manifest.outbound) === undefined ? {} : { outbound: row.outbound ?? manifest.outbound }),
      concurrency: row.concurrency ?? DEFAULT_CONCURRENCY,
      queue: row.limits.queue ?? DEFAULT_QUEUE,
    };
  }

  /**
   * The volumes every VM of an app mounts: the image manifest's `mounts[].volume`, then the
   * app's own `volumes[]` (which win at the same guest path); the names of the exclusive ones.
   * A volume that does not exist is NV_VOLUME_UNKNOWN naming where it was asked for.
   */
  #volumeMounts(row: Pick<AppRow, 'volumes'>, manifest: Pick<Manifest, 'mounts'> | undefined): { mounts: Mount[]; exclusive: string[] } {
    const byGuest = new Map<string, { volume: string; readonly: boolean; field: string }>();
    (manifest?.mounts ?? []).forEach((m, i) => {
      if (m.volume !== undefined) byGuest.set(m.guest, { volume: m.volume, readonly: m.readonly, field: `mounts[${i}].volume (in the image's manifest)` });
    });
    row.volumes.forEach((v, i) => byGuest.set(v.guest, { volume: v.volume, readonly: v.readonly ?? false, field: `volumes[${i}].volume` }));
    const mounts: Mount[] = [];
    const exclusive = new Set<string>();
    for (const [guest, m] of byGuest) {
      const v = this.volumes.find(m.volume);
      if (v === undefined) {
        throw new NanovisorError('NV_VOLUME_UNKNOWN', `${m.field}: no volume named "${m.volume}"; create it first (nanovisor volume create ${m.volume})`, {
          details: { field: m.field, volume: m.volume },
        });
      }
      mounts.push({ hostPath: v.path, guestPath: guest, readonly: m.readonly, volume: { name: v.name, quotaBytes: v.quotaBytes, quotaFiles: v.quotaFiles } });
      if (v.access === 'exclusive') exclusive.add(v.name);
    }
    return { mounts, exclusive: [...exclusive].sort() };
  }

  /** Refuses an app's `volumes[]` naming a volume that does not exist, or one guest path twice. */
  #checkVolumes(volumes: readonly VolumeMount[]): void {
    const seen = new Set<string>();
    volumes.forEach((v, i) => {
      if (seen.has(v.guest)) throw new NanovisorError('NV_API_BAD_REQUEST', `volumes[${i}].guest: ${v.guest} is given twice`);
      seen.add(v.guest);
    });
    this.#volumeMounts({ volumes: [...volumes] }, undefined);
  }

  /**
   * The app specs for the current state: every app with a current version. An app whose
   * image is missing from the store is left out (and logged), so one broken app never stops
   * the rest.
   */
  appSpecs(): AppSpec[] {
    const out: AppSpec[] = [];
    for (const r of this.#o.db.all('SELECT * FROM apps WHERE current_version IS NOT NULL ORDER BY name')) {
      const row = appRow(r);
      const digest = this.#digestOf(row.name, row.currentVersion);
      if (digest === null) continue;
      const broken = this.#broken.get(row.name);
      if (broken !== undefined && broken.version === row.currentVersion) {
        out.push(this.#brokenSpec(row, digest, broken.reason));
        continue;
      }
      try {
        out.push(this.#spec(row, row.currentVersion!, digest, this.#manifestOf(row.name, row.currentVersion, digest), this.#secrets(row.name)));
      } catch (e) {
        const code = String((e as { code?: unknown }).code ?? 'error');
        this.#log('error', 'BROKEN APP: its version cannot be served; it answers 503', { app: row.name, version: row.currentVersion, digest, error: (e as Error).message, code });
        out.push(this.#brokenSpec(row, digest, `version ${row.currentVersion}'s image ${digest} cannot be read (${code}); to repair, upload that image again, or roll back or deploy another version`));
      }
    }
    return out;
  }

  /** A spec that keeps a broken app's routes, answering 503 NV_APP_BROKEN with `reason`. */
  #brokenSpec(row: AppRow, digest: string, reason: string): AppSpec {
    return {
      name: row.name, version: row.currentVersion!, digest, routes: row.routes, memoryLimitBytes: 0, options: {},
      concurrency: row.concurrency ?? DEFAULT_CONCURRENCY, queue: row.limits.queue ?? DEFAULT_QUEUE, broken: reason,
    };
  }

  #publish(): void {
    this.#loadSecretValues();
    const served = this.#o.onAppsChanged?.(this.appSpecs());
    if (served instanceof Promise) this.#published = served.catch(() => {});
  }

  /**
   * The spec an action would serve, before it runs (deploy, rollback, an update of a served
   * app), for `checkSpec`; undefined for actions that serve nothing new.
   */
  #candidate(a: Action): AppSpec | undefined {
    const { db, store } = this.#o;
    switch (a.kind) {
      case 'DeployVersion': {
        const row = this.#app(a.app);
        const { digest } = store.resolve(a.image);
        const next = ((db.get('SELECT MAX(number) AS n FROM versions WHERE app = ?', a.app)?.['n'] as number | null) ?? 0) + 1;
        return this.#spec(row, next, digest, store.manifestOf(digest), this.#secrets(a.app));
      }
      case 'Rollback': {
        const row = this.#app(a.app);
        const target = this.#rollbackTarget(row, a.version);
        const digest = this.#digestOf(a.app, target)!;
        const restored = this.#restored(row, target);
        return this.#spec(restored.row, target, digest, this.#manifestOf(a.app, target, digest), restored.secrets);
      }
      case 'UpdateApp': {
        const { next, secrets } = this.#updated(a.name, a.input);
        const digest = this.#digestOf(a.name, next.currentVersion);
        return digest === null ? undefined : this.#spec(next, next.currentVersion!, digest, this.#manifestOf(a.name, next.currentVersion, digest), secrets);
      }
      default:
        return undefined;
    }
  }

  // ---- actions --------------------------------------------------------------------------

  /**
   * Runs one action to its end and returns its result; throws NanovisorError with a stable
   * code (the API maps codes to HTTP statuses).
   */
  execute<A extends Action>(action: A): ResultOf<A> {
    return this.#execute(action) as ResultOf<A>;
  }

  /**
   * Like `execute`, for callers that can wait (the API): a change of what is served is first
   * checked on the host (its image loaded and compiled there; refused with the image's error
   * before anything is committed), and the promise settles once the change is served.
   */
  async perform<A extends Action>(action: A): Promise<ResultOf<A>> {
    if (action.kind === 'GetMetrics') await this.#o.refreshMetrics?.().catch(() => {});
    // An upload may hold a WASI 0.2 component: its build checks it with the transpiler,
    // loaded once per process (~0.1 s) on the first build through the API.
    if (action.kind === 'BuildImage' || action.kind === 'UploadImage') await loadComponentTools();
    const spec = this.#o.checkSpec === undefined ? undefined : this.#candidate(action);
    if (spec !== undefined) await this.#o.checkSpec!(spec);
    // Between two VMs of an exclusive volume: a snapshot, restore or import of it.
    const locked = action.kind === 'SnapshotVolume' || action.kind === 'RestoreVolume' || action.kind === 'ImportVolume' || (action.kind === 'ExportVolume' && action.snapshot === undefined)
      ? action.name
      : undefined;
    const release = locked !== undefined && this.#o.lockVolume !== undefined && this.volumes.find(locked)?.access === 'exclusive'
      ? await this.#o.lockVolume(locked)
      : undefined;
    let result: ResultOf<A>;
    try {
      try {
        result = this.execute(action);
      } catch (e) {
        // A build of a wasi server rewrites its module with Binaryen: loaded on the first such build (~0.6 s), then built again.
        if (action.kind !== 'BuildImage' || !needsServerTools(e)) throw e;
        await loadServerTools();
        result = this.execute(action);
      }
    } finally {
      release?.();
    }
    await this.#published;
    return result;
  }

  #execute(a: Action): ResultOf<Action> {
    switch (a.kind) {
      case 'CreateApp': return this.#createApp(a.input);
      case 'UpdateApp': return this.#updateApp(a.name, a.input);
      case 'DeleteApp': return this.#deleteApp(a.name);
      case 'ListApps': return this.#o.db.all('SELECT * FROM apps ORDER BY name').map((r) => this.#view(appRow(r)));
      case 'GetApp': return this.#view(this.#app(a.name));
      case 'DeployVersion': return this.#repairing(() => this.#deploy(a.app, a.image));
      case 'Rollback': return this.#repairing(() => this.#rollback(a.app, a.version));
      case 'ListVersions': return this.#versions(a.app);
      case 'UploadImage': return this.#repairing(() => ('file' in a ? this.#importFile(a.file) : this.#upload(a.tar)));
      case 'BuildImage': return this.#repairing(() => this.#build('file' in a ? readFileSync(a.file) : a.tar, a.tag));
      case 'ListImages': return this.#o.store.list();
      case 'RotateToken': return this.#rotate();
      case 'GetLogs': return this.#logs(a.app, a.since);
      case 'GetHealth': {
        const gateway = this.#o.gatewayUrl?.();
        return { status: 'ok', version: this.#o.version, ...(gateway === undefined ? {} : { gateway }) };
      }
      case 'GetMetrics': return this.#o.metrics?.render() ?? '';
      case 'CreateVolume': {
        const v = this.volumes.create(a.input);
        this.#log('info', 'volume created', { volume: v.name, location: v.location, access: v.access });
        return v;
      }
      case 'ListVolumes': return this.volumes.list();
      case 'GetVolume': return this.volumes.get(a.name);
      case 'UpdateVolume': {
        const v = this.volumes.update(a.name, a.input);
        this.#log('info', 'volume updated', { volume: a.name, fields: Object.keys(a.input) });
        this.#publish();
        return v;
      }
      case 'SnapshotVolume': {
        const s = this.snapshots.take(a.name, a.snapshot);
        this.#log('info', 'volume snapshot taken', { volume: a.name, snapshot: s.name, bytes: s.bytes });
        return s;
      }
      case 'ListSnapshots': return this.snapshots.list(a.name);
      case 'DeleteSnapshot': return this.snapshots.delete(a.name, a.snapshot);
      case 'RestoreVolume': {
        const v = this.snapshots.restore(a.name, a.snapshot, a.into);
        this.#log('info', 'volume restored', { volume: a.name, snapshot: a.snapshot, into: v.name });
        return v;
      }
      case 'ExportVolume': return this.snapshots.export(a.name, a.snapshot);
      case 'ImportVolume': {
        const v = this.snapshots.import(a.name, a.tar);
        this.#log('info', 'volume imported', { volume: a.name, bytes: v.usedBytes, files: v.usedFiles });
        return v;
      }
      case 'DeleteVolume': {
        const r = this.volumes.delete(a.name, a.deleteData ?? false);
        this.#log('info', 'volume deleted', { volume: a.name, dataDeleted: r.dataDeleted });
        return r;
      }
    }
  }

  /** Runs an action that may repair a broken app, then checks the broken ones again. */
  #repairing<T>(fn: () => T): T {
    const r = fn();
    this.#recheckBroken();
    return r;
  }

  #createApp(input: CreateAppInput): AppView {
    const { db } = this.#o;
    if (db.get('SELECT 1 AS x FROM apps WHERE name = ?', input.name) !== undefined) {
      throw new NanovisorError('NV_APP_EXISTS', `an app named "${input.name}" already exists`, { details: { app: input.name } });
    }
    this.#checkRoutes(input.name, input.routes);
    this.#checkVolumes(input.volumes ?? []);
    const { concurrency, ...limits } = input.limits ?? {};
    const now = new Date().toISOString();
    db.tx(() => {
      db.run(
        'INSERT INTO apps (name, routes, env, limits, concurrency, volumes, outbound, current_version, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)',
        input.name, JSON.stringify(input.routes), JSON.stringify(input.env ?? {}), JSON.stringify(limits), concurrency ?? null, JSON.stringify(input.volumes ?? []), input.outbound === undefined ? null : JSON.stringify(input.outbound), now, now,
      );
      for (const [k, v] of Object.entries(input.secrets ?? {})) db.run('INSERT INTO secrets (app, name, value) VALUES (?, ?, ?)', input.name, k, v);
    });
    this.#log('info', 'app created', { app: input.name });
    this.#loadSecretValues();
    return this.#view(this.#app(input.name));
  }

  /** An app's row and secrets as an update would leave them (nothing written). */
  #updated(name: string, input: UpdateAppInput): { row: AppRow; next: AppRow; secrets: Record<string, string> } {
    const row = this.#app(name);
    const next: AppRow = { ...row, limits: { ...row.limits } };
    if (input.routes !== undefined) {
      this.#checkRoutes(name, input.routes);
      next.routes = input.routes;
    }
    if (input.env !== undefined) next.env = input.env;
    if (input.outbound !== undefined) next.outbound = input.outbound;
    if (input.volumes !== undefined) {
      this.#checkVolumes(input.volumes);
      next.volumes = input.volumes;
    }
    if (input.limits !== undefined) {
      for (const [k, v] of Object.entries(input.limits) as [keyof AppLimits, number | null | undefined][]) {
        if (v === undefined) continue;
        if (k === 'concurrency') next.concurrency = v;
        else if (v === null) delete next.limits[k];
        else next.limits[k] = v;
      }
    }
    const secrets = this.#secrets(name);
    for (const [k, v] of Object.entries(input.secrets ?? {})) {
      if (v === null) delete secrets[k];
      else secrets[k] = v;
    }
    return { row, next, secrets };
  }

  /**
   * A change of config is a new version of the app when it has one (same image, the new
   * config: a version is an image and its config, so a rollback brings back both); before
   * the first deploy it only changes what the first deploy will record.
   */
  #updateApp(name: string, input: UpdateAppInput): AppView {
    const { db, store } = this.#o;
    const { row, next, secrets } = this.#updated(name, input);
    next.updated = new Date().toISOString();
    const changed = !sameConfig(this.#configOf(row, this.#valueRefs(name, this.#secrets(name))), this.#configOf(next, this.#valueRefs(name, secrets)));
    let version: { number: number; digest: string; manifest: string } | undefined;
    if (changed && row.currentVersion !== null) {
      const current = db.get('SELECT digest, manifest FROM versions WHERE app = ? AND number = ?', name, row.currentVersion)!;
      const number = this.#nextVersion(name);
      version = { number, digest: current['digest'] as string, manifest: current['manifest'] as string };
      // Pinned before the version exists, as a deploy does.
      store.tag(version.digest, pinTag(name, number), { reserved: true });
    }
    db.tx(() => {
      db.run(
        'UPDATE apps SET routes = ?, env = ?, limits = ?, concurrency = ?, volumes = ?, outbound = ?, updated = ? WHERE name = ?',
        JSON.stringify(next.routes), JSON.stringify(next.env), JSON.stringify(next.limits), next.concurrency, JSON.stringify(next.volumes), next.outbound === null ? null : JSON.stringify(next.outbound), next.updated, name,
      );
      db.run('DELETE FROM secrets WHERE app = ?', name);
      for (const [k, v] of Object.entries(secrets)) db.run('INSERT INTO secrets (app, name, value) VALUES (?, ?, ?)', name, k, v);
      if (version !== undefined) {
        const config = this.#configOf(next, this.#secretRefs(name, secrets));
        db.run('INSERT INTO versions (app, number, digest, created, manifest, config) VALUES (?, ?, ?, ?, ?, ?)', name, version.number, version.digest, next.updated, version.manifest, JSON.stringify(config));
        db.run('UPDATE apps SET current_version = ? WHERE name = ?', version.number, name);
        this.#dropUnreferencedSecrets(name);
      }
    });
    this.#log('info', 'app updated', { app: name, fields: Object.keys(input), ...(version === undefined ? {} : { version: version.number }) });
    this.#publish();
    return this.#view(this.#app(name));
  }

  // ---- a version's config ---------------------------------------------------------------

  #nextVersion(app: string): number {
    return ((this.#o.db.get('SELECT MAX(number) AS n FROM versions WHERE app = ?', app)?.['n'] as number | null) ?? 0) + 1;
  }

  /** The config of an app's row, with its secrets as given by `refs`. */
  #configOf(row: AppRow, refs: Record<string, number>): VersionConfig {
    return { routes: row.routes, env: row.env, secrets: refs, limits: row.limits, concurrency: row.concurrency, volumes: row.volumes, outbound: row.outbound, recorded: 'deploy' };
  }

  /**
   * Stand-in references for comparing configs without writing: equal values, equal ids (the
   * id of the stored revision when there is one, else a negative number per distinct value).
   */
  #valueRefs(app: string, secrets: Record<string, string>): Record<string, number> {
    const out: Record<string, number> = {};
    let fresh = 0;
    for (const [k, v] of Object.entries(secrets)) {
      const r = this.#o.db.get('SELECT id FROM secret_revisions WHERE app = ? AND name = ? AND value = ? ORDER BY id DESC LIMIT 1', app, k, v);
      out[k] = r === undefined ? --fresh : (r['id'] as number);
    }
    return out;
  }

  /** The revision ids holding `secrets`, storing the values not stored yet. Inside a transaction. */
  #secretRefs(app: string, secrets: Record<string, string>): Record<string, number> {
    const { db } = this.#o;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(secrets)) {
      const r = db.get('SELECT id FROM secret_revisions WHERE app = ? AND name = ? AND value = ? ORDER BY id DESC LIMIT 1', app, k, v);
      if (r !== undefined) out[k] = r['id'] as number;
      else {
        db.run('INSERT INTO secret_revisions (app, name, value) VALUES (?, ?, ?)', app, k, v);
        out[k] = Number(db.get('SELECT last_insert_rowid() AS id')!['id']);
      }
    }
    return out;
  }

  /** Deletes the secret values no version of the app refers to any more. Inside a transaction. */
  #dropUnreferencedSecrets(app: string): void {
    const { db } = this.#o;
    const kept = new Set<number>();
    for (const r of db.all('SELECT config FROM versions WHERE app = ?', app)) for (const id of Object.values(parseConfig(r['config'] as string).secrets)) kept.add(id);
    for (const r of db.all('SELECT id FROM secret_revisions WHERE app = ?', app)) {
      if (!kept.has(r['id'] as number)) db.run('DELETE FROM secret_revisions WHERE id = ?', r['id'] as number);
    }
  }

  #versionConfig(app: string, number: number): VersionConfig {
    const r = this.#o.db.get('SELECT config FROM versions WHERE app = ? AND number = ?', app, number);
    return parseConfig((r?.['config'] as string | undefined) ?? '{}');
  }

  /** The app's row and secrets as version `number` recorded them. */
  #restored(row: AppRow, number: number): { row: AppRow; secrets: Record<string, string> } {
    const c = this.#versionConfig(row.name, number);
    const secrets: Record<string, string> = {};
    for (const [k, id] of Object.entries(c.secrets)) {
      const r = this.#o.db.get('SELECT value FROM secret_revisions WHERE id = ? AND app = ?', id, row.name);
      if (r === undefined) throw new NanovisorError('NV_STATE_DAMAGED', `version ${number} of app "${row.name}" refers to a value of secret ${k} that the state database no longer has`);
      secrets[k] = r['value'] as string;
    }
    return {
      row: { ...row, routes: c.routes, env: c.env, limits: c.limits, concurrency: c.concurrency, volumes: c.volumes, outbound: c.outbound ?? null, currentVersion: number },
      secrets,
    };
  }

  #deleteApp(name: string): { deleted: string } {
    const { db, store } = this.#o;
    this.#app(name);
    const versions = db.all('SELECT number FROM versions WHERE app = ?', name).map((r) => r['number'] as number);
    db.tx(() => {
      db.run('DELETE FROM secrets WHERE app = ?', name);
      db.run('DELETE FROM secret_revisions WHERE app = ?', name);
      db.run('DELETE FROM versions WHERE app = ?', name);
      db.run('DELETE FROM apps WHERE name = ?', name);
    });
    this.#publish();
    // After the commit: a crash here leaves pins without versions, dropped at the next start.
    for (const n of versions) {
      try {
        store.remove(pinTag(name, n), { reserved: true });
      } catch (e) {
        this.#log('warn', 'cannot drop a deleted app\'s pin', { app: name, version: n, error: (e as Error).message });
      }
    }
    this.#o.requestLog?.remove(name);
    this.#o.metrics?.forgetApp(name);
    this.#log('info', 'app deleted', { app: name });
    return { deleted: name };
  }

  #deploy(name: string, ref: string): { app: string; version: number; digest: string } {
    const { db, store } = this.#o;
    this.#app(name);
    const { digest } = store.resolve(ref);
    // The image's manifest, verified; whether it compiles and fits its limits is checkSpec's
    // job (perform), on the host, before this runs.
    const imageManifest = store.manifestOf(digest);
    // Every volume it mounts exists (NV_VOLUME_UNKNOWN before anything is written).
    this.#volumeMounts(this.#app(name), imageManifest);
    const number = this.#nextVersion(name);
    // The pin is durable before the version exists, so a version never names an image that
    // could be collected.
    store.tag(digest, pinTag(name, number), { reserved: true });
    const now = new Date().toISOString();
    const manifest = { name: imageManifest.name, ...(imageManifest.version === undefined ? {} : { version: imageManifest.version }), manifest: imageManifest };
    db.tx(() => {
      // The version records the config it is deployed with (secrets by reference).
      const config = this.#configOf(this.#app(name), this.#secretRefs(name, this.#secrets(name)));
      db.run('INSERT INTO versions (app, number, digest, created, manifest, config) VALUES (?, ?, ?, ?, ?, ?)', name, number, digest, now, JSON.stringify(manifest), JSON.stringify(config));
      db.run('UPDATE apps SET current_version = ?, updated = ? WHERE name = ?', number, now, name);
      this.#dropUnreferencedSecrets(name);
    });
    this.#publish();
    this.#o.metrics?.recordDeploy(name);
    this.#log('info', 'version deployed', { app: name, version: number, digest });
    return { app: name, version: number, digest };
  }

  #rollback(name: string, version: number | undefined): { app: string; version: number; digest: string } {
    const { db } = this.#o;
    const row = this.#app(name);
    const target = this.#rollbackTarget(row, version);
    const digest = this.#digestOf(name, target)!;
    // The version's config comes back with its image: routes, env, secrets, limits, volumes.
    const { row: next, secrets } = this.#restored(row, target);
    this.#checkRoutes(name, next.routes);
    this.#volumeMounts(next, this.#manifestOf(name, target, digest));
    db.tx(() => {
      db.run(
        'UPDATE apps SET routes = ?, env = ?, limits = ?, concurrency = ?, volumes = ?, outbound = ?, current_version = ?, updated = ? WHERE name = ?',
        JSON.stringify(next.routes), JSON.stringify(next.env), JSON.stringify(next.limits), next.concurrency, JSON.stringify(next.volumes), next.outbound === null ? null : JSON.stringify(next.outbound), target, new Date().toISOString(), name,
      );
      db.run('DELETE FROM secrets WHERE app = ?', name);
      for (const [k, v] of Object.entries(secrets)) db.run('INSERT INTO secrets (app, name, value) VALUES (?, ?, ?)', name, k, v);
    });
    this.#publish();
    this.#o.metrics?.recordDeploy(name);
    this.#log('info', 'rolled back', { app: name, from: row.currentVersion, to: target, digest });
    return { app: name, version: target, digest };
  }

  /** The version a rollback goes to: the one named, else the one before the current. */
  #rollbackTarget(row: AppRow, version: number | undefined): number {
    const { db } = this.#o;
    const name = row.name;
    if (version !== undefined) {
      if (db.get('SELECT 1 AS x FROM versions WHERE app = ? AND number = ?', name, version) === undefined) {
        throw new NanovisorError('NV_VERSION_NOT_FOUND', `app "${name}" has no version ${version}`, { details: { app: name, version } });
      }
      return version;
    }
    if (row.currentVersion === null) throw new NanovisorError('NV_APP_NO_VERSION', `app "${name}" has no version deployed, so nothing to roll back`);
    const prev = db.get('SELECT MAX(number) AS n FROM versions WHERE app = ? AND number < ?', name, row.currentVersion)?.['n'] as number | null | undefined;
    if (prev === null || prev === undefined) {
      throw new NanovisorError('NV_APP_NO_VERSION', `app "${name}" has no version before ${row.currentVersion} to roll back to`);
    }
    return prev;
  }

  #versions(name: string): VersionView[] {
    const row = this.#app(name);
    let prev: { config: VersionConfig; digest: string } | undefined;
    const out: VersionView[] = [];
    for (const r of this.#o.db.all('SELECT * FROM versions WHERE app = ? ORDER BY number ASC', name)) {
      const m = JSON.parse(r['manifest'] as string) as { name: string; version?: string };
      const config = parseConfig(r['config'] as string);
      const digest = r['digest'] as string;
      out.push({
        app: name,
        version: r['number'] as number,
        digest,
        created: r['created'] as string,
        current: r['number'] === row.currentVersion,
        image: { name: m.name, ...(m.version === undefined ? {} : { version: m.version }) },
        config: configView(config),
        changes: prev === undefined ? [] : configChanges(prev.config, prev.digest, config, digest),
        ...(config.recorded === 'migration' ? { configFromMigration: true } : {}),
      });
      prev = { config, digest };
    }
    return out.reverse();
  }

  /**
   * A fresh scratch directory for an upload (in `tmpDir`, on the store's filesystem, emptied
   * at start): `file(name)` is a path in it, `remove()` deletes it.
   */
  scratch(prefix: string): { file(name: string): string; remove(): void } {
    const dir = mkdtempSync(join(this.#o.tmpDir, prefix));
    return { file: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
  }

  #importFile(file: string): { digest: string; tags: string[] } {
    const { images } = reworded(() => this.#o.store.import(file), [[file, 'the upload']]);
    const first = images[0]!;
    this.#log('info', 'image uploaded', { digest: first.digest, tags: first.tags });
    return { digest: first.digest, tags: first.tags };
  }

  #upload(tar: Uint8Array): { digest: string; tags: string[] } {
    const dir = mkdtempSync(join(this.#o.tmpDir, 'upload-'));
    try {
      const file = join(dir, 'image.tar');
      writeFileSync(file, tar);
      const { images } = reworded(() => this.#o.store.import(file), [[file, 'the upload']]);
      const first = images[0]!;
      this.#log('info', 'image uploaded', { digest: first.digest, tags: first.tags });
      return { digest: first.digest, tags: first.tags };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  #build(tar: Uint8Array, tag: string | undefined): { digest: string; name: string; tag: string } {
    const dir = mkdtempSync(join(this.#o.tmpDir, 'build-'));
    try {
      const app = join(dir, 'app');
      mkdirSync(app);
      extractAppTar(tar, app);
      if (!readdirSync(app).includes('nanovisor.json')) {
        throw new NanovisorError('NV_API_BAD_REQUEST', 'upload: the tar has no nanovisor.json at its top level (tar the app directory\'s contents: tar -C app -cf - .)');
      }
      const r = reworded(() => buildImage({ dir: app, store: this.#o.store, ...(tag === undefined ? {} : { tag }) }), [[`${app}/`, ''], [app, 'the uploaded app directory']]);
      this.#log('info', 'image built', { digest: r.digest, tag: r.tag });
      return { digest: r.digest, name: r.name, tag: r.tag };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * A new token, in the file and the database together. The file is written first (after a
   * crash before the commit, the next start adopts it); when the commit fails, the old token
   * is written back, so the token in force is always the one on disk — and if even that
   * write fails, the daemon takes the new token, which is on disk (the database catches up
   * at the next start, where the file wins).
   */
  #rotate(): { token: string } {
    const { db, tokenFile } = this.#o;
    const old = readTokenFile(tokenFile);
    const token = generateToken();
    const hash = hashToken(token);
    writeTokenFile(tokenFile, token);
    const now = new Date().toISOString();
    try {
      db.tx(() => {
        db.run('UPDATE tokens SET rotated = ? WHERE rotated IS NULL', now);
        db.run('INSERT INTO tokens (sha256, created) VALUES (?, ?)', hash, now);
      });
    } catch (e) {
      let restored = false;
      if (old !== undefined && hashToken(old) === this.#tokenHash) {
        try {
          writeTokenFile(tokenFile, old);
          restored = true;
        } catch (e2) {
          this.#log('error', 'token rotation: cannot write the old token back', { file: tokenFile, error: (e2 as Error).message });
        }
      }
      if (!restored) this.#tokenHash = hash;
      this.#log('error', restored
        ? 'token rotation failed: its commit did not happen; the old token is back in the token file and stays in force'
        : 'token rotation failed after the token file was written: the new token (in the token file) is in force', { file: tokenFile, error: (e as Error).message });
      throw e;
    }
    this.#tokenHash = hash;
    this.#log('info', 'API token rotated', { file: tokenFile });
    return { token };
  }

  #logs(app: string, since: number | undefined): LogEntry[] {
    this.#app(app);
    return this.#o.requestLog?.read(app, since) ?? [];
  }

  /** Calls `fn` with each new request-log entry of `app` until the returned function is called. */
  subscribeLogs(app: string, fn: (entry: LogEntry) => void): () => void {
    this.#app(app);
    return this.#o.requestLog?.subscribe(app, fn) ?? (() => {});
  }
}
