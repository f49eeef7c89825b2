/**
 * Bundling a JavaScript or TypeScript app into one ES module for componentize-js: esbuild
 * (TypeScript needs no step of its own), relative imports and packages of the app's
 * node_modules included, `wasi:*` imports left for componentize-js to bind to the world's
 * interfaces. The app's entry is wrapped in a generated module that also serves a
 * Workers-style `export default { fetch(request, env, ctx) }`, and refuses at build an entry
 * that neither exports one nor registers a `fetch` listener.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, relative, resolve, sep } from 'node:path';
import type { Message, Plugin } from 'esbuild';
import { NanovisorError } from '../../shared/errors.ts';

/** Entry file extensions a `script` may have (esbuild picks the loader from it). */
export const SCRIPT_EXTENSIONS = ['.js', '.mjs', '.ts', '.mts', '.jsx', '.tsx'] as const;

/** The interface version of the world the wrapper imports from (src/components/wit). */
const WASI_VERSION = '0.2.10';

export interface Bundle {
  /** The bundled module. */
  code: string;
  /** Its source map (JSON), sources relative to the app directory. */
  map: string;
}

/** Marks, before the app's modules run, that one of them registered a `fetch` listener. */
const PREAMBLE = `
const add = globalThis.addEventListener;
globalThis.addEventListener = function (type, ...rest) {
  if (type === 'fetch') globalThis[Symbol.for('nanovisor.fetchListener')] = true;
  return add.call(this, type, ...rest);
};
`;

/**
 * Variables of the request the gateway puts in every VM's environment (src/gateway/cgi.ts,
 * the CGI view the kernel rebuilds the request from): left out of a handler's `env`, which
 * holds the app's own configuration.
 */
export const REQUEST_VARIABLES = [
  'AUTH_TYPE', 'CONTENT_LENGTH', 'CONTENT_TYPE', 'GATEWAY_INTERFACE', 'PATH_INFO', 'PATH_TRANSLATED', 'QUERY_STRING',
  'REMOTE_ADDR', 'REMOTE_HOST', 'REMOTE_USER', 'REQUEST_METHOD', 'SCRIPT_NAME', 'SERVER_NAME', 'SERVER_PORT',
  'SERVER_PROTOCOL', 'SERVER_SOFTWARE', 'X_MATCHED_ROUTE', 'X_RAW_PATH_INFO', 'X_FULL_URL', 'X_REQUEST_ID',
] as const;

/** The generated entry: the app's module, then its Workers-style handler if it exports one. */
function wrapper(entry: string): string {
  const spec = JSON.stringify(`./${entry}`);
  const name = JSON.stringify(entry);
  return `import 'nanovisor:preamble';
import { getEnvironment } from 'wasi:cli/environment@${WASI_VERSION}';
import * as app from ${spec};
const REQUEST_VARIABLES = new Set(${JSON.stringify(REQUEST_VARIABLES)});
const appEnv = () => Object.fromEntries(getEnvironment().filter(([k]) => !k.startsWith('HTTP_') && !REQUEST_VARIABLES.has(k)));
const handler = app['default'];
if (handler !== undefined) {
  if (handler === null || typeof handler.fetch !== 'function') {
    throw new TypeError(${name} + ': the default export has no fetch(request, env, ctx) method');
  }
  addEventListener('fetch', (event) => {
    // Read per request: the environment of the VM, never the build's.
    const env = appEnv();
    const ctx = { waitUntil: (p) => event.waitUntil(p), passThroughOnException() {} };
    event.respondWith(handler.fetch(event.request, env, ctx));
  });
} else if (globalThis[Symbol.for('nanovisor.fetchListener')] !== true) {
  throw new TypeError(${name} + ': no fetch handler: export default { fetch(request) { ... } } or call addEventListener("fetch", ...)');
}
`;
}

/**
 * The preamble module, and the entry loaded as an ES module always: a script with neither
 * `import` nor `export` would otherwise be CommonJS unless a package.json above it says
 * `"type": "module"`, and the bundle would depend on where the app lies.
 */
