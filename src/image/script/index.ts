/**
 * JavaScript and TypeScript apps: a manifest's `script` bundled by esbuild and compiled by
 * componentize-js into a `wasi:http/proxy` component (docs/javascript.md). This file is the
 * folder's whole public surface.
 */
import { bundleScript } from './bundle.ts';
import { compileBundle, type CompileResult } from './compile.ts';

export { SCRIPT_EXTENSIONS, bundleScript, type Bundle } from './bundle.ts';
export { APP_WIT_DIR, compileBundle, componentKey, originalLocation, type CompileResult } from './compile.ts';

/**
 * The component of the app in `appDir` whose entry is `script`, cached in `cacheDir`.
 *
 * @example
 * const { component, cached } = await compileScript('examples/hello-js', 'index.js', 'build/js-cache');
 */
export async function compileScript(appDir: string, script: string, cacheDir: string | undefined): Promise<CompileResult> {
  return compileBundle(await bundleScript(appDir, script), cacheDir);
}
