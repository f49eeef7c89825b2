/**
 * The shard jail: the second line of defense around a host process, in the role
 * Firecracker's jailer plays. A shard runs untrusted guests inside V8's WebAssembly sandbox;
 * if a guest ever escaped it through a V8 or host bug, it should find a process that has as
 * little as the host OS allows: its own user, mount, PID, network, IPC and UTS namespaces
 * (bubblewrap), no network but loopback, a filesystem view of only the Node binary, its
 * libraries, the project's code and the directories the shard was granted, no_new_privs, no
 * capabilities, a system-call filter (./seccomp.ts), resource limits (prlimit), an empty
 * environment and no core dumps.
 *
 * `probeJail()` finds out once per process which of those layers this machine allows (ldd,
 * `bwrap --help` and one bwrap run; more only to name a layer it refuses); `Jail` builds the command line a shard is forked with:
 *   prlimit <limits> -- bwrap <namespaces, view> -- node <flags> worker
 * A layer the machine does not allow is off, and `layers` says which and why; the shard
 * still starts with the others. See docs/security.md.
 */
import { execFile, spawn, type ChildProcess, type ForkOptions, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { basename, delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { NanovisorError } from '../../shared/errors.ts';
import { seccompFilter } from './seccomp.ts';

/** What a Supervisor's `jail` option may say; `false` turns the jail off. */
export interface JailOptions {
  /** Host directories the shard may read (guests' read-only mounts, the image store). Bound at the same path. */
  readOnly?: readonly string[];
  /** Host directories the shard may read and write (volumes, writable mounts). Bound at the same path. */
  readWrite?: readonly string[];
  /**
   * The host user and group the shard runs as; it must be able to read the Node binary, the
   * project's code and the granted directories (and write the `readWrite` ones). Default: for
   * a supervisor running as root, uid/gid 65534 ("nobody") when that user can, else root;
   * otherwise the supervisor's own user. `'self'`: the supervisor's own user even as root.
   * A shard left as root is host uid 0 inside a user namespace as uid 65534 with no
   * capabilities, and the kernel does not count its processes (`limit-processes` is off).
   */
  user?: { uid: number; gid: number } | 'self';
  /** Resource limits (setrlimit), hard and soft. */
  limits?: {
    /** RLIMIT_NOFILE. Default 4096. */
    openFiles?: number;
    /**
     * RLIMIT_NPROC: tasks (processes and threads) of the shard's host user, counted over all
     * of that user's processes on the host (every shard of that user, and anything else it
     * runs). Default 4096; a shard uses about 13 (Node's threads and two bwrap processes).
     */
    processes?: number;
  };
  /** The system-call filter. Default true. */
  seccomp?: boolean;
}

export type JailLayerName =
  | 'user-ns' | 'mount-ns' | 'pid-ns' | 'net-ns' | 'ipc-ns' | 'uts-ns'
  | 'no-new-privs' | 'no-capabilities' | 'filesystem' | 'seccomp'
  | 'limit-open-files' | 'limit-processes' | 'no-core-dumps' | 'host-user' | 'clean-env';

/** One layer of the jail and whether the shards have it. */
export interface JailLayer {
  layer: JailLayerName;
  on: boolean;
  /** Why it is off. */
  why?: string;
}

/** The layers in the order docs/security.md describes them. */
export const JAIL_LAYERS: readonly JailLayerName[] = [
  'user-ns', 'mount-ns', 'pid-ns', 'net-ns', 'ipc-ns', 'uts-ns',
  'no-new-privs', 'no-capabilities', 'filesystem', 'seccomp',
  'limit-open-files', 'limit-processes', 'no-core-dumps', 'host-user', 'clean-env',
];

/** Environment variables the shard's host code reads (src/host/prepare.ts); nothing else crosses. */
const PASSED_ENV = ['NANOVISOR_SNAPSHOT', 'NANOVISOR_INTERRUPTS'] as const;

/** Descriptors the shard closes as it starts (worker.ts): ones it inherited but should not hold. */
export const CLOSE_FDS = 'NANOVISOR_CLOSE_FDS';

/** Inside the user namespace when the host user is root: an ordinary uid, never 0 (uid 0 there holds every capability over the namespace). */
const INNER_ID = 65534;

/** The unprivileged host user a root supervisor starts shards as by default ("nobody" on Debian). */
const NOBODY = 65534;

/** What the machine allows, found once per process (and host user). */
export interface JailProbe {
  bwrap: string | undefined;
  prlimit: string | undefined;
  /** bwrap starts with a user namespace (--unshare-user). */
  userNs: boolean;
  /** bwrap starts at all (the other namespaces, the view, no_new_privs). */
  sandbox: boolean;
  /** bwrap accepts our seccomp program. */
  seccomp: boolean;
  /** bwrap can forbid new user namespaces inside (--disable-userns, bwrap 0.8). */
  disableUserNs: boolean;
  /** Why a layer is off, by layer. */
  why: Partial<Record<JailLayerName, string>>;
  /** The Node binary and its libraries, as [host real path, path in the jail]. */
  nodeFiles: Array<[string, string]>;
}

/** The layers bwrap gives; all off without it. */
const SANDBOX_LAYERS = ['user-ns', 'mount-ns', 'pid-ns', 'net-ns', 'ipc-ns', 'uts-ns', 'no-new-privs', 'no-capabilities', 'filesystem', 'seccomp'] as const;

const probes = new Map<string, Promise<JailProbe>>();

function which(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The Node binary and the shared libraries it loads (ldd), as [host real path, path in the jail]. */
async function ldd(node: string): Promise<Array<[string, string]>> {
  const real = realpathSync(node);
  const files: Array<[string, string]> = [[real, real]];
  const out = await new Promise<string>((res) => {
    execFile('ldd', [real], { timeout: 5000 }, (err, stdout) => res(err === null ? stdout : ''));
  });
  for (const m of out.matchAll(/(?:^|\s)(\/[^\s]+)\s+\(0x/gm)) {
    const p = m[1]!;
    if (existsSync(p)) files.push([realpathSync(p), p]);
  }
  if (files.length === 1) {
    // No ldd (or a static binary): the usual library directories, read-only.
    for (const d of ['/lib', '/lib64', '/usr/lib', '/usr/lib64']) if (existsSync(d)) files.push([realpathSync(d), d]);
  }
  return files;
}

interface Attempt {
  ok: boolean;
  error: string;
}

function attempt(file: string, args: readonly string[], user: ProbeOptions['user'], fd3?: Uint8Array): Promise<Attempt> {
  return new Promise((res) => {
    const child = spawn(file, args, {
      env: {}, timeout: 10_000,
      stdio: ['ignore', 'ignore', 'pipe', ...(fd3 === undefined ? [] : ['pipe' as const])],
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (e) => res({ ok: false, error: e.message }));
    child.on('close', (code, signal) => {
      res({ ok: code === 0, error: code === 0 ? '' : stderr.trim().split('\n').pop() || `exited with ${code ?? signal}` });
    });
    if (fd3 !== undefined) {
      const pipe = child.stdio[3] as NodeJS.WritableStream & { on(e: 'error', f: () => void): unknown };
      pipe.on('error', () => {});
      pipe.end(fd3);
    }
  });
}

/**
 * Finds out, once per process and host user, which layers this machine allows: whether
 * bwrap and prlimit are installed, and one run of bwrap with every namespace, the view and
 * the filter around `node --version` (then fewer, when that fails).
 */
/** Where to look, and (for tests) a user namespace to pretend the kernel refuses. */
export interface ProbeOptions {
  user?: { uid: number; gid: number };
  bwrap?: string;
  prlimit?: string;
  noUserNs?: boolean;
}

export function probeJail(options: ProbeOptions = {}): Promise<JailProbe> {
  const key = JSON.stringify(options);
  let p = probes.get(key);
  if (p === undefined) {
    p = probe(options);
    probes.set(key, p);
  }
  return p;
}

async function probe(options: ProbeOptions): Promise<JailProbe> {
  const path = process.env['PATH'];
  const bwrap = options.bwrap ?? which('bwrap', path);
  const prlimit = options.prlimit ?? which('prlimit', path);
  const why: JailProbe['why'] = {};
  const result: JailProbe = { bwrap, prlimit, userNs: false, sandbox: false, seccomp: false, disableUserNs: false, why, nodeFiles: [] };
  if (bwrap === undefined || !existsSync(bwrap)) {
    result.bwrap = undefined;
    for (const l of SANDBOX_LAYERS) why[l] = 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap';
    return result;
  }
  const files = await ldd(process.execPath);
  result.nodeFiles = files;
  const help = await new Promise<string>((res) => execFile(bwrap, ['--help'], { timeout: 5000 }, (_e, out) => res(String(out))));
  const disableUserNs = help.includes('--disable-userns');
  const root = (options.user?.uid ?? process.getuid?.()) === 0;
  const view = files.flatMap(([host, inJail]) => ['--ro-bind', host, inJail]);
  const filter = seccompFilter(process.arch);
  // --cap-drop ALL: bwrap run by root without a user namespace would otherwise keep every capability.
  const base = ['--cap-drop', 'ALL', '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent', '--new-session', '--proc', '/proc', '--dev', '/dev'];
  const node = realpathSync(process.execPath);
  const run = (userNs: boolean, withFilter: boolean): Promise<Attempt> => {
    if (userNs && options.noUserNs === true) return Promise.resolve({ ok: false, error: 'refused (probe option noUserNs)' });
    const userArgs = !userNs ? [] : ['--unshare-user', ...(disableUserNs ? ['--disable-userns'] : []), ...(root ? ['--uid', String(INNER_ID), '--gid', String(INNER_ID)] : [])];
    return attempt(bwrap, [...base, ...userArgs, ...(withFilter ? ['--seccomp', '3'] : []), ...view, node, '--version'], options.user, withFilter ? filter : undefined);
  };
  // Everything first; on failure, fewer layers, to name the one the machine refuses.
  const candidates: Array<[userNs: boolean, seccomp: boolean]> = filter === undefined
    ? [[true, false], [false, false]]
    : [[true, true], [true, false], [false, true], [false, false]];
  const failed = new Map<string, string>();
  for (const [userNs, seccomp] of candidates) {
    const r = await run(userNs, seccomp);
    if (!r.ok) {
      failed.set(`${userNs} ${seccomp}`, r.error);
      continue;
    }
    Object.assign(result, { sandbox: true, userNs, seccomp, disableUserNs: userNs && disableUserNs });
    if (!userNs) why['user-ns'] = `no user namespace: ${failed.get(`true ${filter !== undefined}`) ?? ''}`;
    if (!seccomp && filter !== undefined) why.seccomp = `bwrap refused the filter: ${failed.get(`${userNs} true`) ?? ''}`;
    break;
  }
  if (!result.sandbox) for (const l of SANDBOX_LAYERS) why[l] = `bwrap cannot start a sandbox here: ${[...failed.values()][0] ?? ''}`;
  if (filter === undefined) why.seccomp = `no system-call table for ${process.arch}`;
  return result;
}

/** The project's runtime dependencies (package.json `dependencies`), found as Node would from the code's root. */
function dependencyDirs(projectRoot: string): Array<[string, string]> {
  let deps: string[] = [];
  try {
    deps = Object.keys((JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
  } catch {
    return [];
  }
  const out: Array<[string, string]> = [];
  for (const name of deps) {
    for (let dir = projectRoot; ; dir = dirname(dir)) {
      const p = join(dir, 'node_modules', name);
      if (existsSync(p)) {
        out.push([realpathSync(p), p]);
        break;
      }
      if (dirname(dir) === dir) break;
    }
  }
  return out;
}

function checkDirs(what: string, dirs: readonly string[] | undefined): string[] {
  return (dirs ?? []).map((d) => {
    if (typeof d !== 'string' || !isAbsolute(d)) throw new NanovisorError('NV_USAGE', `jail.${what}: ${String(d)} is not an absolute path`);
    if (!existsSync(d)) throw new NanovisorError('NV_USAGE', `jail.${what}: ${d} does not exist; create it before starting the shards`);
    return resolve(d);
  });
}

function positive(what: string, n: number | undefined, dflt: number): number {
  const v = n ?? dflt;
  if (!Number.isInteger(v) || v < 1) throw new NanovisorError('NV_USAGE', `jail.limits.${what} must be a positive integer, not ${String(n)}`);
  return v;
}

/**
 * The project's code around the worker: src/ or dist/ (the worker is src/host/shards/worker.ts,
 * dist/host/shards/worker.js or dist/bundle/shard-worker.js), and the root holding package.json.
 */
function codeRoots(worker: string): { codeDir: string; projectRoot: string } {
  let codeDir = dirname(resolve(worker));
  while (basename(codeDir) !== 'src' && basename(codeDir) !== 'dist' && dirname(codeDir) !== codeDir) codeDir = dirname(codeDir);
  if (dirname(codeDir) === codeDir) codeDir = resolve(dirname(worker), '..', '..');
  return { codeDir, projectRoot: dirname(codeDir) };
}

/** Whether a host user (no supplementary groups: the shard has none) may do `bits` (4 r, 2 w, 1 x) on a file, by its mode. */
function permits(st: { mode: number; uid: number; gid: number }, uid: number, gid: number, bits: number): boolean {
  const cls = st.uid === uid ? (st.mode >> 6) & 7 : st.gid === gid ? (st.mode >> 3) & 7 : st.mode & 7;
  return (cls & bits) === bits;
}

/**
 * What a host user could not do in the view: read a file of it (every file of the code's
 * and the dependencies' trees, walked), search a directory on the way, write a `readWrite`
 * grant; undefined when it can do everything.
 */
function deniedTo(uid: number, gid: number, view: { files: string[]; trees: string[]; writable: string[] }): string | undefined {
  const check = (path: string, bits: number): string | undefined => {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return undefined; // absent: not bound either
    }
    const parts = real.split(sep).filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const dir = sep + parts.slice(0, i).join(sep);
      if (!permits(statSync(dir), uid, gid, 1)) return `search ${dir}`;
    }
    const st = statSync(real);
    const want = bits | (st.isDirectory() ? 1 : 0);
    return permits(st, uid, gid, want) ? undefined : `${bits & 2 ? 'write' : 'read'} ${real}`;
  };
  for (const f of view.files) {
    const why = check(f, 4);
    if (why !== undefined) return why;
  }
  for (const t of view.trees) {
    const why = check(t, 4);
    if (why !== undefined) return why;
    for (const e of readdirSync(t, { withFileTypes: true, recursive: true })) {
      const p = join(e.parentPath, e.name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue; // a dangling symlink
      }
      if (!permits(st, uid, gid, st.isDirectory() ? 5 : 4)) return `read ${p}`;
    }
  }
  for (const w of view.writable) {
    const why = check(w, 6);
    if (why !== undefined) return why;
  }
  return undefined;
}

/**
 * Descriptors this process holds without close-on-exec (inherited from whatever started it:
 * our own are all close-on-exec), other than the ones a shard's stdio replaces: a shard would
 * inherit them through prlimit and bwrap, which close nothing. The shard closes these first.
 */
function strayDescriptors(replaced: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (!(fd >= replaced)) continue;
    try {
      const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0) out.push(fd);
    } catch {
      // closed meanwhile (the directory's own descriptor)
    }
  }
  return out;
}

/** bwrap's flags, up to and including the `--` before the command. */
function sandboxArgs(p: JailProbe, o: { hostUid: number; worker: string; readOnly: string[]; readWrite: string[]; filter: boolean }): string[] {
  const { codeDir, projectRoot } = codeRoots(o.worker);
  const args = ['--cap-drop', 'ALL', '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try'];
  if (p.userNs) args.push('--unshare-user', ...(p.disableUserNs ? ['--disable-userns'] : []), ...(o.hostUid === 0 ? ['--uid', String(INNER_ID), '--gid', String(INNER_ID)] : []));
  args.push('--die-with-parent', '--new-session', '--hostname', 'nanovisor-shard');
  // The private /tmp first: mounted after the code it would hide code that lives under /tmp
  // (a project installed in a temporary directory: its shards found no worker.js).
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  for (const [host, inJail] of p.nodeFiles) args.push('--ro-bind', host, inJail);
  args.push('--ro-bind', codeDir, codeDir);
  const pkg = join(projectRoot, 'package.json');
  if (existsSync(pkg)) args.push('--ro-bind', pkg, pkg);
  for (const [host, inJail] of dependencyDirs(projectRoot)) args.push('--ro-bind', host, inJail);
  // Parents before children, so a grant inside another keeps its own mode.
  const grants = [...o.readOnly.map((d) => ['--ro-bind', d, d]), ...o.readWrite.map((d) => ['--bind', d, d])];
  for (const g of grants.sort((a, b) => a[1]!.split(sep).length - b[1]!.split(sep).length)) args.push(...g);
  // The root itself is bwrap's tmpfs: read-only once everything is mounted on it (not recursive: /tmp and the grants keep their modes).
  args.push('--remount-ro', '/');
  const cwd = process.cwd();
  const inView = [codeDir, ...o.readOnly, ...o.readWrite].some((d) => cwd === d || cwd.startsWith(d + sep));
  args.push('--chdir', inView ? cwd : '/');
  if (p.seccomp && o.filter) args.push('--seccomp', '4');
  args.push('--');
  return args;
}

/** Each layer, on or off and why, for this probe and these options. */
function describeLayers(p: JailProbe, why: JailProbe['why'], hostUid: number, wantFilter: boolean, userWhy: string | undefined): JailLayer[] {
  const noPrlimit = 'prlimit (util-linux) is not installed';
  const sandboxed = (l: JailLayerName): JailLayer => (p.sandbox && (l !== 'user-ns' || p.userNs) ? { layer: l, on: true } : { layer: l, on: false, why: why[l] ?? 'no sandbox' });
  return JAIL_LAYERS.map((l): JailLayer => {
    switch (l) {
      case 'seccomp':
        return p.sandbox && p.seccomp && wantFilter ? { layer: l, on: true } : { layer: l, on: false, why: why.seccomp ?? 'no sandbox' };
      case 'limit-open-files':
      case 'no-core-dumps':
        return p.prlimit !== undefined ? { layer: l, on: true } : { layer: l, on: false, why: noPrlimit };
      case 'limit-processes':
        if (p.prlimit === undefined) return { layer: l, on: false, why: noPrlimit };
        return hostUid !== 0 ? { layer: l, on: true } : { layer: l, on: false, why: 'the kernel does not enforce RLIMIT_NPROC for host root: set jail.user to an unprivileged uid' };
      case 'host-user':
        if (hostUid !== 0) return { layer: l, on: true };
        return { layer: l, on: false, why: `${p.userNs ? `host uid 0 without capabilities, uid ${INNER_ID} in its user namespace` : 'host root without capabilities'}${userWhy === undefined ? '' : ` (${userWhy})`}: set jail.user to an unprivileged uid that can read the view` };
      case 'clean-env':
        return { layer: l, on: true };
      case 'no-capabilities':
        // A new user namespace inside would hand capabilities back: forbidden by bwrap 0.8, or by the filter.
        if (p.sandbox && p.userNs && !p.disableUserNs && !(p.seccomp && wantFilter)) {
          return { layer: l, on: false, why: 'this bwrap cannot forbid new user namespaces (0.8 can) and the filter is off' };
        }
        return sandboxed(l);
      default:
        return sandboxed(l);
    }
  });
}

/**
 * The command line shards are forked with, built once per supervisor from the probe.
 *
 * @example
 * const jail = await Jail.create({ readOnly: ['/srv/images'] }, worker);
 * const child = fork(worker, [], { ...jail.forkOptions(['--max-old-space-size=512']), serialization: 'advanced' });
 * jail.started(child);
 * console.log(jail.layers.filter((l) => !l.on));
 */
export class Jail {
  readonly layers: JailLayer[];
  readonly #execPath: string;
  readonly #prefix: string[];
  readonly #node: string;
  readonly #filter: Uint8Array | undefined;
  readonly #user: ProbeOptions['user'];
  readonly #env: Record<string, string>;
  /** The command runs under bwrap (whose exit status stands for it). */
  readonly #sandboxed: boolean;

  private constructor(c: {
    execPath: string; prefix: string[]; node: string; filter: Uint8Array | undefined; user: ProbeOptions['user'];
    env: Record<string, string>; layers: JailLayer[]; sandboxed: boolean;
  }) {
    this.#execPath = c.execPath;
    this.#prefix = c.prefix;
    this.#node = c.node;
    this.#filter = c.filter;
    this.#user = c.user;
    this.#env = c.env;
    this.#sandboxed = c.sandboxed;
    this.layers = c.layers;
  }

  /**
   * Probes the machine (once per process) and builds the jail for shards running `worker`
   * (a file under the project's src/ or dist/).
   */
  static async create(options: JailOptions, worker: string, probeOptions: Omit<ProbeOptions, 'user'> = {}): Promise<Jail> {
    const readOnly = checkDirs('readOnly', options.readOnly);
    const readWrite = checkDirs('readWrite', options.readWrite);
    const openFiles = positive('openFiles', options.limits?.openFiles, 4096);
    const processes = positive('processes', options.limits?.processes, 4096);
    const explicit = options.user;
    if (typeof explicit === 'object' && (!Number.isInteger(explicit.uid) || !Number.isInteger(explicit.gid) || explicit.uid < 0 || explicit.gid < 0)) {
      throw new NanovisorError('NV_USAGE', 'jail.user needs a numeric uid and gid, or "self"');
    }
    if (explicit !== undefined && typeof explicit !== 'object' && explicit !== 'self') throw new NanovisorError('NV_USAGE', `jail.user: expected { uid, gid } or "self", not ${JSON.stringify(explicit)}`);
    const root = process.getuid?.() === 0;
    if (typeof explicit === 'object' && !root && (explicit.uid !== process.getuid?.() || explicit.gid !== process.getgid?.())) {
      throw new NanovisorError('NV_USAGE', `jail.user: only root can start shards as uid ${explicit.uid}; run the supervisor as root or leave jail.user out`);
    }
    let user = typeof explicit === 'object' ? explicit : undefined;
    let userWhy: string | undefined;
    if (explicit === undefined && root) {
      // As root, drop to "nobody" when it can read what the shard needs and start the sandbox as itself.
      const self = await probeJail(probeOptions);
      const { codeDir, projectRoot } = codeRoots(worker);
      const denied = deniedTo(NOBODY, NOBODY, {
        files: [...self.nodeFiles.map(([host]) => host), join(projectRoot, 'package.json'), ...readOnly],
        trees: [codeDir, ...dependencyDirs(projectRoot).map(([host]) => host)],
        writable: readWrite,
      });
      if (denied !== undefined) {
        userWhy = `uid ${NOBODY} cannot ${denied}`;
      } else if (self.sandbox) {
        const asNobody = await probeJail({ user: { uid: NOBODY, gid: NOBODY }, ...probeOptions });
        if (asNobody.sandbox && asNobody.userNs === self.userNs && asNobody.seccomp === self.seccomp) user = { uid: NOBODY, gid: NOBODY };
        else userWhy = `as uid ${NOBODY} the sandbox loses layers: ${asNobody.why['user-ns'] ?? asNobody.why.seccomp ?? ''}`;
      } else {
        user = { uid: NOBODY, gid: NOBODY };
      }
    }
    const p = await probeJail({ ...(user === undefined ? {} : { user }), ...probeOptions });
    const hostUid = user?.uid ?? process.getuid?.() ?? 0;
    const why = { ...p.why };
    const wantFilter = options.seccomp !== false;
    if (!wantFilter) why.seccomp = 'turned off (jail.seccomp: false)';

    const node = realpathSync(process.execPath);
    const args = p.sandbox ? sandboxArgs(p, { hostUid, worker, readOnly, readWrite, filter: wantFilter }) : [];
    const limits = [`--nofile=${openFiles}:${openFiles}`, `--nproc=${processes}:${processes}`, '--core=0:0', '--'];
    // prlimit execs bwrap, which runs node: the limits hold for all three and everything node starts.
    const [execPath, prefix] = p.prlimit !== undefined ? [p.prlimit, [...limits, ...(p.sandbox ? [p.bwrap!, ...args] : [])]]
      : p.sandbox ? [p.bwrap!, args]
        : ['', []];
    const env: Record<string, string> = {};
    for (const name of PASSED_ENV) {
      const v = process.env[name];
      if (v !== undefined) env[name] = v;
    }
    const layers = describeLayers(p, why, hostUid, wantFilter, userWhy);
    const filter = p.seccomp && wantFilter && p.sandbox ? seccompFilter(process.arch) : undefined;
    // 0-2 stdio, 3 the IPC channel, 4 the filter: replaced in the shard, never inherited as they are here.
    const stray = strayDescriptors(filter === undefined ? 4 : 5);
    if (stray.length > 0) env[CLOSE_FDS] = stray.join(',');
    return new Jail({ execPath, prefix, node, filter, user, env, layers, sandboxed: p.sandbox });
  }

  /**
   * Options for `child_process.fork(worker, [], ...)`; add `serialization`. fork runs
   * `execPath ...execArgv worker`, that is `prlimit ... -- bwrap ... -- node <nodeArgs> worker`;
   * the IPC channel is an inherited descriptor (fd 3) that prlimit and bwrap pass on, and
   * fork adds its number to the (otherwise empty) environment.
   */
  forkOptions(nodeArgs: readonly string[]): ForkOptions {
    const { file, args } = this.command([this.#node, ...nodeArgs]);
    return {
      execPath: file,
      execArgv: args,
      env: this.#env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...(this.#filter === undefined ? [] : ['pipe' as const])],
      ...(this.#user === undefined ? {} : { uid: this.#user.uid, gid: this.#user.gid }),
    };
  }

  /**
   * Any program in the same jail (for tests and tools): `spawn(file, args, options)`, then
   * `started(child)`. The program and its libraries must lie in the view.
   */
  command(argv: readonly string[]): { file: string; args: string[]; options: SpawnOptions } {
    const options: SpawnOptions = {
      env: this.#env,
      // fd 3 is the shard's IPC channel; here a placeholder, so the filter stays on fd 4.
      stdio: ['ignore', 'pipe', 'pipe', 'ignore', ...(this.#filter === undefined ? [] : ['pipe' as const])],
      ...(this.#user === undefined ? {} : { uid: this.#user.uid, gid: this.#user.gid }),
    };
    if (this.#execPath === '') return { file: argv[0]!, args: argv.slice(1), options };
    return { file: this.#execPath, args: [...this.#prefix, ...argv], options };
  }

  /**
   * How the shard's Node ended, from how the process the supervisor forked ended: bwrap
   * exits with 128 + N when its command was killed by signal N.
   */
  exitStatus(code: number | null, signal: NodeJS.Signals | null): [number | null, NodeJS.Signals | null] {
    if (this.#sandboxed && code !== null && code > 128) {
      const name = Object.entries(osConstants.signals).find(([, n]) => n === code - 128)?.[0];
      if (name !== undefined) return [null, name as NodeJS.Signals];
    }
    return [code, signal];
  }

  /** Feeds the freshly forked process what it reads at start (the filter, on fd 4). */
  started(child: ChildProcess): void {
    if (this.#filter === undefined) return;
    const pipe = child.stdio[4] as (NodeJS.WritableStream & { on(e: 'error', f: (e: Error) => void): unknown }) | null | undefined;
    if (pipe == null) return;
    // A process that dies before reading it fails through its exit, not here.
    pipe.on('error', () => {});
    pipe.end(this.#filter);
  }
}

/**
 * The host pid of the jailed Node process under a shard's pid (bwrap → bwrap as the pid
 * namespace's init → node), from /proc; the pid itself when it is not jailed.
 */
export function jailedPid(pid: number): number {
  let current = pid;
  for (let depth = 0; depth < 4; depth++) {
    const comm = readFileSync(`/proc/${current}/comm`, 'utf8').trim();
    if (comm !== 'bwrap' && comm !== 'prlimit') return current;
    const kids = readdirSync(`/proc/${current}/task`).flatMap((t) =>
      readFileSync(`/proc/${current}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    if (kids.length === 0) return current;
    current = kids[0]!;
  }
  return current;
}
