/**
 * The app manifest, `nanovisor.json`: what goes into an image besides the module (args, env,
 * files, mounts, limits, routes). A strict schema: unknown fields are refused by name, and
 * every problem is reported as `path: problem` in one NV_MANIFEST_INVALID error.
 * docs/manifest.md documents each field; keep the two in step.
 */
// A namespace import everywhere (not `{ z } from 'zod'`): the bundle then leaves out what is
// unused, zod's 60 locales among it (~12 ms of every start; test/startup.test.ts).
import * as z from 'zod/v4';
import { DEFAULT_MAX_OUTPUT, DEFAULT_MEMORY_LIMIT, DEFAULT_WRITABLE_LAYER, LIMIT_MAXIMA } from '../host/options.ts';
import { NanovisorError } from '../shared/errors.ts';
import { outboundSchema } from '../shared/outbound.ts';
import { routeSchema } from '../shared/routes.ts';
import { describeIssue, fieldPath } from '../shared/schema-problems.ts';
import { volumeName } from '../shared/volumes.ts';
import { formatBytes, formatMs } from '../shared/units.ts';

/** Defaults a manifest gets for the limits it leaves out. */
export const DEFAULT_LIMITS = {
  memoryBytes: DEFAULT_MEMORY_LIMIT,
  timeoutMs: 30_000,
  maxOutputBytes: DEFAULT_MAX_OUTPUT,
  writableLayerBytes: DEFAULT_WRITABLE_LAYER,
} as const;

export const MAX_MEMORY_BYTES = LIMIT_MAXIMA.memoryBytes;
/** Most processes a linux sandbox may be allowed (`limits.processes`). */
export const MAX_PROCESSES = 4096;
/** Processes of a linux sandbox when the manifest sets none. */
export const DEFAULT_PROCESSES = 64;

/** Longest idle timeout of a server app (`server.idleTimeoutMs`): one day. */
export const MAX_IDLE_TIMEOUT_MS = 86_400_000;

export const NAME_PATTERN = /^[a-z0-9][a-z0-9\-_.]*$/;

/** An absolute guest path without `.`/`..` components or NUL. */
const guestPath = z.string().refine(
  (p) => p.startsWith('/') && !p.includes('\0') && !p.split('/').some((c) => c === '.' || c === '..'),
  { message: 'must be an absolute guest path without "." or ".." (e.g. "/etc/app.conf")' },
);

/** A relative host path inside the app directory (confinement is checked again at build). */
const appPath = z.string().min(1, { message: 'must not be empty' }).refine(
  (p) => !p.startsWith('/') && !p.includes('\0') && !p.split(/[/\\]/).includes('..'),
  { message: 'must be a relative path inside the app directory, without ".."' },
);

const positiveInt = z.number().int({ message: 'must be an integer' }).positive({ message: 'must be positive' });

const file = z.strictObject({
  from: appPath,
  to: guestPath,
});

/**
 * A mount point; `volume` names a volume of the daemon (docs/volumes.md) that fills it in
 * every VM of an app deployed from the image; without one, a runner fills it (`run --dir`).
 */
const mount = z.strictObject({
  guest: guestPath,
  readonly: z.boolean().default(true),
  volume: volumeName.optional(),
});

/** A positive integer at most `max`; the message names the maximum in bytes or time too. */
function bounded(max: number, unit: 'bytes' | 'ms' | 'count') {
  return positiveInt.max(max, { message: unit === 'count' ? `must be at most ${max}` : `must be at most ${max} (${unit === 'bytes' ? formatBytes(max) : formatMs(max)})` });
}

const limits = z.strictObject({
  memoryBytes: bounded(LIMIT_MAXIMA.memoryBytes, 'bytes').default(DEFAULT_LIMITS.memoryBytes),
  timeoutMs: bounded(LIMIT_MAXIMA.timeoutMs, 'ms').default(DEFAULT_LIMITS.timeoutMs),
  maxOutputBytes: bounded(LIMIT_MAXIMA.maxOutputBytes, 'bytes').default(DEFAULT_LIMITS.maxOutputBytes),
  writableLayerBytes: bounded(LIMIT_MAXIMA.writableLayerBytes, 'bytes').default(DEFAULT_LIMITS.writableLayerBytes),
  /** Most processes (and threads) in a linux sandbox; linux driver only. */
  processes: bounded(MAX_PROCESSES, 'count').optional(),
});

/** Routes are the one route schema the API and the gateway use too. */
const route = routeSchema;

/** The two drivers: `wasi` (a Nano-VM on our kernel) and `linux` (an unmodified program under gVisor). */
export const DRIVERS = ['wasi', 'linux'] as const;
export type Driver = (typeof DRIVERS)[number];

/**
 * Where a linux image's root filesystem comes from: exactly one of a directory (the tree as
 * it is, symlinks kept), a static binary (placed at `/app`), or an OCI image (a tarball of
 * an OCI layout or of `docker save`, or a layout directory).
 */
