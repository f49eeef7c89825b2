/**
 * What a volume is called and how it may be shared, stated once: the manifest's
 * `mounts[].volume`, the API's volumes and app `volumes[]`, `deploy --volume` and
 * `run --volume` all use these (docs/volumes.md).
 */
import * as z from 'zod/v4';

/** Volume names: lower-case DNS labels, as app names. */
export const VOLUME_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const VOLUME_NAME_HINT = 'must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit';
export const volumeName = z.string().regex(VOLUME_NAME, { message: VOLUME_NAME_HINT });

/**
 * `shared`: VMs mounting the volume run at once (POSIX-like, atomic rename). `exclusive`: the
 * VMs that mount it are admitted one at a time, read-only mounts included.
 */
export const ACCESS_MODES = ['shared', 'exclusive'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];
export const accessMode = z.enum(ACCESS_MODES, { message: 'must be "shared" or "exclusive"' });

/** An absolute guest path without `.`/`..` components or NUL. */
export const volumeGuestPath = z.string().refine(
  (p) => p.startsWith('/') && p.length > 1 && !p.includes('\0') && !p.split('/').some((c) => c === '.' || c === '..'),
  { message: 'must be an absolute guest path other than "/", without "." or ".." (e.g. "/data")' },
);

/** A volume at a guest path: an app's `volumes[]` entry, `deploy --volume NAME:/guest[:ro]`. */
export interface VolumeMount {
  volume: string;
  guest: string;
  /** Default false: an attached volume is read-write unless it says `:ro`. */
  readonly?: boolean;
}

/**
 * `NAME:/guest[:ro|:rw]` (`deploy --volume`, `run --volume`) into a VolumeMount; undefined
 * when it does not have that form (the caller names the flag in its error).
 *
 * @example
 * parseVolumeFlag('counter:/data:ro'); // { volume: 'counter', guest: '/data', readonly: true }
 */
export function parseVolumeFlag(text: string): VolumeMount | undefined {
  const m = /^([^:]+):(\/[^:]*?)(?::(ro|rw))?$/.exec(text);
  if (m === null || !VOLUME_NAME.test(m[1]!) || !volumeGuestPath.safeParse(m[2]!).success) return undefined;
  return { volume: m[1]!, guest: m[2]!, readonly: m[3] === 'ro' };
}
