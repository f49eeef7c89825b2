/**
 * Volumes as control-plane resources (docs/volumes.md): their records in the state database
 * and their directories — `<data>/volumes/<name>` by default, or a directory the operator
 * names inside one of the roots the daemon allows (`serve --volume-root`), so a volume can
 * sit on the filesystem the operator chose. Which apps mount a volume is read from the apps'
 * own config and their current versions' manifests, so a volume still in use is never
 * deleted, and a data-directory volume's files go only when the caller says so.
 *
 * Nothing is made half-way: a data-directory volume's directory is made under a temporary
 * name and renamed into place inside the transaction that inserts its record (a failed
 * rename rolls the record back); a deleted one's directory is renamed aside inside the
 * transaction and removed after the commit. Leftovers of a crash (`.new-*`, `.del-*`) are
 * removed at start. Every call is synchronous, so two creates of one name never interleave:
 * the first wins, the second gets NV_VOLUME_EXISTS.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, cpSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readTar, writeTar, type TarEntry } from '../image/tar.ts';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { NanovisorError } from '../shared/errors.ts';
import type { AccessMode, VolumeMount } from '../shared/volumes.ts';
import { isEmptyDir, measureUsage } from '../switches/storage/index.ts';
import type { Row, StateDb } from './db.ts';
import { VOLUME_QUOTAS, type CreateVolumeInput, type UpdateVolumeInput } from './schemas.ts';

/** A volume as the API shows it. A data-directory volume's path is not shown (it is the server's). */
export interface VolumeView {
  name: string;
  access: AccessMode;
  quotaBytes: number;
  quotaFiles: number;
  /** `data`: in the daemon's data directory; `host`: at the operator's `hostPath`. */
  location: 'data' | 'host';
  hostPath?: string;
  /** What it holds now, counted as quotas count it. */
  usedBytes: number;
  usedFiles: number;
  /** Apps that mount it (their config or their current version's manifest), sorted. */
  apps: string[];
  created: string;
  updated: string;
}

/** A volume as the rest of the control plane needs it. */
export interface VolumeRecord {
  name: string;
  /** Its host directory. */
  path: string;
  access: AccessMode;
  quotaBytes: number;
  quotaFiles: number;
}

type StoredVolume = VolumeRecord & { hostPath: string | null; created: string; updated: string };

export interface DeletedVolume {
  deleted: string;
  /** True when its files were deleted with it. */
  dataDeleted: boolean;
  /** Where the files stay, for a volume at an operator's host path. */
  keptAt?: string;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function pathInvalid(message: string, hostPath: string): never {
  throw new NanovisorError('NV_VOLUME_PATH_INVALID', `hostPath: ${message}`, { details: { field: 'hostPath', hostPath } });
}

const inside = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

export class Volumes {
  readonly #db: StateDb;
  /** `<data>/volumes`. */
  readonly dir: string;
  /** Real paths of the roots operator host paths must lie in. */
  readonly roots: readonly string[];

  constructor(db: StateDb, dir: string, roots: readonly string[] = []) {
    this.#db = db;
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.roots = roots.map((r) => {
      try {
        return realpathSync(r);
      } catch {
        throw new NanovisorError('NV_USAGE', `--volume-root ${r}: no such directory`);
      }
    });
  }

  /** Removes what a crash left in `<data>/volumes`: directories being made or deleted. */
  cleanLeftovers(log: (msg: string, fields: Record<string, unknown>) => void): void {
    const names = readdirSync(this.dir);
    for (const name of names) {
      if (!name.startsWith('.new-') && !name.startsWith('.del-')) continue;
      // A crash between the two renames of a restore: the old contents go back in place.
      const volume = /^\.del-(.+)-[0-9a-f]{8}$/.exec(name)?.[1];
      if (volume !== undefined && this.find(volume) !== undefined && !existsSync(join(this.dir, volume))) {
        renameSync(join(this.dir, name), join(this.dir, volume));
        log('put back a volume directory a crash left aside', { volume });
        continue;
      }
      rmSync(join(this.dir, name), { recursive: true, force: true });
      log('removed a volume directory left by a crash', { dir: name });
    }
  }

