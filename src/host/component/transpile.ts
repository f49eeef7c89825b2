/**
 * The canonical ABI, through jco: `js-component-bindgen` (from @bytecodealliance/jco-transpile)
 * splits a component into its core modules plus JS glue that lifts and lowers every value
 * between them and the host's interfaces. The tool is itself a WebAssembly program that must
 * be compiled once per process (`loadComponentTools`, asynchronous); after that a transpile
 * is synchronous, so preparing a component fits the synchronous prepare path of modules.
 */
import { NanovisorError } from '../../shared/errors.ts';

interface Generated {
  files: [string, Uint8Array][];
  imports: string[];
  exports: [string, string][];
}
type Generate = (component: Uint8Array, opts: Record<string, unknown>) => Generated;

let generate: Generate | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads the transpiler (compiles its ~3.5 MB of WebAssembly). Call once before preparing a
 * component; every entry point that may meet one (`run`, `build`, a host) awaits it.
 */
export function loadComponentTools(): Promise<void> {
  loading ??= (async () => {
    const mod = await import('@bytecodealliance/jco-transpile/component') as unknown as { $init: Promise<void>; generate: Generate };
    await mod.$init;
    generate = mod.generate;
  })();
  return loading;
}

export function componentToolsLoaded(): boolean {
  return generate !== undefined;
}

export interface Transpiled {
  /** Core modules by the name the glue asks for. */
  readonly cores: ReadonlyMap<string, Uint8Array>;
  /** The glue's ES module source (instantiation mode: no imports of its own). */
  readonly glue: string;
  /** Interfaces the component imports, without versions, e.g. `wasi:cli/stdout`. */
  readonly imports: readonly string[];
  /** Exported names, e.g. `wasi:cli/run@0.2.3`. */
  readonly exports: readonly string[];
}

/** Splits a component into core modules and glue. NV_COMPONENT_MALFORMED for bytes jco refuses. */
export function transpileComponent(bytes: Uint8Array): Transpiled {
  if (generate === undefined) {
    throw new NanovisorError('NV_HOST_FAULT', 'component tools not loaded: await loadComponentTools() before preparing a component');
  }
  let out: Generated;
  try {
    out = generate(bytes, {
      name: 'component',
      map: [],
      instantiation: { tag: 'sync' },
      validLiftingOptimization: false,
      tracing: false,
      noComponentErrorWrapping: true,
      noNodejsCompat: true,
      noTypescript: true,
      tlaCompat: false,
      // Core modules as separate files, never inlined as base64 in the glue.
      base64Cutoff: 1 << 30,
      noNamespacedExports: false,
      multiMemory: false,
    });
  } catch (e) {
    throw new NanovisorError('NV_COMPONENT_MALFORMED', `invalid WebAssembly component: ${String((e as { message?: unknown })?.message ?? e)}`, { cause: e });
  }
  const cores = new Map<string, Uint8Array>();
  let glue: string | undefined;
  for (const [name, data] of out.files) {
    if (name.endsWith('.wasm')) cores.set(name, data);
    else if (name.endsWith('.js')) glue = Buffer.from(data).toString('utf8');
  }
  if (glue === undefined) throw new NanovisorError('NV_HOST_FAULT', 'jco produced no glue for the component');
  return { cores, glue, imports: out.imports, exports: out.exports.map(([name]) => name) };
}
