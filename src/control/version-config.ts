/**
 * A version is an image **and its config**: the routes, env, secrets, limits, concurrency and
 * volumes it was deployed with, recorded beside its digest (`versions.config`), so that a
 * rollback restores them and `versions` can say what changed. Secrets are recorded by
 * reference: the id of a row of `secret_revisions` (values are stored once there, never in a
 * version's config, never shown); a revision no version refers to is deleted.
 */
import type { Route } from '../shared/routes.ts';
import type { VolumeMount } from '../shared/volumes.ts';
import type { AppLimits } from './schemas.ts';
import type { OutboundPolicy } from '../shared/outbound.ts';

/** What `versions.config` holds (JSON). */
export interface VersionConfig {
  routes: Route[];
  env: Record<string, string>;
  /** Secret name -> id in `secret_revisions`. */
  secrets: Record<string, number>;
  /** The app's limits but concurrency (which has its own column on apps). */
  limits: Omit<AppLimits, 'concurrency'>;
  concurrency: number | null;
  volumes: VolumeMount[];
  /** The app's own outbound policy (null or absent: the manifest's). */
  outbound?: OutboundPolicy | null;
  /** 'migration' when the config was filled in by schema 4 from the app's config of then. */
  recorded?: 'deploy' | 'migration';
}

/** The config as the API shows it: secret names only. */
export interface VersionConfigView {
  routes: Route[];
  env: Record<string, string>;
  secrets: string[];
  limits: AppLimits;
  volumes: VolumeMount[];
  outbound: OutboundPolicy | null;
}

export function parseConfig(text: string): VersionConfig {
  const c = JSON.parse(text) as Partial<VersionConfig>;
  return {
    routes: c.routes ?? [], env: c.env ?? {}, secrets: c.secrets ?? {}, limits: c.limits ?? {},
    concurrency: c.concurrency ?? null, volumes: c.volumes ?? [], outbound: c.outbound ?? null, ...(c.recorded === undefined ? {} : { recorded: c.recorded }),
  };
}

export function configView(c: VersionConfig): VersionConfigView {
  return {
    routes: c.routes,
    env: c.env,
    secrets: Object.keys(c.secrets).sort(),
    limits: { ...c.limits, ...(c.concurrency === null ? {} : { concurrency: c.concurrency }) },
    volumes: c.volumes,
    outbound: c.outbound ?? null,
  };
}

/** The same config (what a PATCH that changes nothing leaves): no new version for it. */
export function sameConfig(a: VersionConfig, b: VersionConfig): boolean {
  const key = (c: VersionConfig) => JSON.stringify([c.routes, sorted(c.env), sorted(c.secrets), sorted(c.limits), c.concurrency, c.volumes, c.outbound ?? null]);
  return key(a) === key(b);
}

function sorted<T>(o: Record<string, T>): [string, T][] {
  return Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

function routeText(r: Route): string {
  return `${r.host ?? ''}${r.path}${r.methods === undefined ? '' : ` [${r.methods.join(',')}]`}`;
}

function volumeText(v: VolumeMount): string {
  return `${v.volume}:${v.guest}${v.readonly === true ? ':ro' : ''}`;
}

function shortDigest(d: string): string {
  return d.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * What changed from one version to the next, one line per change, for people and for the API
 * (`changes` of a version): the image, the routes, each env variable (with its values), each
 * secret (never its value), each limit, the volumes. Empty when nothing changed.
 *
 * @example
 * configChanges(v1, 'sha256:aa..', v2, 'sha256:aa..'); // ['env.GREETING: "hi" -> "hello"', 'secrets.API_KEY: changed']
 */
export function configChanges(prev: VersionConfig, prevDigest: string, next: VersionConfig, nextDigest: string): string[] {
  const out: string[] = [];
  if (prevDigest !== nextDigest) out.push(`image: ${shortDigest(prevDigest)} -> ${shortDigest(nextDigest)}`);
  const routes = (c: VersionConfig) => c.routes.map(routeText).join(', ');
  if (routes(prev) !== routes(next)) out.push(`routes: ${routes(prev)} -> ${routes(next)}`);
  for (const k of [...new Set([...Object.keys(prev.env), ...Object.keys(next.env)])].sort()) {
    const a = prev.env[k];
    const b = next.env[k];
    if (a === b) continue;
    out.push(a === undefined ? `env.${k}: added ${JSON.stringify(b)}` : b === undefined ? `env.${k}: removed` : `env.${k}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
  }
  for (const k of [...new Set([...Object.keys(prev.secrets), ...Object.keys(next.secrets)])].sort()) {
    const a = prev.secrets[k];
    const b = next.secrets[k];
    if (a === b) continue;
    out.push(`secrets.${k}: ${a === undefined ? 'added' : b === undefined ? 'removed' : 'changed'}`);
  }
  const limits = (c: VersionConfig): Record<string, number | undefined> => ({ ...c.limits, concurrency: c.concurrency ?? undefined });
  const pl = limits(prev);
  const nl = limits(next);
  for (const k of [...new Set([...Object.keys(pl), ...Object.keys(nl)])].sort()) {
    if (pl[k] === nl[k]) continue;
    out.push(`limits.${k}: ${pl[k] ?? 'default'} -> ${nl[k] ?? 'default'}`);
  }
  const vols = (c: VersionConfig) => c.volumes.map(volumeText).join(', ');
  if (vols(prev) !== vols(next)) out.push(`volumes: ${vols(prev) || '(none)'} -> ${vols(next) || '(none)'}`);
  const outbound = (c: VersionConfig) => (c.outbound == null ? 'manifest' : JSON.stringify(c.outbound));
  if (outbound(prev) !== outbound(next)) out.push(`outbound: ${outbound(prev)} -> ${outbound(next)}`);
  return out;
}
