/**
 * Strict input shapes of the control plane's actions (zod `strictObject`): an unknown field is
 * refused by its name, and every problem is reported as `field: problem` in one
 * NV_API_BAD_REQUEST error. Creating and updating an app have separate shapes (PATCH changes
 * only what it names). docs/serve.md and src/api/openapi.ts describe the same shapes.
 */
import { outboundSchema } from '../shared/outbound.ts';
import * as z from 'zod/v4';
import { LIMIT_MAXIMA, type LimitName } from '../host/options.ts';
import { NanovisorError } from '../shared/errors.ts';
import { routeSchema } from '../shared/routes.ts';
import { describeIssue, fieldPath } from '../shared/schema-problems.ts';
import { accessMode, volumeGuestPath, volumeName } from '../shared/volumes.ts';
import { formatBytes, formatMs } from '../shared/units.ts';

/** App names: lower-case DNS labels, so they fit in image tags, host names and log lines. */
export const APP_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const APP_NAME_HINT = 'must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const appName = z.string().regex(APP_NAME, { message: APP_NAME_HINT });

/** The one route schema (manifest, API and gateway share it): src/shared/routes.ts. */
export { routeSchema };

const routes = z.array(routeSchema).min(1, { message: 'must hold at least one route' }).max(64, { message: 'at most 64 routes' });
const envName = z.string().regex(ENV_NAME, { message: 'environment names are letters, digits and "_", not starting with a digit' });
const envValue = z.string().refine((v) => !v.includes('\0'), { message: 'must not contain NUL' });
const env = z.record(envName, envValue);

const positiveInt = z.number().int({ message: 'must be an integer' }).positive({ message: 'must be positive' });
const nonNegativeInt = z.number().int({ message: 'must be an integer' }).nonnegative({ message: 'must not be negative' });

/** `must be at most 900000 (15 min)`: the maximum of LIMIT_MAXIMA, as a number and as people read it. */
function atMost(limit: LimitName, unit: 'bytes' | 'ms' | 'count'): { message: string } {
  const max = LIMIT_MAXIMA[limit];
  const readable = unit === 'bytes' ? ` (${formatBytes(max)})` : unit === 'ms' ? ` (${formatMs(max)})` : '';
  return { message: `must be at most ${max}${readable}` };
}

/** Per-app limits; each one left out takes the image's value or the daemon default. Maxima: LIMIT_MAXIMA. */
export const limitsSchema = z.strictObject({
  memoryBytes: positiveInt.max(LIMIT_MAXIMA.memoryBytes, atMost('memoryBytes', 'bytes')).optional(),
  timeoutMs: positiveInt.max(LIMIT_MAXIMA.timeoutMs, atMost('timeoutMs', 'ms')).optional(),
  concurrency: positiveInt.max(LIMIT_MAXIMA.concurrency, atMost('concurrency', 'count')).optional(),
  queue: nonNegativeInt.max(LIMIT_MAXIMA.queue, atMost('queue', 'count')).optional(),
  maxBodyBytes: nonNegativeInt.max(LIMIT_MAXIMA.maxBodyBytes, atMost('maxBodyBytes', 'bytes')).optional(),
});
export type AppLimits = z.output<typeof limitsSchema>;

/** Defaults and maxima of a volume's quotas (docs/volumes.md). */
export const VOLUME_QUOTAS = {
  defaultBytes: 1024 * 1024 * 1024,
  defaultFiles: 100_000,
  /** 1 PiB. */
  maxBytes: 2 ** 50,
  maxFiles: 1_000_000_000,
} as const;

const quotaBytes = positiveInt.max(VOLUME_QUOTAS.maxBytes, { message: `must be at most ${VOLUME_QUOTAS.maxBytes} (1 PiB)` });
const quotaFiles = positiveInt.max(VOLUME_QUOTAS.maxFiles, { message: `must be at most ${VOLUME_QUOTAS.maxFiles}` });

/** `POST /v1/volumes`. Without `hostPath` the volume lives in `<data>/volumes/<name>`. */
export const createVolumeSchema = z.strictObject({
  name: volumeName,
  quotaBytes: quotaBytes.optional(),
  quotaFiles: quotaFiles.optional(),
  access: accessMode.optional(),
  hostPath: z.string().min(1, { message: 'must not be empty' }).optional(),
});
export type CreateVolumeInput = z.output<typeof createVolumeSchema>;

