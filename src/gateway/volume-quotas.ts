/**
 * Volume quotas across every VM at once (docs/volumes.md). The kernel can only enforce a
 * budget within one VM, and the VMs of a volume run on several shards; so the primary, which
 * every request passes through, hands each VM a share of what the volume has left before it
 * boots, and the sum of the shares never passes the quota: a guest that would go past its
 * share gets ENOSPC, and the volume never holds more than its quota (through nanovisor; a host
 * process writing there directly is not counted until the next measure).
 *
 * Use is measured by walking the volume (src/switches/storage) when first needed and again
 * when no VM holds a share and the last measure is older than {@link REMEASURE_MS}; between
 * measures it follows what each VM reports it added or freed. A VM that reports nothing (its
 * shard crashed) makes the next share start from a fresh measure. An exclusive volume's one
 * VM gets all that is left; a shared volume's VM gets half of what is not yet handed out
 * (at least 64 KiB and 64 entries while that much is left), so later VMs still get room. That
 * is conservative: a VM may get ENOSPC while another holds an unused share.
 *
 * It also keeps each volume's counters for the metrics: reads, writes, syncs, queue wait.
 */
import type { Mount, RunResult } from '../host/index.ts';
import { measureUsage, type VolumeUsage } from '../switches/storage/index.ts';

/** A use measured longer ago than this is measured again when no VM holds a share. */
export const REMEASURE_MS = 5000;
const MIN_SHARE_BYTES = 64 * 1024;
const MIN_SHARE_FILES = 64;

interface State {
  used: VolumeUsage | undefined;
  measuredAt: number;
  reserved: VolumeUsage;
  active: number;
  quotaBytes: number;
  quotaFiles: number;
  reads: number;
  writes: number;
  syncs: number;
  admitted: number;
  waitMs: number;
}

/** A volume's figures for the metrics. */
export interface VolumeStats {
  name: string;
  usedBytes: number;
  usedFiles: number;
  quotaBytes: number;
  quotaFiles: number;
  reads: number;
  writes: number;
  syncs: number;
  /** VMs admitted with it mounted. */
  admitted: number;
  /** Total time requests waited for it (exclusive volumes), in ms. */
  waitMs: number;
}

/** The shares handed to one run, to settle when it ends. */
export interface Shares {
  readonly entries: { name: string; guestPath: string; share: VolumeUsage }[];
}

export class VolumeQuotas {
  readonly #v = new Map<string, State>();
  readonly #measure: (path: string) => VolumeUsage;

  constructor(measure: (path: string) => VolumeUsage = measureUsage) {
    this.#measure = measure;
  }

  #state(name: string, quotaBytes: number, quotaFiles: number): State {
    let s = this.#v.get(name);
    if (s === undefined) {
      s = { used: undefined, measuredAt: 0, reserved: { bytes: 0, files: 0 }, active: 0, quotaBytes, quotaFiles, reads: 0, writes: 0, syncs: 0, admitted: 0, waitMs: 0 };
      this.#v.set(name, s);
    }
    s.quotaBytes = quotaBytes;
    s.quotaFiles = quotaFiles;
    return s;
  }

  /**
   * The run's mounts with a share of each volume's quota on every writable volume mount
   * (read-only ones get a zero share: they only count calls); `exclusive` names the volumes
   * this VM holds alone.
   */
  reserve(mounts: readonly Mount[], exclusive: readonly string[], waitedMs = 0): { mounts: Mount[]; shares: Shares } {
    const entries: Shares['entries'] = [];
    const out = mounts.map((m) => {
      if (m.volume === undefined) return m;
      const s = this.#state(m.volume.name, m.volume.quotaBytes, m.volume.quotaFiles);
      s.admitted++;
      s.waitMs += waitedMs;
      if (s.used === undefined || (s.active === 0 && performance.now() - s.measuredAt > REMEASURE_MS)) {
        s.used = this.#measure(m.hostPath);
        s.measuredAt = performance.now();
      }
      let share = { bytes: 0, files: 0 };
      if (m.readonly !== true) {
        const free = {
          bytes: Math.max(0, s.quotaBytes - s.used.bytes - s.reserved.bytes),
          files: Math.max(0, s.quotaFiles - s.used.files - s.reserved.files),
        };
        share = exclusive.includes(m.volume.name)
          ? free
          : { bytes: Math.min(free.bytes, Math.max(MIN_SHARE_BYTES, Math.floor(free.bytes / 2))), files: Math.min(free.files, Math.max(MIN_SHARE_FILES, Math.floor(free.files / 2))) };
      }
      s.reserved.bytes += share.bytes;
      s.reserved.files += share.files;
      s.active++;
      entries.push({ name: m.volume.name, guestPath: m.guestPath, share });
      return { ...m, quota: share };
    });
    return { mounts: out, shares: { entries } };
  }

  /** Gives the shares back and counts what the run used (`result.mounts`); without a result, use is measured again. */
  settle(shares: Shares, result: RunResult | undefined): void {
    for (const e of shares.entries) {
      const s = this.#v.get(e.name);
      if (s === undefined) continue;
      s.reserved.bytes -= e.share.bytes;
      s.reserved.files -= e.share.files;
      s.active--;
      const used = result?.mounts?.find((u) => u.guestPath === e.guestPath);
      if (used === undefined || s.used === undefined) {
        s.used = undefined;
        continue;
      }
      s.used = { bytes: s.used.bytes + used.bytes, files: s.used.files + used.files };
      s.reads += used.reads;
      s.writes += used.writes;
      s.syncs += used.syncs;
    }
  }

  /** Every volume seen so far, by name. */
  stats(): VolumeStats[] {
    return [...this.#v].sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => ({
      name, usedBytes: s.used?.bytes ?? 0, usedFiles: s.used?.files ?? 0, quotaBytes: s.quotaBytes, quotaFiles: s.quotaFiles,
      reads: s.reads, writes: s.writes, syncs: s.syncs, admitted: s.admitted, waitMs: s.waitMs,
    }));
  }
}
