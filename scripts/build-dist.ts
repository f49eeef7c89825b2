/**
 * `npm run build`: compiles src/ into dist/ with tsc and stamps the build with the newest
 * source time it saw and the paths it saw (bin/dist-freshness.js), so the launcher runs dist/ only while it is
 * current. The stamp is taken before tsc starts: a file saved during the build makes it stale.
 * Then scripts/bundle-dist.ts bundles dist/ into dist/bundle (what the launcher and shards run).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP, takeStamp } from '../bin/dist-freshness.js';
import { bundleDist } from './bundle-dist.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = takeStamp(root);
// An interrupted or failed build must not leave the old stamp beside new files.
rmSync(join(root, 'dist', STAMP), { force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
mkdirSync(join(root, 'dist'), { recursive: true });
copyAssets(join(root, 'src'), join(root, 'dist'));
await bundleDist();
writeFileSync(join(root, 'dist', STAMP), stamp);

/**
 * Files of src/ that are not TypeScript (the WIT of the JS world, the linux relay's C
 * source) are read at run time next to the module that names them: tsc does not copy them,
 * so dist/ gets them here, at the same relative paths.
 */
function copyAssets(from: string, to: string): void {
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
    const source = join(entry.parentPath, entry.name);
    const target = join(to, relative(from, source));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(source, target);
  }
}
