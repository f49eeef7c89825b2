/**
 * The OCI runtime spec (config.json) of one linux-driver sandbox, as a pure function so each
 * secure default is visible and tested in one place: the image's rootfs read-only, a private
 * writable layer (a tmpfs on /tmp, bounded by `writableLayerBytes`), no network (runsc
 * --network=none gives only the sandbox's own loopback), no capabilities, no_new_privs,
 * a memory limit, a process limit, only the env it is given. Server sandboxes also get the
 * relay (read-only, at /.nv/relay) and the host directory its socket lives in (/run/nv).
 */

export interface BundleOptions {
  /** Absolute path of the unpacked rootfs (shared by every sandbox of the image, read-only). */
  rootfs: string;
  /** argv; args[0] is an absolute path inside the rootfs. */
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Working directory in the sandbox. Default `/`. */
  cwd?: string;
  memoryBytes: number;
  processes: number;
  writableLayerBytes: number;
  /** Host path of the relay binary, mounted at /.nv/relay. */
  relay?: string;
  /** Host directory mounted read-write at /run/nv (the relay's socket). */
  socketDir?: string;
}

/** Where the relay and its socket directory appear inside a sandbox. */
export const RELAY_GUEST_PATH = '/.nv/relay';
export const SOCKET_GUEST_DIR = '/run/nv';
/** Directories the rootfs must have as mount points. */
export const MOUNT_POINTS = ['proc', 'tmp', 'dev', '.nv', 'run/nv'] as const;

/** Host tasks a sandbox needs for itself (sentry and gofer threads), besides its guest processes. */
export const SANDBOX_PIDS = 64;

/** PATH when the app's env sets none. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The config.json of a sandbox.
 *
 * @example
 * bundleConfig({ rootfs: '/var/nv/rootfs/ab12', args: ['/app'], env: {}, memoryBytes: 64 << 20, processes: 64, writableLayerBytes: 16 << 20 });
 */
export function bundleConfig(o: BundleOptions): Record<string, unknown> {
  const env = { PATH: DEFAULT_PATH, ...o.env };
  const mounts: Record<string, unknown>[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', `size=${o.writableLayerBytes}`] },
  ];
  if (o.relay !== undefined) mounts.push({ destination: RELAY_GUEST_PATH, type: 'bind', source: o.relay, options: ['ro', 'bind'] });
  if (o.socketDir !== undefined) mounts.push({ destination: SOCKET_GUEST_DIR, type: 'bind', source: o.socketDir, options: ['rw', 'bind'] });
  return {
    ociVersion: '1.0.0',
    process: {
      user: { uid: 0, gid: 0 },
      args: [...o.args],
      env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      cwd: o.cwd ?? '/',
      capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
      noNewPrivileges: true,
      rlimits: [
        { type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 },
      ],
    },
    root: { path: o.rootfs, readonly: true },
    hostname: 'nanovisor',
    mounts,
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
      resources: {
        memory: { limit: o.memoryBytes },
        // runsc puts the whole sandbox (its own threads, and on ptrace one stub process per
        // guest process) in this cgroup, so the guest's processes get the sandbox's share on top.
        pids: { limit: o.processes + SANDBOX_PIDS },
      },
    },
  };
}