const rootfs = z.strictObject({
  dir: appPath.optional(),
  binary: appPath.optional(),
  oci: appPath.optional(),
}).check((ctx) => {
  const given = (['dir', 'binary', 'oci'] as const).filter((k) => ctx.value[k] !== undefined);
  if (given.length !== 1) ctx.issues.push({ code: 'custom', path: [], message: `give exactly one of "dir", "binary" or "oci" (got ${given.length === 0 ? 'none' : given.map((g) => `"${g}"`).join(', ')})`, input: ctx.value });
});

/**
 * A long-running server app: the platform starts an instance, waits until it is ready, and the
 * gateway proxies requests to it (docs/server-apps.md). `port` is the TCP port the program
 * listens on inside its sandbox (linux driver; a wasi server has no port: it accepts on the
 * listening socket preopened as fd 3). `ready` is the readiness probe: `{ "http": "/path" }`
 * (an HTTP GET answered with any status below 500; linux only) or `{ "tcp": true }` (the port
 * accepts; for wasi: the server waits in sock_accept), default tcp. `idleTimeoutMs`: after this
 * long without a request the instance is put to sleep (scale to zero) and woken by the next
 * request, which waits buffered meanwhile; absent, it stays awake.
 */
const server = z.strictObject({
  port: z.number().int({ message: 'must be an integer' }).min(1, { message: 'must be 1..65535' }).max(65535, { message: 'must be 1..65535' }).optional(),
  ready: z.strictObject({
    http: z.string().regex(/^\/[\x21-\x7e]*$/, { message: 'must be a request path starting with "/" (visible ASCII, no spaces)' }).optional(),
    tcp: z.literal(true, { message: 'must be true' }).optional(),
  }).check((ctx) => {
    if ((ctx.value.http === undefined) === (ctx.value.tcp === undefined)) ctx.issues.push({ code: 'custom', path: [], message: 'give exactly one of "http" or "tcp"', input: ctx.value });
  }).default({ tcp: true }),
  readyTimeoutMs: bounded(LIMIT_MAXIMA.timeoutMs, 'ms').default(10_000),
  idleTimeoutMs: bounded(MAX_IDLE_TIMEOUT_MS, 'ms').optional(),
});

const envName = z.string().regex(/^[^=\0]+$/, { message: 'environment names must be non-empty and contain no "=" or NUL' });

/**
 * How the module is compiled from the app's sources: a command (argv, no shell) that
 * `nanovisor build` and `nanovisor deploy DIR` run in the app directory on the user's machine
 * before sealing. Never run by the daemon, never sealed into the image.
 */
const buildStep = z.strictObject({
  command: z.array(z.string().min(1, { message: 'must not be empty' })).min(1, { message: 'must name a program' }),
});

/** The schema of `nanovisor.json`. */
export const ManifestSchema = z.strictObject({
  name: z.string().regex(NAME_PATTERN, { message: 'must match [a-z0-9][a-z0-9-_.]* (lower case)' }),
  /** Absent means `wasi` (kept absent, so a WebAssembly image's digest does not change). */
  driver: z.enum(DRIVERS, { message: 'must be "wasi" or "linux"' }).optional(),
  version: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$/, { message: 'must be a tag: letters, digits, "_", ".", "-" (at most 128)' }).optional(),
  /** The WebAssembly module (wasi driver; it or `script` is required there, refused for linux). */
  module: appPath.optional(),
  /**
   * A JavaScript or TypeScript entry (wasi driver, instead of `module`): bundled and compiled
   * into a wasi:http/proxy component at build (docs/javascript.md).
   */
  script: appPath.optional(),
  /** The root filesystem (linux driver; required there, refused for wasi). */
  rootfs: rootfs.optional(),
  server: server.optional(),
  entry: z.string().min(1, { message: 'must not be empty' }).default('_start'),
  args: z.array(z.string()).default([]),
  env: z.record(envName, z.string()).default({}),
  files: z.array(file).default([]),
  mounts: z.array(mount).default([]),
  limits: limits.default({ ...DEFAULT_LIMITS }),
  routes: z.array(route).default([]),
  /** Who the app may call over HTTP (docs/components.md "Outbound HTTP"); absent: no one. */
  outbound: outboundSchema.optional(),
  snapshot: z.strictObject({ initialize: z.boolean().optional() }).optional(),
  build: buildStep.optional(),
});

/** A manifest with every default applied. */
export type Manifest = z.output<typeof ManifestSchema>;
/** A manifest as written in `nanovisor.json` (defaults not yet applied). */
export type ManifestInput = z.input<typeof ManifestSchema>;

export interface ManifestProblem {
  path: string;
  message: string;
}

function problemsOf(error: z.ZodError): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  for (const issue of error.issues) {
    const path = fieldPath(issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const full = path === '' ? key : `${path}.${key}`;
          out.push({ path: full, message: `unknown field "${full}"` });
        }
        break;
      default:
        out.push({ path: path || '(root)', message: `${path || '(root)'}: ${describeIssue(issue)}` });
    }
  }
  return out;
}

