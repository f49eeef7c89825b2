/**
 * The WebAssembly JS API as Node 24 provides it. TypeScript ships these declarations only
 * in its DOM libraries, which would bring browser globals into a server codebase; this file
 * declares just what nanovisor uses, including JS Promise Integration (JSPI).
 */
declare global {
  namespace WebAssembly {
    type ImportValue = ExportValue | number | bigint;
    type ExportValue = Function | Global | Memory | Table;
    type Imports = Record<string, Record<string, ImportValue>>;
    type Exports = Record<string, ExportValue>;
    type ImportExportKind = 'function' | 'global' | 'memory' | 'table' | 'tag';

    interface ModuleImportDescriptor {
      module: string;
      name: string;
      kind: ImportExportKind;
    }
    interface ModuleExportDescriptor {
      name: string;
      kind: ImportExportKind;
    }

    class Module {
      constructor(bytes: BufferSource);
      static imports(module: Module): ModuleImportDescriptor[];
      static exports(module: Module): ModuleExportDescriptor[];
      static customSections(module: Module, name: string): ArrayBuffer[];
    }

    class Instance {
      constructor(module: Module, imports?: Imports);
      readonly exports: Exports;
    }

    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer;
      grow(delta: number): number;
    }

    interface TableDescriptor {
      element: 'anyfunc' | 'externref';
      initial: number;
      maximum?: number;
    }
    class Table {
      constructor(descriptor: TableDescriptor, value?: unknown);
      readonly length: number;
      get(index: number): unknown;
      set(index: number, value?: unknown): void;
      grow(delta: number, value?: unknown): number;
    }

    type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'anyfunc' | 'externref' | 'v128';
    interface GlobalDescriptor {
      value: ValueType;
      mutable?: boolean;
    }
    class Global {
      constructor(descriptor: GlobalDescriptor, value?: unknown);
      value: unknown;
      valueOf(): unknown;
    }

    class CompileError extends Error {}
    class LinkError extends Error {}
    class RuntimeError extends Error {}

    /** JSPI: wraps an async host function so a suspendable guest can await it. */
    class Suspending {
      constructor(fn: (...args: never[]) => Promise<unknown> | unknown);
    }
    /** JSPI: turns a guest export into a function returning a Promise. */
    function promising<F extends Function>(fn: F): (...args: unknown[]) => Promise<unknown>;

    function validate(bytes: BufferSource): boolean;
    function compile(bytes: BufferSource): Promise<Module>;
    function instantiate(bytes: BufferSource, imports?: Imports): Promise<{ module: Module; instance: Instance }>;
    function instantiate(module: Module, imports?: Imports): Promise<Instance>;
  }
}

export {};
