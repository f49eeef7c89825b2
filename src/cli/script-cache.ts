/**
 * Where the CLI caches compiled JavaScript apps: `$NANOVISOR_JS_CACHE`, else `cache/js` in
 * the nanovisor home of the store (docs/javascript.md).
 */
import { join, resolve } from 'node:path';

export function scriptCacheDir(home: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const flag = env['NANOVISOR_JS_CACHE'];
  return flag !== undefined && flag !== '' ? resolve(cwd, flag) : join(home, 'cache', 'js');
}
