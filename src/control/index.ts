/**
 * The control plane: apps, versions, images and tokens over a SQLite state database and the
 * image store, driven by one typed union of actions. Public surface of src/control; see
 * docs/serve.md.
 */
export type { Action, ActionKind, ActionResults, AppView, DeletedVolume, LogEntry, ResultOf, SnapshotView, VersionView, VolumeView } from './actions.ts';
export { Volumes, findVolumeIn, type VolumeRecord } from './volumes.ts';
export { ControlPlane, DEFAULT_CONCURRENCY, DEFAULT_QUEUE, PIN_PREFIX, pinTag } from './control.ts';
export type { ControlPlaneOptions, LogLevel, Logger } from './control.ts';
export { MIGRATIONS, StateDb } from './db.ts';
export { checkDataDirMode, checkTokenFileMode, prepareDataDir } from './permissions.ts';
export {
  APP_NAME, VOLUME_QUOTAS, appVolumeSchema, restoreSchema, snapshotSchema, createAppSchema, createVolumeSchema, updateVolumeSchema, deploySchema, limitsSchema, parseInput, problemsOf, rollbackSchema, routeSchema, updateAppSchema,
} from './schemas.ts';
export type { AppLimits, CreateAppInput, CreateVolumeInput, FieldProblem, UpdateAppInput, UpdateVolumeInput } from './schemas.ts';
export { generateToken, hashToken, readTokenFile, tokenMatches, writeTokenFile } from './tokens.ts';
export { extractAppTar, normaliseUploadPath } from './upload-tar.ts';