/**
 * Validates a parsed `nanovisor.json` and applies defaults. `source` names it in messages
 * (a file path, or `manifest`).
 *
 * @example
 * parseManifest({ name: 'hello', module: 'hello.wasm' }, 'nanovisor.json').limits.timeoutMs; // 30000
 * parseManifest({ name: 'x', module: 'x.wasm', limits: { memroy: 1 } }, 'manifest');
 * // throws NV_MANIFEST_INVALID: manifest: unknown field "limits.memroy"
 */
export function parseManifest(json: unknown, source: string): Manifest {
  const result = ManifestSchema.safeParse(json, { reportInput: true });
  const problems = result.success ? [] : problemsOf(result.error);
  problems.push(...driverProblems(json));
  if (result.success && problems.length === 0) return result.data;
  throw new NanovisorError('NV_MANIFEST_INVALID', `${source}: ${problems.map((p) => p.message).join('; ')}`, {
    details: { source, problems },
  });
}

/** Fields one driver needs and the other refuses by name (read from the raw input, before defaults). */
function driverProblems(json: unknown): ManifestProblem[] {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return [];
  const m = json as Record<string, unknown>;
  const out: ManifestProblem[] = [];
  const refuse = (path: string, why: string): void => void out.push({ path, message: `${path}: ${why}` });
  const limits = m['limits'] !== null && typeof m['limits'] === 'object' ? m['limits'] as Record<string, unknown> : {};
  const srv = m['server'] !== null && typeof m['server'] === 'object' ? m['server'] as Record<string, unknown> : undefined;
  if (m['driver'] === 'linux') {
    if (m['module'] !== undefined) refuse('module', 'a linux app has no module; its program is args[0] in its rootfs');
    if (m['script'] !== undefined) refuse('script', 'a linux app has no script; its program is args[0] in its rootfs');
    if (m['entry'] !== undefined && m['entry'] !== '_start') refuse('entry', 'not used by the linux driver (the program is args[0])');
    if (m['snapshot'] !== undefined) refuse('snapshot', 'not used by the linux driver');
    if (m['mounts'] !== undefined && Array.isArray(m['mounts']) && m['mounts'].length > 0) refuse('mounts', 'not implemented yet for the linux driver');
    const r = m['rootfs'];
    if (r !== null && typeof r === 'object' && (r as Record<string, unknown>)['oci'] !== undefined) refuse('rootfs.oci', 'OCI image roots are not implemented yet: unpack the image into a directory and use rootfs.dir');
    if (r === undefined) refuse('rootfs', 'is required for the linux driver ({ "dir": ... }, { "binary": ... } or { "oci": ... })');
    if (srv !== undefined && srv['port'] === undefined) refuse('server.port', 'is required for a linux server (the TCP port it listens on in its sandbox)');
    if (m['outbound'] !== undefined) refuse('outbound', 'not implemented for the linux driver (its sandbox has no network)');
  } else if (m['driver'] === undefined || m['driver'] === 'wasi') {
    if (m['module'] === undefined && m['script'] === undefined) refuse('module', 'is required (or "script", a JavaScript or TypeScript entry)');
    if (m['module'] !== undefined && m['script'] !== undefined) refuse('script', 'give either "module" or "script", not both');
    if (m['script'] !== undefined) {
      if (m['entry'] !== undefined && m['entry'] !== '_start') refuse('entry', 'not used by a script app (its handler is the script\'s fetch listener or default export)');
      if (m['snapshot'] !== undefined) refuse('snapshot', 'a script app is always pre-initialised at build (its top-level code runs once then)');
      if (m['server'] !== undefined) refuse('server', 'a script app is an HTTP handler (a fresh VM per request), not a long-running server');
    }
    if (m['rootfs'] !== undefined) refuse('rootfs', 'only a linux app has a rootfs (set "driver": "linux")');
    if (srv !== undefined && srv['port'] !== undefined) refuse('server.port', 'a wasi server has no port: it accepts on the listening socket preopened as fd 3');
    const ready = srv?.['ready'];
    if (ready !== null && typeof ready === 'object' && (ready as Record<string, unknown>)['http'] !== undefined) refuse('server.ready.http', 'not implemented for the wasi driver: a wasi server is ready when it first waits in sock_accept (ready: { "tcp": true })');
    if (srv !== undefined && m['entry'] !== undefined && m['entry'] !== '_start') refuse('entry', 'a wasi server runs from "_start"');
    if (limits['processes'] !== undefined) refuse('limits.processes', 'only the linux driver runs processes');
  }
  return out;
}

/** Parses manifest text (JSON); a syntax error is NV_MANIFEST_INVALID too. */
export function parseManifestText(text: string, source: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new NanovisorError('NV_MANIFEST_INVALID', `${source}: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return parseManifest(json, source);
}

/** The tag an image of this manifest gets: `name:version`, version defaulting to `latest`. */
export function manifestTag(m: Pick<Manifest, 'name' | 'version'>): string {
  return `${m.name}:${m.version ?? 'latest'}`;
}
