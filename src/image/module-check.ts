/**
 * Build-time checks of a module against the kernel: it must be valid WebAssembly, import only
 * `wasi_snapshot_preview1` functions the kernel provides with their exact signatures, have
 * exactly one 32-bit memory (its own, exported as `memory`, or `env.memory`), and export the
 * entry function. An image that passes boots without link errors.
 */
import { PREVIEW1_SIGNATURES, WASI_MODULE } from '../kernel/abi.ts';
import { NanovisorError } from '../shared/errors.ts';
import { formatFuncType, readModuleLayout, type ExternKindName, type FuncType, type Import, type Limits } from '../shared/wasm-binary.ts';

export interface ModuleImport {
  module: string;
  name: string;
  kind: ExternKindName;
  /** `(i32, i32) -> i32` for functions. */
  signature?: string;
}

export interface ModuleExport {
  name: string;
  kind: ExternKindName;
}

/** What the checks learnt about a valid module (shown by `image inspect`). */
export interface ModuleInfo {
  size: number;
  /** `command` exports `_start`; `reactor` exports `_initialize` and no `_start`. */
  kind: 'command' | 'reactor' | 'library';
  imports: ModuleImport[];
  exports: ModuleExport[];
  memory: { imported: boolean; minPages: number; maxPages?: number };
}

export interface CheckOptions {
  /** The export to call (default `_start`). */
  entry?: string;
}

function oneLine(text: string): string {
  return text.split('\n')[0]!.replace(/^WebAssembly\.Module\(\): /, '').trim();
}

function expectedType(name: string): FuncType | undefined {
  const params = PREVIEW1_SIGNATURES[name];
  if (params === undefined || !Object.hasOwn(PREVIEW1_SIGNATURES, name)) return undefined;
  return { params: [...params], results: name === 'proc_exit' ? [] : ['i32'] };
}

function sameType(a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((p, i) => p === b.params[i]) && a.results.every((r, i) => r === b.results[i]);
}

function describeLimits(l: Limits): string {
  return l.is64 ? '64-bit memory' : l.shared ? 'shared memory' : '';
}

/**
 * Checks module bytes and returns what it found; throws NV_MODULE_MALFORMED,
 * NV_MODULE_UNKNOWN_IMPORTS, NV_MODULE_BAD_MEMORY or NV_MODULE_NO_ENTRY.
 *
 * @example
 * const info = checkModule(readFileSync('app.wasm'), { entry: manifest.entry });
 * info.imports.map((i) => i.name); // ['fd_write', 'proc_exit']
 */
export function checkModule(bytes: Uint8Array, options: CheckOptions = {}): ModuleInfo {
  const entry = options.entry ?? '_start';
  if (!WebAssembly.validate(bytes)) {
    let reason = 'fails validation';
    try {
      new WebAssembly.Module(bytes);
    } catch (e) {
      reason = oneLine((e as Error).message);
    }
    throw new NanovisorError('NV_MODULE_MALFORMED', `not a valid WebAssembly module: ${reason}`, { details: { reason } });
  }
  let layout: ReturnType<typeof readModuleLayout>;
  try {
    layout = readModuleLayout(bytes);
  } catch (e) {
    // The engine accepted it, so this is a feature our reader does not know.
    throw new NanovisorError('NV_MODULE_MALFORMED', `unsupported WebAssembly module: ${(e as Error).message}`, { cause: e });
  }

  const imports: ModuleImport[] = [];
  const offending: string[] = [];
  const problems: string[] = [];
  const memoryImports: Import[] = [];
  for (const imp of layout.imports) {
    const id = `${imp.module}.${imp.name}`;
    const info: ModuleImport = { module: imp.module, name: imp.name, kind: imp.desc.kind };
    imports.push(info);
    if (imp.desc.kind === 'memory') {
      memoryImports.push(imp);
      continue;
    }
    if (imp.desc.kind !== 'function') {
      offending.push(id);
      problems.push(`${id} (a ${imp.desc.kind}; the kernel provides only functions)`);
      continue;
    }
    const actual = layout.types[imp.desc.typeIndex];
    if (actual === undefined || actual === null) {
      throw new NanovisorError('NV_MODULE_MALFORMED', `import ${id} has no function type`);
    }
    info.signature = formatFuncType(actual);
    const expected = imp.module === WASI_MODULE ? expectedType(imp.name) : undefined;
    if (expected === undefined) {
      offending.push(id);
      problems.push(id);
    } else if (!sameType(actual, expected)) {
      offending.push(id);
      problems.push(`${id} (has ${formatFuncType(actual)}, the kernel's is ${formatFuncType(expected)})`);
    }
  }
  if (offending.length > 0) {
    throw new NanovisorError(
      'NV_MODULE_UNKNOWN_IMPORTS',
      `module imports ${offending.length === 1 ? 'a function' : `${offending.length} functions`} the kernel does not provide: ${problems.join(', ')}`,
      { details: { imports: offending, problems } },
    );
  }

  const exports: ModuleExport[] = layout.exports.map((e) => ({ name: e.name, kind: e.kind }));
  const memoryCount = memoryImports.length + layout.memories.length;
  if (memoryCount !== 1) {
    throw new NanovisorError('NV_MODULE_BAD_MEMORY', `module has ${memoryCount} memories; it must define or import exactly one`);
  }
  const memImport = memoryImports[0];
  const limits = memImport?.desc.kind === 'memory' ? memImport.desc.limits : layout.memories[0]!;
  if (memImport !== undefined && !(memImport.module === 'env' && memImport.name === 'memory')) {
    throw new NanovisorError('NV_MODULE_BAD_MEMORY', `module imports its memory as ${memImport.module}.${memImport.name}; only env.memory is provided`);
  }
  const odd = describeLimits(limits);
  if (odd !== '') throw new NanovisorError('NV_MODULE_BAD_MEMORY', `module has a ${odd}; only 32-bit, non-shared memories are supported`);
  if (memImport === undefined && !exports.some((e) => e.name === 'memory' && e.kind === 'memory')) {
    throw new NanovisorError('NV_MODULE_BAD_MEMORY', 'module does not export its memory as "memory"');
  }

  const isFn = (name: string): boolean => exports.some((e) => e.name === name && e.kind === 'function');
  const kind = isFn('_start') ? 'command' : isFn('_initialize') ? 'reactor' : 'library';
  if (!isFn(entry)) {
    const why = entry === '_start' && kind === 'reactor'
      ? 'module is a reactor (exports _initialize, not _start); set "entry" to the export to call'
      : `module has no exported function "${entry}"`;
    throw new NanovisorError('NV_MODULE_NO_ENTRY', why, {
      details: { entry, exports: exports.filter((e) => e.kind === 'function').map((e) => e.name) },
    });
  }

  const memory: ModuleInfo['memory'] = { imported: memImport !== undefined, minPages: Number(limits.min) };
  if (limits.max !== undefined) memory.maxPages = Number(limits.max);
  return { size: bytes.length, kind, imports, exports, memory };
}
