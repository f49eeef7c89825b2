/**
 * The app manifest, `nanovisor.json`: what goes into an image besides the module (args, env,
 * files, mounts, limits, routes). A strict schema: unknown fields are refused by name, and
 * every problem is reported as `path: problem` in one NV_MANIFEST_INVALID error.
 * docs/manifest.md documents each field; keep the two in step.
 */
import { z } from 'zod';
import { DEFAULT_MAX_OUTPUT, DEFAULT_MEMORY_LIMIT, DEFAULT_WRITABLE_LAYER, LIMIT_MAXIMA } from '../host/options.ts';
import { NanovisorError } from '../shared/errors.ts';
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
function bounded(max: number, unit: 'bytes' | 'ms') {
  return positiveInt.max(max, { message: `must be at most ${max} (${unit === 'bytes' ? formatBytes(max) : formatMs(max)})` });
}

const limits = z.strictObject({
  memoryBytes: bounded(LIMIT_MAXIMA.memoryBytes, 'bytes').default(DEFAULT_LIMITS.memoryBytes),
  timeoutMs: bounded(LIMIT_MAXIMA.timeoutMs, 'ms').default(DEFAULT_LIMITS.timeoutMs),
  maxOutputBytes: bounded(LIMIT_MAXIMA.maxOutputBytes, 'bytes').default(DEFAULT_LIMITS.maxOutputBytes),
  writableLayerBytes: bounded(LIMIT_MAXIMA.writableLayerBytes, 'bytes').default(DEFAULT_LIMITS.writableLayerBytes),
});

/** Routes are the one route schema the API and the gateway use too. */
const route = routeSchema;

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
  version: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$/, { message: 'must be a tag: letters, digits, "_", ".", "-" (at most 128)' }).optional(),
  module: appPath,
  entry: z.string().min(1, { message: 'must not be empty' }).default('_start'),
  args: z.array(z.string()).default([]),
  env: z.record(envName, z.string()).default({}),
  files: z.array(file).default([]),
  mounts: z.array(mount).default([]),
  limits: limits.default({ ...DEFAULT_LIMITS }),
  routes: z.array(route).default([]),
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
  if (result.success) return result.data;
  const problems = problemsOf(result.error);
  throw new NanovisorError('NV_MANIFEST_INVALID', `${source}: ${problems.map((p) => p.message).join('; ')}`, {
    details: { source, problems },
  });
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
