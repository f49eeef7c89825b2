/**
 * What a volume holds, measured the one way quotas count it: bytes are the sizes of its
 * regular files plus the lengths of its symlinks' targets; files are its entries of every
 * kind (files, directories, symlinks), the volume's own root left out. Walked with lstat, so
 * a symlink is counted as itself and never followed.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface VolumeUsage {
  bytes: number;
  files: number;
}

/**
 * Walks `root` (a volume's host directory); a missing root holds nothing.
 *
 * @example
 * measureUsage('/var/lib/nanovisor/volumes/counter'); // { bytes: 4, files: 1 }
 */
export function measureUsage(root: string): VolumeUsage {
  const out: VolumeUsage = { bytes: 0, files: 0 };
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue; // removed meanwhile
      }
      out.files++;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() || st.isSymbolicLink()) out.bytes += st.size;
    }
  };
  walk(root);
  return out;
}

/** True when `dir` holds no entry at all (a missing directory is empty). */
export function isEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return true;
  }
}
