// Whether a checkout's dist/ (tsc's build of src/) is current, so the launcher can run the
// compiled JavaScript (no type stripping at every start) without ever running stale code.
//
// `npm run build` writes dist/.sources-mtime: the newest modification time among src/'s
// .ts files when the build began. The build is current while no source is newer. A copied
// dist/ (cp -r from another checkout) keeps its stamp, so it counts as stale in a fresh
// clone whose sources were written later, and a `git pull` or an edit makes it stale too;
// then the launcher runs the sources and nothing is wrong, only slower. Costs ~2 ms (one
// stat per source file); an installed package (under node_modules) has no src/ to check.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const STAMP = '.sources-mtime';

/** The newest mtime (ms) among the .ts files under `dir`, 0 when there are none. */
export function newestSourceMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** True when `root`/dist was built from `root`/src as it is now. */
export function distIsCurrent(root) {
  let stamp;
  try {
    stamp = Number(readFileSync(join(root, 'dist', STAMP), 'utf8'));
  } catch {
    return false;
  }
  return Number.isFinite(stamp) && stamp > 0 && newestSourceMtime(join(root, 'src')) <= stamp;
}
