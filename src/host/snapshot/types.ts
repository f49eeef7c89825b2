/**
 * A boot snapshot: everything a module's instantiation would write into its memory and
 * mutable globals, taken out of the module at build time so a host can boot a VM by copying
 * bytes into a pooled memory instead of running data-segment initialisation.
 */

export type GlobalValueType = 'i32' | 'i64' | 'f32' | 'f64';

export interface SnapshotGlobal {
  /** Index in the module's global index space. */
  readonly index: number;
  readonly type: GlobalValueType;
  /** The value at boot: i64 as a decimal string (JSON-safe), others as numbers. */
  readonly value: number | string;
  /** Name under which the transformed module exports it, so a host can reset it. */
  readonly exportName: string;
}

export interface SnapshotSegment {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export interface Snapshot {
  /** Pages the memory starts with, and its declared maximum (undefined: none). */
  readonly initialPages: number;
  readonly maximumPages: number | undefined;
  /** Non-zero byte runs of the initial memory, sorted, non-overlapping. */
  readonly segments: readonly SnapshotSegment[];
  /** Mutable globals with their boot values. */
  readonly globals: readonly SnapshotGlobal[];
  /**
   * Whether one instance may be reset and reused for another VM: true when all of its
   * mutable state is the memory, the exported mutable globals and its tables (no start
   * function, no passive segments that data.drop/elem.drop could consume).
   */
  readonly reusable: boolean;
  /** True when the app's initialisation already ran at build time. */
  readonly preinitialized: boolean;
}

/** Name of the memory import a snapshot module expects. */
export const MEMORY_IMPORT = { module: 'env', name: 'memory' } as const;
/** Export names the transform adds. */
export const GLOBAL_EXPORT_PREFIX = '__nv_global_';
export const TABLE_EXPORT_PREFIX = '__nv_table_';