/** `PATCH /v1/volumes/{name}`: quotas (resize) and access mode; what it leaves out stays. */
export const updateVolumeSchema = z.strictObject({
  quotaBytes: quotaBytes.optional(),
  quotaFiles: quotaFiles.optional(),
  access: accessMode.optional(),
});
export type UpdateVolumeInput = z.output<typeof updateVolumeSchema>;

/** `POST /v1/volumes/{name}/snapshots`; without a name, one is made from the time (`s20260102030405123`). */
export const snapshotSchema = z.strictObject({ name: volumeName.optional() });

/** `POST /v1/volumes/{name}/restore`: a snapshot of the volume, over it or into a new volume `into`. */
export const restoreSchema = z.strictObject({ snapshot: volumeName, into: volumeName.optional() });

/** An app's `volumes[]` entry: a volume at a guest path, read-write unless `readonly`. */
export const appVolumeSchema = z.strictObject({
  volume: volumeName,
  guest: volumeGuestPath,
  readonly: z.boolean().optional(),
});
const appVolumes = z.array(appVolumeSchema).max(16, { message: 'at most 16 volumes' });

/** `POST /v1/apps`. */
export const createAppSchema = z.strictObject({
  name: appName,
  routes,
  env: env.optional(),
  secrets: env.optional(),
  limits: limitsSchema.optional(),
  volumes: appVolumes.optional(),
  /** Overrides the manifest's `outbound` (docs/manifest.md#outbound). */
  outbound: outboundSchema.optional(),
});
export type CreateAppInput = z.output<typeof createAppSchema>;

/**
 * `PATCH /v1/apps/{name}`: `routes`, `env` and `volumes` replace the old ones; `secrets` and `limits` are
 * merged by key, where `null` removes a secret or resets a limit to its default.
 */
export const updateAppSchema = z.strictObject({
  routes: routes.optional(),
  /** Replaces the app's outbound; `null`: back to the manifest's. */
  outbound: outboundSchema.nullable().optional(),
  env: env.optional(),
  volumes: appVolumes.optional(),
  secrets: z.record(envName, envValue.nullable()).optional(),
  limits: z.strictObject({
    memoryBytes: limitsSchema.shape.memoryBytes.nullable(),
    timeoutMs: limitsSchema.shape.timeoutMs.nullable(),
    concurrency: limitsSchema.shape.concurrency.nullable(),
    queue: limitsSchema.shape.queue.nullable(),
    maxBodyBytes: limitsSchema.shape.maxBodyBytes.nullable(),
  }).optional(),
});
export type UpdateAppInput = z.output<typeof updateAppSchema>;

/** `POST /v1/apps/{name}/versions`. */
export const deploySchema = z.strictObject({
  image: z.string().min(1, { message: 'must name an image: a digest, 6+ hex digits of one, or NAME[:TAG]' }),
});

/** `POST /v1/apps/{name}/rollback`; without `version`, the one before the current. */
export const rollbackSchema = z.strictObject({
  version: positiveInt.optional(),
});

export interface FieldProblem {
  field: string;
  message: string;
}

/** Every problem of a failed parse, one per field; unknown keys become `x: unknown field`. */
export function problemsOf(error: z.ZodError): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push({ field: fieldPath([...issue.path, k]), message: 'unknown field' });
    } else {
      out.push({ field: fieldPath(issue.path) || '(body)', message: describeIssue(issue) });
    }
  }
  return out;
}

/**
 * Parses `value` with `schema` or throws NV_API_BAD_REQUEST naming each bad field.
 *
 * @example
 * const input = parseInput(createAppSchema, JSON.parse(body), 'body');
 * // { routes: "x" } -> NV_API_BAD_REQUEST "body: name: is required; routes: expected array, got string"
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.output<S> {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  const problems = problemsOf(r.error);
  throw new NanovisorError('NV_API_BAD_REQUEST', `${what}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, {
    details: { problems },
  });
}
