/**
 * Compiles a JavaScript or TypeScript example app (its manifest's `script`) into its
 * component, through the cache that tests build with (build/js-cache, NANOVISOR_JS_CACHE), so
 * that `npm run guests` pays componentize-js's tens of seconds once per change of the app.
 * The JS/TS templates are compiled too (their manifests hold `__NAME__`, so SCRIPT is given).
 * Usage: node scripts/js-app.ts APP_DIR OUT [SCRIPT]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifestText } from '../src/image/index.ts';
import { compileScript } from '../src/image/script/index.ts';

const [dir, out, given] = process.argv.slice(2);
if (dir === undefined || out === undefined) throw new Error('usage: js-app.ts APP_DIR OUT [SCRIPT]');
const script = given ?? parseManifestText(readFileSync(join(dir, 'nanovisor.json'), 'utf8'), join(dir, 'nanovisor.json')).script;
if (script === undefined) throw new Error(`${dir}: the manifest names no script`);
const cache = fileURLToPath(new URL('../build/js-cache', import.meta.url));
const { component } = await compileScript(dir, script, cache);
writeFileSync(out, component);
