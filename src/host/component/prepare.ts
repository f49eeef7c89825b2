/**
 * Preparing a component: transpile it once (core modules + glue), refuse what the kernel
 * cannot link by interface name, compile every core module with the memory limit applied,
 * and keep a function that instantiates a fresh copy of the whole component against one
 * VM's kernel. The glue is an ES module without imports; it is evaluated once as a function
 * body, so every VM gets its own resource tables and instances.
 */
import type { Kernel } from '../../kernel/kernel.ts';
import { PROVIDED_INTERFACES, componentImports, interfaceName } from '../../kernel/p2/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { applyMemoryLimit } from '../memory-limit.ts';
import { transpileComponent } from './transpile.ts';

/** Which world a component serves: a command (`wasi:cli/run`) or an HTTP handler. */
export type ComponentWorld = 'command' | 'http';

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, object>,
  instantiateCore?: (m: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance,
) => Record<string, Record<string, (...args: never[]) => unknown>>;

export interface PreparedComponent {
  readonly world: ComponentWorld;
  /** Interfaces it imports, without versions. */
  readonly imports: readonly string[];
  readonly exports: readonly string[];
  /** Core modules by glue name, compiled with the memory limit. */
  readonly cores: ReadonlyMap<string, WebAssembly.Module>;
  /** A fresh instance of the whole component against `kernel`; returns its exports. */
  instantiate(kernel: Kernel, extra?: Record<string, object>): Record<string, Record<string, (...args: never[]) => unknown>>;
}

/** Interfaces the kernel provides, plus those a world adds (wasi:http for serve). */
export function unknownImports(imports: readonly string[], extra: readonly string[] = []): string[] {
  const known = new Set([...PROVIDED_INTERFACES, ...extra]);
  return imports.map(interfaceName).filter((i) => !known.has(i));
}

function worldOf(exports: readonly string[]): ComponentWorld {
  const names = exports.map(interfaceName);
  if (names.includes('wasi:cli/run')) return 'command';
  if (names.includes('wasi:http/incoming-handler')) return 'http';
  throw new NanovisorError('NV_COMPONENT_NO_WORLD', `component exports neither wasi:cli/run nor wasi:http/incoming-handler (it exports: ${exports.join(', ') || 'nothing'})`, { details: { exports } });
}

function evaluateGlue(glue: string): Instantiate {
  // The glue of instantiation mode has no imports and exports only `instantiate` (and an
  // empty `_util`): strip the keywords and evaluate it as a function body.
  const body = glue.replace(/^export function instantiate\(/m, 'function instantiate(').replace(/^export const _util\b/m, 'const _util');
  if (/^\s*(export|import)\s/m.test(body) || !body.includes('function instantiate(')) {
    throw new NanovisorError('NV_HOST_FAULT', 'unexpected shape of the jco glue (one exported instantiate function expected)');
  }
  return new Function(`${body}\nreturn instantiate;`)() as Instantiate;
}

/** Interfaces beyond the kernel's own that some entry point adds (the gateway's wasi:http). */
export const HTTP_INTERFACES: readonly string[] = ['wasi:http/types', 'wasi:http/outgoing-handler'];

/**
 * Prepares component bytes for many VMs. NV_COMPONENT_UNKNOWN_IMPORTS names every interface
 * the kernel does not provide; NV_COMPONENT_NO_WORLD when it is neither a command nor an
 * HTTP handler.
 */
export function prepareComponent(bytes: Uint8Array, memoryLimitBytes: number): PreparedComponent {
  const t = transpileComponent(bytes);
  // Imports first: a component for another world is also told what it lacks here.
  const isHttp = t.exports.some((e) => interfaceName(e) === 'wasi:http/incoming-handler');
  const missing = unknownImports(t.imports, isHttp ? HTTP_INTERFACES : []);
  if (missing.length > 0) {
    throw new NanovisorError('NV_COMPONENT_UNKNOWN_IMPORTS', `component imports what the nanovisor kernel does not provide: ${missing.join(', ')}`, { details: { imports: missing } });
  }
  const world = worldOf(t.exports);
  const cores = new Map<string, WebAssembly.Module>();
  for (const [name, core] of t.cores) {
    try {
      cores.set(name, new WebAssembly.Module(applyMemoryLimit(core, memoryLimitBytes)));
    } catch (e) {
      if ((e as { code?: unknown }).code === 'NV_GUEST_MEMORY_LIMIT') throw e;
      throw new NanovisorError('NV_COMPONENT_MALFORMED', `invalid core module ${name} in the component: ${(e as Error).message}`, { cause: e });
    }
  }
  const instantiate = evaluateGlue(t.glue);
  return {
    world,
    imports: t.imports.map(interfaceName),
    exports: t.exports,
    cores,
    instantiate: (kernel, extra) => instantiate(
      (name) => {
        const m = cores.get(name);
        if (m === undefined) throw new NanovisorError('NV_HOST_FAULT', `component glue asked for an unknown core module ${name}`);
        return m;
      },
      { ...componentImports(kernel), ...extra },
    ),
  };
}