function nanovisorPlugin(entryPath: string): Plugin {
  return {
    name: 'nanovisor',
    setup(b) {
      b.onResolve({ filter: /^nanovisor:preamble$/ }, () => ({ path: 'preamble', namespace: 'nanovisor' }));
      b.onLoad({ filter: /.*/, namespace: 'nanovisor' }, () => ({ contents: PREAMBLE, loader: 'js' }));
      b.onLoad({ filter: /.*/ }, (args) => {
        if (args.path !== entryPath) return undefined;
        const ext = extname(entryPath).slice(1);
        const loader = ext === 'mjs' ? 'js' : ext === 'mts' ? 'ts' : (ext as 'js' | 'ts' | 'jsx' | 'tsx');
        return { contents: `${readFileSync(entryPath, 'utf8')}\nexport {};\n`, loader };
      });
    },
  };
}

/** `file:line:column: text` of an esbuild message, the location relative to the app directory. */
function located(m: Message): string {
  const l = m.location;
  if (l === null) return m.text;
  return `${l.file}:${l.line}:${l.column + 1}: ${m.text}`;
}

function buildFailed(entry: string, messages: readonly Message[]): NanovisorError {
  const [first, ...more] = messages;
  const text = first === undefined ? 'esbuild failed' : located(first);
  const l = first?.location ?? null;
  return new NanovisorError('NV_SCRIPT_BUILD_FAILED', `${text}${more.length > 0 ? ` (and ${more.length} more: ${more.slice(0, 3).map(located).join('; ')})` : ''}`, {
    details: { script: entry, ...(l === null ? {} : { file: l.file, line: l.line, column: l.column + 1 }), errors: messages.map(located) },
  });
}

/**
 * Bundles the app's `script` (relative to `appDir`, already confined to it by the caller).
 * NV_FILE_NOT_FOUND when it does not exist; NV_SCRIPT_BUILD_FAILED, at the user's file and
 * line, for a syntax error or an import that does not resolve.
 */
export async function bundleScript(dir: string, script: string): Promise<Bundle> {
  const appDir = resolve(dir);
  const entryPath = resolve(appDir, script);
  if (!existsSync(entryPath) || !statSync(entryPath).isFile()) {
    throw new NanovisorError('NV_FILE_NOT_FOUND', `script "${script}": no such file in ${appDir}`, { details: { path: entryPath } });
  }
  if (!(SCRIPT_EXTENSIONS as readonly string[]).includes(extname(script))) {
    throw new NanovisorError('NV_MANIFEST_INVALID', `script: "${script}" is not a JavaScript or TypeScript file (${SCRIPT_EXTENSIONS.join(', ')})`);
  }
  const entry = relative(appDir, entryPath).split(sep).join('/');
  // Loaded on first use: the daemon and the shards import this folder but never bundle.
  const { build } = await import('esbuild');
  let result;
  try {
    result = await build({
      stdin: { contents: wrapper(entry), resolveDir: appDir, sourcefile: '(nanovisor entry)', loader: 'js' },
      absWorkingDir: appDir,
      // Not written: it only makes the map's sources relative to the app directory.
      outfile: resolve(appDir, 'app.bundle.js'),
      write: false,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['worker', 'browser'],
      external: ['wasi:*'],
      sourcemap: 'external',
      sourcesContent: false,
      legalComments: 'none',
      charset: 'utf8',
      logLevel: 'silent',
      // esbuild hands plugins real paths.
      plugins: [nanovisorPlugin(realpathSync(entryPath))],
    });
  } catch (e) {
    const errors = (e as { errors?: Message[] }).errors;
    if (Array.isArray(errors)) throw buildFailed(entry, errors);
    throw e;
  }
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.js.map'));
  if (code === undefined || map === undefined) throw new NanovisorError('NV_HOST_FAULT', 'esbuild returned no bundle');
  return { code: code.text, map: map.text };
}
