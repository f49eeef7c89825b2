/**
 * Bundles the dashboard (ui/) with esbuild into dist/ui: index.html plus assets/app.js and
 * assets/app.css (Preact, uPlot and our code in one script, no inline code, nothing loaded
 * from elsewhere at run time). Run by `npm run build` and so at install (`prepare`).
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/ui`;
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });
await build({
  entryPoints: { app: `${root}ui/src/main.tsx` },
  outdir: `${out}/assets`,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(`${root}ui/index.html`, `${out}/index.html`);
console.log('dashboard built into dist/ui');