  #row(r: Row): StoredVolume {
    const name = r['name'] as string;
    const hostPath = r['host_path'] as string | null;
    return {
      name,
      path: hostPath ?? join(this.dir, name),
      hostPath,
      access: r['access'] as AccessMode,
      quotaBytes: r['quota_bytes'] as number,
      quotaFiles: r['quota_files'] as number,
      created: r['created'] as string,
      updated: r['updated'] as string,
    };
  }

  /** The volume named `name`, or undefined. */
  find(name: string): VolumeRecord | undefined {
    const r = this.#db.get('SELECT * FROM volumes WHERE name = ?', name);
    return r === undefined ? undefined : this.#row(r);
  }

  #get(name: string): StoredVolume {
    const r = this.#db.get('SELECT * FROM volumes WHERE name = ?', name);
    if (r === undefined) throw new NanovisorError('NV_VOLUME_NOT_FOUND', `no volume named "${name}"`, { details: { volume: name } });
    return this.#row(r);
  }

  /**
   * Apps that mount each volume: their own `volumes[]` and their current version's manifest
   * `mounts[].volume` (where the app's config does not put another volume at that path).
   */
  #users(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    const add = (volume: string, app: string) => {
      let s = out.get(volume);
      if (s === undefined) out.set(volume, (s = new Set()));
      s.add(app);
    };
    const own = new Map<string, Set<string>>();
    for (const a of this.#db.all('SELECT name, volumes FROM apps')) {
      const app = a['name'] as string;
      const mounts = JSON.parse(a['volumes'] as string) as VolumeMount[];
      own.set(app, new Set(mounts.map((v) => v.guest)));
      for (const v of mounts) add(v.volume, app);
    }
    for (const r of this.#db.all('SELECT v.app AS app, v.manifest AS manifest FROM versions v JOIN apps a ON a.name = v.app AND a.current_version = v.number')) {
      const app = r['app'] as string;
      const m = (JSON.parse(r['manifest'] as string) as { manifest?: { mounts?: { guest: string; volume?: string }[] } }).manifest;
      for (const mount of m?.mounts ?? []) if (mount.volume !== undefined && !own.get(app)?.has(mount.guest)) add(mount.volume, app);
    }
    return out;
  }

  #view(v: StoredVolume, users: Map<string, Set<string>>): VolumeView {
    const used = measureUsage(v.path);
    return {
      name: v.name,
      access: v.access,
      quotaBytes: v.quotaBytes,
      quotaFiles: v.quotaFiles,
      location: v.hostPath === null ? 'data' : 'host',
      ...(v.hostPath === null ? {} : { hostPath: v.hostPath }),
      usedBytes: used.bytes,
      usedFiles: used.files,
      apps: [...(users.get(v.name) ?? [])].sort(),
      created: v.created,
      updated: v.updated,
    };
  }

  list(): VolumeView[] {
    const users = this.#users();
    return this.#db.all('SELECT * FROM volumes ORDER BY name').map((r) => this.#view(this.#row(r), users));
  }

  get(name: string): VolumeView {
    return this.#view(this.#get(name), this.#users());
  }

  /** Where an operator's host path resolves to: a real path inside an allowed root, used by no other volume. */
  #hostDir(hostPath: string): { real: string; exists: boolean } {
    if (!isAbsolute(hostPath) || hostPath.includes('\0')) pathInvalid(`${JSON.stringify(hostPath)} is not an absolute path`, hostPath);
    if (this.roots.length === 0) pathInvalid('this daemon allows no host paths for volumes (start nanovisor serve with --volume-root DIR)', hostPath);
    const wanted = resolve(hostPath);
    let real: string;
    let exists = false;
    try {
      const st = lstatSync(wanted);
      if (!st.isDirectory()) pathInvalid(`${wanted} exists and is not a directory${st.isSymbolicLink() ? ' (a symlink: give the directory it points to)' : ''}`, hostPath);
      real = realpathSync(wanted);
      exists = true;
    } catch (e) {
      if (e instanceof NanovisorError) throw e;
      let parent: string;
      try {
        parent = realpathSync(dirname(wanted));
      } catch {
        return pathInvalid(`the parent directory of ${wanted} does not exist`, hostPath);
      }
      real = join(parent, basename(wanted));
    }
    if (!this.roots.some((r) => inside(real, r))) {
      pathInvalid(`${real} is outside the roots this daemon allows for volumes (${this.roots.join(', ')})`, hostPath);
    }
    if (inside(real, this.dir) || inside(this.dir, real)) pathInvalid(`${real} overlaps the daemon's own volume directory`, hostPath);
    for (const r of this.#db.all('SELECT name, host_path FROM volumes WHERE host_path IS NOT NULL')) {
      const other = r['host_path'] as string;
      if (inside(real, other) || inside(other, real)) pathInvalid(`${real} overlaps volume "${r['name'] as string}" at ${other}`, hostPath);
    }
    return { real, exists };
  }

  /** Makes a volume; `fill` (restore, import) makes its directory's contents at the path it is given, which does not exist yet. */
  create(input: CreateVolumeInput, fill?: (dir: string) => void): VolumeView {
    const db = this.#db;
    if (this.find(input.name) !== undefined) {
      throw new NanovisorError('NV_VOLUME_EXISTS', `a volume named "${input.name}" already exists`, { details: { volume: input.name } });
    }
    const host = input.hostPath === undefined ? undefined : this.#hostDir(input.hostPath);
    const now = new Date().toISOString();
    const insert = () => db.run(
      'INSERT INTO volumes (name, host_path, access, quota_bytes, quota_files, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)',
      input.name, host?.real ?? null, input.access ?? 'shared', input.quotaBytes ?? VOLUME_QUOTAS.defaultBytes, input.quotaFiles ?? VOLUME_QUOTAS.defaultFiles, now, now,
    );
    if (host !== undefined && fill !== undefined) pathInvalid('a restored volume lives in the data directory', input.hostPath!);
    if (host !== undefined) {
      db.tx(() => {
        insert();
        if (!host.exists) {
          try {
            mkdirSync(host.real, { mode: 0o700 });
            fsyncDir(dirname(host.real));
          } catch (e) {
            pathInvalid(`cannot make the directory ${host.real}: ${(e as Error).message}`, input.hostPath!);
          }
        }
      });
    } else {
      const final = join(this.dir, input.name);
      const tmp = join(this.dir, `.new-${input.name}-${randomBytes(4).toString('hex')}`);
      if (fill === undefined) mkdirSync(tmp, { mode: 0o700 });
      else fill(tmp);
      try {
        db.tx(() => {
          insert();
          try {
            // Onto nothing, or onto an empty directory (a crash's leftover); never over files.
            renameSync(tmp, final);
            fsyncDir(this.dir);
          } catch (e) {
            throw new NanovisorError('NV_VOLUME_PATH_INVALID', `<data>/volumes/${input.name} holds files of no volume (left by an earlier install?); move them away first`, {
              cause: e, details: { volume: input.name },
            });
          }
        });
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
    return this.get(input.name);
  }

  /**
   * Swaps a volume's directory for one `fill` makes (restore, import): made beside it under a
   * temporary name, then renamed into place at once; the old contents are removed after.
   */
  replaceContents(name: string, fill: (dir: string) => void): VolumeView {
    const v = this.#get(name);
    if (v.hostPath !== null && this.roots.includes(v.hostPath)) {
      pathInvalid(`volume "${name}" is an allowed root itself (${v.hostPath}); restore it into a new volume instead`, v.hostPath);
    }
    const parent = dirname(v.path);
    const tag = randomBytes(4).toString('hex');
    const tmp = v.hostPath === null ? join(this.dir, `.new-${name}-${tag}`) : `${v.path}.nv-new-${tag}`;
    const aside = v.hostPath === null ? join(this.dir, `.del-${name}-${tag}`) : `${v.path}.nv-del-${tag}`;
    try {
      fill(tmp);
      renameSync(v.path, aside);
      try {
        renameSync(tmp, v.path);
      } catch (e) {
        renameSync(aside, v.path);
        throw e;
      }
      fsyncDir(parent);
      rmSync(aside, { recursive: true, force: true });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    this.#db.tx(() => this.#db.run('UPDATE volumes SET updated = ? WHERE name = ?', new Date().toISOString(), name));
    return this.get(name);
  }

  /** Changes quotas or the access mode. A quota below what the volume holds makes writes fail until it shrinks. */
  update(name: string, input: UpdateVolumeInput): VolumeView {
    const v = this.#get(name);
    this.#db.tx(() => {
      this.#db.run(
        'UPDATE volumes SET quota_bytes = ?, quota_files = ?, access = ?, updated = ? WHERE name = ?',
        input.quotaBytes ?? v.quotaBytes, input.quotaFiles ?? v.quotaFiles, input.access ?? v.access, new Date().toISOString(), name,
      );
    });
    return this.get(name);
  }

  /**
   * Deletes a volume no app mounts (else NV_VOLUME_IN_USE naming them). A data-directory
   * volume that holds files needs `deleteData` (else NV_VOLUME_NOT_EMPTY); an operator's
   * directory is never deleted: its files stay where they are.
   */
  delete(name: string, deleteData: boolean): DeletedVolume {
    const v = this.#get(name);
    const apps = [...(this.#users().get(name) ?? [])].sort();
    if (apps.length > 0) {
      throw new NanovisorError('NV_VOLUME_IN_USE', `volume "${name}" is mounted by app${apps.length === 1 ? '' : 's'} ${apps.map((a) => `"${a}"`).join(', ')}; detach it or delete ${apps.length === 1 ? 'that app' : 'those apps'} first`, {
        details: { volume: name, apps },
      });
    }
    if (v.hostPath !== null) {
      if (deleteData) {
        throw new NanovisorError('NV_API_BAD_REQUEST', `deleteData: volume "${name}" is the operator's directory ${v.hostPath}; nanovisor never deletes its files (remove them yourself)`, {
          details: { problems: [{ field: 'deleteData', message: 'not for a volume at a hostPath' }] },
        });
      }
      this.#db.tx(() => this.#db.run('DELETE FROM volumes WHERE name = ?', name));
      return { deleted: name, dataDeleted: false, keptAt: v.hostPath };
    }
    const empty = isEmptyDir(v.path);
    if (!empty && !deleteData) {
      const used = measureUsage(v.path);
      throw new NanovisorError('NV_VOLUME_NOT_EMPTY', `volume "${name}" holds ${used.files} files (${used.bytes} bytes); delete them with it only on purpose (deleteData=true, volume rm --delete-data)`, {
        details: { volume: name, ...used },
      });
    }
    const aside = join(this.dir, `.del-${name}-${randomBytes(4).toString('hex')}`);
    this.#db.tx(() => {
      this.#db.run('DELETE FROM volumes WHERE name = ?', name);
      if (existsSync(v.path)) renameSync(v.path, aside);
    });
    rmSync(aside, { recursive: true, force: true });
    return { deleted: name, dataDeleted: !empty };
  }
}

