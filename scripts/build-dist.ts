/**
 * `npm run build`: compiles src/ into dist/ with tsc and stamps the build with the newest
 * source time it saw (bin/dist-freshness.js), so the launcher runs dist/ only while it is
 * current. The stamp is taken before tsc starts: a file saved during the build makes it stale.
 * Then scripts/bundle-dist.ts bundles dist/ into dist/bundle (what the launcher and shards run).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP, newestSourceMtime } from '../bin/dist-freshness.js';
import { bundleDist } from './bundle-dist.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = newestSourceMtime(join(root, 'src'));
// An interrupted or failed build must not leave the old stamp beside new files.
rmSync(join(root, 'dist', STAMP), { force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
mkdirSync(join(root, 'dist'), { recursive: true });
await bundleDist();
writeFileSync(join(root, 'dist', STAMP), `${stamp}\n`);
