/**
 * What preparing a component derives from its bytes before V8 compiles anything: jco's
 * glue, the core modules as rewritten (memory limit; the pooled engine module split into a
 * snapshot and instrumented with interrupt checks and dirty-page marks; the modules that
 * write its memory instrumented to mark it), and the engine's snapshot. For a JS engine
 * that is seconds of transpiling and rewriting ~10 MB; kept in the prepared-module cache
 * (src/host/prepared-cache.ts) it is done once per image, and a later process only compiles.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { EntryPayload } from '../prepared-cache.ts';
import { decodeSnapshot, encodeSnapshot } from '../snapshot/format.ts';
import type { Snapshot } from '../snapshot/types.ts';

/** How the glue's instances use a core module. */
export type CoreRole = 'main' | 'tracked' | 'plain';

export interface DerivedCore {
  /** The name the glue asks for. */
  readonly name: string;
  /** `main`: the pooled engine module; `tracked`: marks what it writes into the main memory; `plain`: as jco made it, memory limit applied. */
  readonly role: CoreRole;
  readonly bytes: Uint8Array;
}

export interface DerivedComponent {
  readonly glue: string;
  readonly imports: readonly string[];
  readonly exports: readonly string[];
  readonly cores: readonly DerivedCore[];
  /** The main module's pool, when there is one: its snapshot and whether its code changes tables. */
  readonly pool?: { readonly snapshot: Snapshot; readonly mutatesTables: boolean };
}

let tools: string | undefined;

/** The transpiler and its version, part of a derived component's cache key (another jco makes other glue). */
export function componentToolsVersion(): string {
  if (tools !== undefined) return tools;
  const entry = createRequire(import.meta.url).resolve('@bytecodealliance/jco-transpile');
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { name: string; version: string };
  tools = `${pkg.name}@${pkg.version}`;
  return tools;
}

/** A derived component as a cache entry's payload. */
export function componentPayload(d: DerivedComponent): EntryPayload {
  const glue = new TextEncoder().encode(d.glue);
  const snapshot = d.pool === undefined ? new Uint8Array() : encodeSnapshot(d.pool.snapshot);
  return {
    facts: {
      kind: 'component', imports: d.imports, exports: d.exports,
      cores: d.cores.map((c) => ({ name: c.name, role: c.role })),
      mutatesTables: d.pool?.mutatesTables ?? null,
    },
    parts: [glue, snapshot, ...d.cores.map((c) => c.bytes)],
  };
}

/** The derived component of a payload; throws (as a corrupt entry) when it is not one. */
export function componentFromPayload(p: EntryPayload): DerivedComponent {
  const f = p.facts as { kind?: unknown; imports?: unknown; exports?: unknown; cores?: unknown; mutatesTables?: unknown };
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const cores = f.cores as { name?: unknown; role?: unknown }[] | undefined;
  if (f.kind !== 'component' || !strings(f.imports) || !strings(f.exports) || !Array.isArray(cores) || p.parts.length !== 2 + cores.length
    || !cores.every((c) => typeof c.name === 'string' && (c.role === 'main' || c.role === 'tracked' || c.role === 'plain'))) {
    throw new Error('not a derived component');
  }
  const [glue, snapshot] = p.parts as [Uint8Array, Uint8Array];
  const hasMain = cores.some((c) => c.role === 'main');
  if (hasMain !== (snapshot.byteLength > 0)) throw new Error('not a derived component');
  return {
    glue: new TextDecoder('utf-8', { fatal: true }).decode(glue),
    imports: f.imports,
    exports: f.exports,
    cores: cores.map((c, i) => ({ name: c.name as string, role: c.role as CoreRole, bytes: p.parts[2 + i]! })),
    ...(hasMain ? { pool: { snapshot: decodeSnapshot(snapshot), mutatesTables: f.mutatesTables === true } } : {}),
  };
}