/**
 * A volume of the daemon whose data directory is `dataDir`, read without the daemon
 * (`nanovisor run --volume`): the state database opened read-only. Undefined when there is no
 * database or no such volume.
 */
export function findVolumeIn(dataDir: string, name: string): VolumeRecord | undefined {
  const file = join(dataDir, 'nanovisor.db');
  if (!existsSync(file)) return undefined;
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const r = db.prepare("SELECT * FROM volumes WHERE name = ?").get(name) as Row | undefined;
    if (r === undefined) return undefined;
    return {
      name,
      path: (r['host_path'] as string | null) ?? join(dataDir, 'volumes', name),
      access: r['access'] as AccessMode,
      quotaBytes: r['quota_bytes'] as number,
      quotaFiles: r['quota_files'] as number,
    };
  } catch {
    return undefined; // a database from before volumes
  } finally {
    db.close();
  }
}

// ---- snapshots, restore, export and import ------------------------------------------------

/** A snapshot as the API shows it. */
export interface SnapshotView {
  volume: string;
  name: string;
  bytes: number;
  files: number;
  created: string;
}

/** The entries of a directory as tar entries (files, directories, symlinks), for `writeTar`. */
function treeEntries(root: string): TarEntry[] {
  const out: TarEntry[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.push({ path: r, kind: 'dir', mode: st.mode & 0o7777 });
        walk(p, r);
      } else if (st.isFile()) out.push({ path: r, kind: 'file', mode: st.mode & 0o7777, data: readFileSync(p) });
      else if (st.isSymbolicLink()) out.push({ path: r, kind: 'symlink', mode: 0o777, target: readlinkSync(p) });
      // Sockets, FIFOs and devices are not volume data a guest could make: left out.
    }
  };
  walk(root, '');
  return out;
}

