/**
 * Flag parsing shared by every subcommand: `--name value`, `--name=value`, repeatable
 * flags, booleans, and `--` ending the flags. Unknown flags are refused by name. A command
 * that runs a program (`run`) stops at its first positional, as `wasmtime run` does:
 * everything after the module belongs to the guest.
 */
import { NanovisorError } from '../shared/errors.ts';
import { nearest } from './suggest.ts';

export interface FlagSpec {
  /** Long name without dashes. */
  readonly name: string;
  readonly short?: string;
  /** `boolean` takes no value; `string` takes one; `list` takes one and may repeat. */
  readonly type: 'boolean' | 'string' | 'list';
}

export interface ParsedFlags {
  readonly flags: Map<string, string[]>;
  /** Positionals before `--`. */
  readonly positionals: string[];
  /** Everything after `--`, untouched (or after the positional that ended the flags). */
  readonly rest: string[];
}

export interface ParseOptions {
  /**
   * Stop parsing at the first positional: it is the only entry of `positionals`, and every
   * argument after it goes to `rest` verbatim, flags included, except that the first `--`
   * is dropped (`run app.wasm -- --x` gives `--x`; a second `--` is kept).
   */
  readonly stopAtPositional?: boolean;
}

/**
 * @example
 * parseFlags(['--env', 'A=1', 'app.wasm', '--env', 'x'], SPECS, 'run', { stopAtPositional: true })
 * // positionals ['app.wasm'], rest ['--env', 'x'], flags env ['A=1']
 */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], command: string, options: ParseOptions = {}): ParsedFlags {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(`--${s.name}`, s);
    if (s.short !== undefined) byName.set(`-${s.short}`, s);
  }
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return { flags, positionals, rest: argv.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      if (options.stopAtPositional === true) {
        const after = argv.slice(i + 1);
        const dashes = after.indexOf('--');
        if (dashes >= 0) after.splice(dashes, 1);
        return { flags, positionals, rest: after };
      }
      continue;
    }
    const eq = arg.indexOf('=');
    const key = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = byName.get(key);
    if (spec === undefined) {
      // `--evn` → `--env`: the nearest long flag of this command, by the verbs' own distance.
      const near = key.startsWith('--') ? nearest(key.slice(2), specs.map((s) => s.name)) : undefined;
      throw new NanovisorError('NV_USAGE', `${command}: unknown flag ${key}${near === undefined ? '' : `; did you mean --${near}?`}`);
    }
    let value: string;
    if (spec.type === 'boolean') {
      if (eq > 0) throw new NanovisorError('NV_USAGE', `${command}: flag --${spec.name} takes no value`);
      value = 'true';
    } else if (eq > 0 && arg.startsWith('--')) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new NanovisorError('NV_USAGE', `${command}: flag --${spec.name} needs a value`);
      value = next;
      i++;
    }
    const list = flags.get(spec.name) ?? [];
    if (spec.type !== 'list' && list.length > 0) {
      throw new NanovisorError('NV_USAGE', `${command}: flag --${spec.name} given more than once`);
    }
    list.push(value);
    flags.set(spec.name, list);
  }
  return { flags, positionals, rest: [] };
}

export function flagString(p: ParsedFlags, name: string): string | undefined {
  return p.flags.get(name)?.[0];
}

export function flagBool(p: ParsedFlags, name: string): boolean {
  return p.flags.has(name);
}

export function flagList(p: ParsedFlags, name: string): string[] {
  return p.flags.get(name) ?? [];
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
};

/** Parses sizes like `65536`, `64K`, `256MiB`, `1G` (binary units). */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = m === null ? undefined : SIZE_UNITS[m[2]!.toLowerCase()];
  if (m === null || unit === undefined) {
    throw new NanovisorError('NV_USAGE', `--${flag}: "${text}" is not a size (examples: 65536, 64K, 256M, 1G)`);
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new NanovisorError('NV_USAGE', `--${flag}: size must be positive`);
  return bytes;
}

const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** Parses durations like `500ms`, `5s`, `2m`; a bare number is seconds. Returns ms. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(text.trim());
  const unit = m === null ? undefined : TIME_UNITS[m[2]!];
  if (m === null || unit === undefined) {
    throw new NanovisorError('NV_USAGE', `--${flag}: "${text}" is not a duration (examples: 500ms, 5s, 2m)`);
  }
  const ms = Number(m[1]) * unit;
  if (!(ms > 0)) throw new NanovisorError('NV_USAGE', `--${flag}: duration must be positive`);
  return ms;
}
