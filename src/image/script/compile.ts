/**
 * Compiling a bundled JavaScript app into a `wasi:http/proxy` component with componentize-js
 * (StarlingMonkey, pre-initialised by wizer at build), in the world of src/components/wit.
 * That takes tens of seconds, so components are cached by the hash of everything that goes in: the
 * bundle, the world's WIT and the componentize-js version. An exception while the app's
 * top-level code runs (at build, under wizer) is reported at the user's file and line through
 * the bundle's source map.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NanovisorError } from '../../shared/errors.ts';
import type { Bundle } from './bundle.ts';

/** The world every JavaScript app is compiled in: wasi:http/proxy plus the files of its image. */
export const APP_WIT_DIR = fileURLToPath(new URL('../../components/wit', import.meta.url));
const APP_WORLD = 'app';

/** Bumped when the way a bundle becomes a component changes (so old cache entries are not used). */
const COMPILER_REVISION = '1';

function witFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...witFiles(p));
    else if (e.name.endsWith('.wit')) out.push(p);
  }
  return out;
}

let componentizeVersion: string | undefined;
function componentizeJsVersion(): string {
  // The package exports no package.json; its entry is src/componentize.js.
  const pkg = new URL('../package.json', import.meta.resolve('@bytecodealliance/componentize-js'));
  componentizeVersion ??= (JSON.parse(readFileSync(fileURLToPath(pkg), 'utf8')) as { version: string }).version;
  return componentizeVersion;
}

/** The cache key of a bundle: what decides the component's bytes. */
export function componentKey(bundle: Bundle): string {
  const h = createHash('sha256');
  h.update(`nanovisor-js ${COMPILER_REVISION} componentize-js ${componentizeJsVersion()}\0`);
  for (const f of witFiles(APP_WIT_DIR)) h.update(`${f.slice(APP_WIT_DIR.length)}\0`).update(readFileSync(f)).update('\0');
  h.update(bundle.code);
  return h.digest('hex');
}

export interface CompileResult {
  component: Uint8Array;
  /** Whether it came from the cache. */
  cached: boolean;
  key: string;
}

/**
 * The component of a bundle, from `cacheDir` when an identical build is there, else compiled
 * (and stored there, atomically). Without `cacheDir`, always compiled.
 */
export async function compileBundle(bundle: Bundle, cacheDir: string | undefined): Promise<CompileResult> {
  const key = componentKey(bundle);
  const cachePath = cacheDir === undefined ? undefined : join(cacheDir, `${key}.wasm`);
  if (cachePath !== undefined) {
    try {
      return { component: new Uint8Array(readFileSync(cachePath)), cached: true, key };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  const component = await componentizeBundle(bundle);
  if (cacheDir !== undefined && cachePath !== undefined) {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cachePath}.tmp-${process.pid}`;
    writeFileSync(tmp, component);
    renameSync(tmp, cachePath);
  }
  return { component, cached: false, key };
}

async function componentizeBundle(bundle: Bundle): Promise<Uint8Array> {
  const { componentize } = await import('@bytecodealliance/componentize-js');
  const work = mkdtempSync(join(tmpdir(), 'nanovisor-js-'));
  const sourcePath = join(work, 'app.bundle.js');
  try {
    writeFileSync(sourcePath, bundle.code);
    const { component } = await componentize({ sourcePath, witPath: APP_WIT_DIR, worldName: APP_WORLD });
    return component;
  } catch (e) {
    throw initFailed(e, sourcePath, bundle);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** componentize-js's report of an exception in top-level code: `PATH:LINE:COL Message`. */
const TOP_LEVEL = /Exception while evaluating top-level script\s*\n(.+?):(\d+):(\d+) ([^\n]*)/;

/** Where a bundle line and column (1-based) came from, `file:line:column` of the user's source. */
export function originalLocation(map: string, line: number, column: number): { file: string; line: number; column: number } | undefined {
  const entry = new SourceMap(JSON.parse(map) as ConstructorParameters<typeof SourceMap>[0]).findEntry(line - 1, Math.max(0, column - 1));
  if (!('originalSource' in entry) || entry.originalSource === undefined) return undefined;
  // Sources are relative to the (unwritten) bundle in the app directory.
  // esbuild URL-encodes sources (the generated entry is "%28nanovisor entry%29").
  const file = decodeURIComponent(entry.originalSource.replace(/^file:\/\//, ''));
  return { file, line: entry.originalLine + 1, column: entry.originalColumn + 1 };
}

function initFailed(e: unknown, sourcePath: string, bundle: Bundle): NanovisorError {
  const text = String((e as Error)?.message ?? e);
  const m = TOP_LEVEL.exec(text);
  // wizer names the bundle by the path it was given or by its file name.
  if (m !== null && (m[1] === sourcePath || basename(m[1]!) === basename(sourcePath))) {
    const at = originalLocation(bundle.map, Number(m[2]), Number(m[3]));
    // Thrown by the generated entry or preamble: the message names the user's entry itself.
    const ours = at !== undefined && (at.file.startsWith('(nanovisor') || at.file.startsWith('nanovisor:'));
    const where = at === undefined || ours ? '' : `${at.file}:${at.line}:${at.column}: `;
    return new NanovisorError('NV_SCRIPT_BUILD_FAILED', `${where}${m[4]!} (thrown by the app's top-level code, which runs once at build)`, {
      cause: e, details: { phase: 'init', ...(at === undefined ? {} : at), error: m[4] },
    });
  }
  // Anything else componentize-js refuses (an import the world lacks, an engine failure).
  const first = text.split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(0, 6).join(' | ').replaceAll(sourcePath, 'the bundle');
  return new NanovisorError('NV_SCRIPT_BUILD_FAILED', `componentize-js could not compile the app: ${first}`, { cause: e, details: { phase: 'componentize' } });
}