/** A copy of `from` at `to` (which must not exist): reflinks where the filesystem can (FICLONE), a copy otherwise. */
function copyTree(from: string, to: string): void {
  cpSync(from, to, { recursive: true, mode: fsConstants.COPYFILE_FICLONE, verbatimSymlinks: true, preserveTimestamps: true, errorOnExist: true, force: false });
}

export class VolumeSnapshots {
  readonly #db: StateDb;
  readonly #volumes: Volumes;
  /** `<data>/snapshots`, outside the directories the shards see. */
  readonly dir: string;

  constructor(db: StateDb, volumes: Volumes, dir: string) {
    this.#db = db;
    this.#volumes = volumes;
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const v of readdirSync(dir)) {
      for (const n of readdirSync(join(dir, v))) if (n.startsWith('.new-')) rmSync(join(dir, v, n), { recursive: true, force: true });
    }
  }

  #view(r: Row): SnapshotView {
    return { volume: r['volume'] as string, name: r['name'] as string, bytes: r['bytes'] as number, files: r['files'] as number, created: r['created'] as string };
  }

  #path(volume: string, name: string): string {
    return join(this.dir, volume, name);
  }

  #get(volume: string, name: string): SnapshotView {
    const r = this.#db.get('SELECT * FROM volume_snapshots WHERE volume = ? AND name = ?', volume, name);
    if (r === undefined) throw new NanovisorError('NV_VOLUME_NOT_FOUND', `volume "${volume}" has no snapshot "${name}"`, { details: { volume, snapshot: name } });
    return this.#view(r);
  }

  list(volume: string): SnapshotView[] {
    return this.#db.all('SELECT * FROM volume_snapshots WHERE volume = ? ORDER BY created, name', volume).map((r) => this.#view(r));
  }

  /** Copies the volume as it is now; the caller holds an exclusive volume's admission (between two writers). */
  take(volume: string, name: string | undefined): SnapshotView {
    const v = this.#volumes.find(volume);
    if (v === undefined) throw new NanovisorError('NV_VOLUME_NOT_FOUND', `no volume named "${volume}"`, { details: { volume } });
    const snap = name ?? `s${new Date().toISOString().replace(/[-:T.Z]/g, '').slice(0, 17)}`;
    if (this.#db.get('SELECT 1 AS x FROM volume_snapshots WHERE volume = ? AND name = ?', volume, snap) !== undefined) {
      throw new NanovisorError('NV_VOLUME_EXISTS', `volume "${volume}" already has a snapshot "${snap}"`, { details: { volume, snapshot: snap } });
    }
    mkdirSync(join(this.dir, volume), { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, volume, `.new-${snap}-${randomBytes(4).toString('hex')}`);
    try {
      copyTree(v.path, tmp);
      const used = measureUsage(tmp);
      this.#db.tx(() => {
        this.#db.run('INSERT INTO volume_snapshots (volume, name, bytes, files, created) VALUES (?, ?, ?, ?, ?)', volume, snap, used.bytes, used.files, new Date().toISOString());
        renameSync(tmp, this.#path(volume, snap));
        fsyncDir(join(this.dir, volume));
      });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return this.#get(volume, snap);
  }

  delete(volume: string, name: string): { deleted: string } {
    this.#get(volume, name);
    const aside = join(this.dir, volume, `.new-del-${randomBytes(4).toString('hex')}`);
    this.#db.tx(() => {
      this.#db.run('DELETE FROM volume_snapshots WHERE volume = ? AND name = ?', volume, name);
      renameSync(this.#path(volume, name), aside);
    });
    rmSync(aside, { recursive: true, force: true });
    return { deleted: name };
  }

  /**
   * Restores a snapshot: into a new volume `into` (made with the source volume's quotas and
   * access mode, or the defaults), or over the volume itself, whose directory is swapped
   * for a copy of the snapshot at once. The caller holds an exclusive volume's admission.
   */
  restore(volume: string, name: string, into: string | undefined): VolumeView {
    this.#get(volume, name);
    const from = this.#path(volume, name);
    if (into !== undefined && into !== volume) {
      const src = this.#volumes.find(volume);
      return this.#volumes.create({
        name: into, ...(src === undefined ? {} : { quotaBytes: src.quotaBytes, quotaFiles: src.quotaFiles, access: src.access }),
      }, (dir) => copyTree(from, dir));
    }
    return this.#volumes.replaceContents(volume, (dir) => copyTree(from, dir));
  }

  /** A tar of the volume as it is now, or of one of its snapshots (the project's one tar writer). */
  export(volume: string, snapshot: string | undefined): Uint8Array {
    if (snapshot !== undefined) {
      this.#get(volume, snapshot);
      return writeTar(treeEntries(this.#path(volume, snapshot)));
    }
    const v = this.#volumes.find(volume);
    if (v === undefined) throw new NanovisorError('NV_VOLUME_NOT_FOUND', `no volume named "${volume}"`, { details: { volume } });
    return writeTar(treeEntries(v.path));
  }

  /**
   * Fills an empty volume from a tar (as `export` writes: files, directories and symlinks,
   * read strictly by the project's one tar reader); refused when the volume holds files, or
   * the tar holds more than its quotas.
   */
  import(volume: string, tar: Uint8Array): VolumeView {
    const v = this.#volumes.find(volume);
    if (v === undefined) throw new NanovisorError('NV_VOLUME_NOT_FOUND', `no volume named "${volume}"`, { details: { volume } });
    if (!isEmptyDir(v.path)) throw new NanovisorError('NV_VOLUME_NOT_EMPTY', `volume "${volume}" holds files; import fills an empty volume only (restore a snapshot, or make a new volume)`, { details: { volume } });
    let entries: TarEntry[];
    try {
      entries = readTar(tar);
    } catch (e) {
      throw new NanovisorError('NV_API_BAD_REQUEST', `upload: not a volume export: ${(e as Error).message}`, { cause: e });
    }
    let bytes = 0;
    for (const e of entries) {
      if (e.kind === 'symlink' && e.target!.startsWith('/')) throw new NanovisorError('NV_API_BAD_REQUEST', `upload: symlink ${e.path} has an absolute target; a volume holds only relative ones`);
      bytes += e.kind === 'file' ? e.data!.length : e.kind === 'symlink' ? Buffer.byteLength(e.target!) : 0;
    }
    if (bytes > v.quotaBytes || entries.length > v.quotaFiles) {
      throw new NanovisorError('NV_API_BAD_REQUEST', `upload: the tar holds ${bytes} bytes in ${entries.length} entries, more than volume "${volume}" may (${v.quotaBytes} bytes, ${v.quotaFiles} entries)`);
    }
    return this.#volumes.replaceContents(volume, (dir) => {
      mkdirSync(dir, { mode: 0o700 });
      for (const e of entries) {
        const p = join(dir, ...e.path.split('/'));
        if (e.kind === 'dir') mkdirSync(p, { recursive: true, mode: e.mode & 0o777 });
        else {
          mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
          if (e.kind === 'file') writeFileSync(p, e.data!, { mode: e.mode & 0o777 });
          else symlinkSync(e.target!, p);
        }
      }
    });
  }
}
