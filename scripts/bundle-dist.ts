/**
 * Bundles tsc's dist/ for start-up (docs/performance.md, start-up): Node's ESM loader spends
 * ~1 ms per module resolving and linking, and `nanovisor run` loads ~190 of them (ours and
 * zod's); the shard process as many. esbuild joins them into dist/bundle/: one file per
 * entry (`main.js` for bin/nanovisor.js, `shard-worker.js` for the Supervisor's fork) and
 * shared chunks, with every verb still loaded on use (dynamic imports become chunks).
 *
 * Paths stay right: a module that finds a file next to itself (`new URL('./x.js',
 * import.meta.url)`: the watchdog worker, templates, the dashboard's assets) gets its own
 * dist/ URL, not the chunk's, so those files are found where tsc put them. Packages other
 * than zod stay external (they read their own files through import.meta.url or __dirname).
 * src/shared/bundled.ts answers true inside the bundle. The metafile (dist/bundle/meta.json)
 * says which sources each output holds; test/startup.test.ts reads it.
 *
 * Run by scripts/build-dist.ts after tsc; `node scripts/bundle-dist.ts` alone rebundles.
 */
import { build, type Plugin } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
export const BUNDLE_DIR = join(dist, 'bundle');

/** Rewrites `import.meta.url` in our modules to that module's own dist/ URL, relative to the bundle. */
const ownUrls: Plugin = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(dist + sep) || args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const rel = relative(dist, args.path).split(sep).join('/');
      let text = readFileSync(args.path, 'utf8');
      if (rel === 'shared/bundled.js') text = 'export const BUNDLED = true;\n';
      const own = `new URL(${JSON.stringify(`../${rel}`)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', own), loader: 'js' };
    });
  },
};

/** Bare imports other than zod (and node: builtins) are left to Node at run time. */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path === 'zod' || args.path.startsWith('zod/') ? undefined : { path: args.path, external: true }));
  },
};

export async function bundleDist(): Promise<void> {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const result = await build({
    entryPoints: { main: join(dist, 'cli', 'main.js'), 'shard-worker': join(dist, 'host', 'shards', 'worker.js') },
    outdir: BUNDLE_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    chunkNames: 'chunk-[hash]',
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [externalPackages, ownUrls],
  });
  writeFileSync(join(BUNDLE_DIR, 'meta.json'), JSON.stringify(result.metafile));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleDist();
