/**
 * Everything the control plane can do, as one typed union. The REST handlers (src/api) only
 * parse and validate a request into one of these; the CLI reaches them through the API, and
 * an embedding program can issue them to `ControlPlane.execute` directly. Each behaviour is
 * written once, in control.ts.
 */
import type { OutboundPolicy } from '../shared/outbound.ts';
import type { Route } from '../shared/routes.ts';
import type { ImageSummary } from '../image/index.ts';
import type { LogEntry } from '../observability/index.ts';
import type { VolumeMount } from '../shared/volumes.ts';
import type { AppLimits, CreateAppInput, CreateVolumeInput, UpdateAppInput, UpdateVolumeInput } from './schemas.ts';
import type { DeletedVolume, SnapshotView, VolumeView } from './volumes.ts';
import type { VersionConfigView } from './version-config.ts';
import type { InstanceView } from '../gateway/scale-to-zero.ts';

export type Action =
  | { kind: 'CreateApp'; input: CreateAppInput }
  | { kind: 'UpdateApp'; name: string; input: UpdateAppInput }
  | { kind: 'DeleteApp'; name: string }
  | { kind: 'ListApps' }
  | { kind: 'GetApp'; name: string }
  | { kind: 'DeployVersion'; app: string; image: string }
  | { kind: 'Rollback'; app: string; version?: number }
  | { kind: 'ListVersions'; app: string }
  | { kind: 'UploadImage'; tar: Uint8Array }
  /** An upload already on disk, in a `scratch()` directory (the API streams bodies there). */
  | { kind: 'UploadImage'; file: string }
  | { kind: 'BuildImage'; tar: Uint8Array; tag?: string }
  /** A tar of an app directory already on disk, in a `scratch()` directory. */
  | { kind: 'BuildImage'; file: string; tag?: string }
  | { kind: 'ListImages' }
  | { kind: 'RotateToken' }
  | { kind: 'GetLogs'; app: string; since?: number }
  | { kind: 'GetHealth' }
  | { kind: 'GetMetrics' }
  | { kind: 'CreateVolume'; input: CreateVolumeInput }
  | { kind: 'ListVolumes' }
  | { kind: 'GetVolume'; name: string }
  | { kind: 'UpdateVolume'; name: string; input: UpdateVolumeInput }
  | { kind: 'DeleteVolume'; name: string; deleteData?: boolean }
  | { kind: 'SnapshotVolume'; name: string; snapshot?: string }
  | { kind: 'ListSnapshots'; name: string }
  | { kind: 'DeleteSnapshot'; name: string; snapshot: string }
  | { kind: 'RestoreVolume'; name: string; snapshot: string; into?: string }
  | { kind: 'ExportVolume'; name: string; snapshot?: string }
  | { kind: 'ImportVolume'; name: string; tar: Uint8Array };

export type ActionKind = Action['kind'];

/** An app as the API shows it. Secret values are never shown: only their names. */
export interface AppView {
  name: string;
  routes: Route[];
  env: Record<string, string>;
  /** Names of the app's secrets, sorted. */
  secrets: string[];
  /** The limits set on the app, with `concurrency` and `queue` always filled in. */
  limits: AppLimits & { concurrency: number; queue: number };
  /** Volumes every VM of the app mounts (besides those its image's manifest names). */
  volumes: VolumeMount[];
  /** The app's own outbound allowlist and caps, overriding its manifest's; null: the manifest's. */
  outbound: OutboundPolicy | null;
  /**
   * `serving`; `undeployed` before the first deploy; `broken` when the current version's image
   * was found missing or corrupt (its routes answer 503 NV_APP_BROKEN), with `problem` saying
   * why and how to repair it.
   */
  status: 'serving' | 'broken' | 'undeployed';
  problem?: string;
  /** A server app's instance: `awake`, `sleeping`, `asleep` (scaled to zero) or `waking`, with its sleeps and wakes. */
  instance?: InstanceView;
  /** The version serving requests; null before the first deploy. */
  currentVersion: number | null;
  /** The image digest of the current version. */
  currentDigest: string | null;
  created: string;
  updated: string;
}

export interface VersionView {
  app: string;
  version: number;
  digest: string;
  created: string;
  current: boolean;
  /** The image's manifest name and version when it was deployed. */
  image: { name: string; version?: string };
  /** The config this version serves with (secret names only); a rollback restores it. */
  config: VersionConfigView;
  /** What changed from the version before (image, routes, env, secrets, limits, volumes); [] for the first. */
  changes: string[];
  /** True when the config was filled in by the schema upgrade from the app's config of then (versions deployed before versions recorded it). */
  configFromMigration?: true;
}

export interface ActionResults {
  CreateApp: AppView;
  UpdateApp: AppView;
  DeleteApp: { deleted: string };
  ListApps: AppView[];
  GetApp: AppView;
  DeployVersion: { app: string; version: number; digest: string };
  Rollback: { app: string; version: number; digest: string };
  ListVersions: VersionView[];
  UploadImage: { digest: string; tags: string[] };
  BuildImage: { digest: string; name: string; tag: string };
  ListImages: ImageSummary[];
  RotateToken: { token: string };
  GetLogs: LogEntry[];
  GetHealth: { status: 'ok'; version: string; gateway?: string };
  GetMetrics: string;
  CreateVolume: VolumeView;
  ListVolumes: VolumeView[];
  GetVolume: VolumeView;
  UpdateVolume: VolumeView;
  DeleteVolume: DeletedVolume;
  SnapshotVolume: SnapshotView;
  ListSnapshots: SnapshotView[];
  DeleteSnapshot: { deleted: string };
  RestoreVolume: VolumeView;
  ExportVolume: Uint8Array;
  ImportVolume: VolumeView;
}

export type { DeletedVolume, SnapshotView, VolumeView };

export type { LogEntry };

/** The result type of an action. */
export type ResultOf<A extends Action> = ActionResults[A['kind']];
