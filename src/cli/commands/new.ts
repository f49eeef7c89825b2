/**
 * `nanovisor new <template> NAME`: writes a ready app directory ./NAME from one of the
 * templates in templates/ (a manifest with its build step, the sources, a .gitignore), so
 * that `nanovisor build NAME` compiles and seals it at once. `__NAME__` in a template's files
 * becomes the app's name.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NAME_PATTERN } from '../../image/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import type { CliIo, Command } from '../command.ts';
import { nearest } from '../suggest.ts';
import { flagString, parseFlags, type FlagSpec } from '../flags.ts';

const TEMPLATE_ROOT = fileURLToPath(new URL('../../../templates', import.meta.url));

/**
 * Every template, in the order `nanovisor new` lists them. `http`: an HTTP handler (deployed,
 * not run); `script`: a JavaScript/TypeScript app, compiled by `build` with no build step.
 */
export const TEMPLATES: ReadonlyArray<{ name: string; aliases: readonly string[]; summary: string; http?: true; script?: true }> = [
  { name: 'c', aliases: [], summary: 'a command in C (clang, wasi-libc)' },
  { name: 'c-http', aliases: ['c-cgi'], summary: 'an HTTP handler in C (CGI, one fresh VM per request)', http: true },
  { name: 'cpp', aliases: ['c++'], summary: 'a command in C++ (clang++, libc++)' },
  { name: 'cpp-http', aliases: ['c++-http', 'cpp-cgi'], summary: 'an HTTP handler in C++', http: true },
  { name: 'rust', aliases: ['rs'], summary: 'a command in Rust (rustc --target wasm32-wasi)' },
  { name: 'rust-http', aliases: ['rs-http', 'rust-cgi'], summary: 'an HTTP handler in Rust', http: true },
  { name: 'as', aliases: ['assemblyscript'], summary: 'a command in AssemblyScript (asc)' },
  { name: 'as-http', aliases: ['assemblyscript-http', 'as-cgi'], summary: 'an HTTP handler in AssemblyScript', http: true },
  { name: 'js', aliases: ['javascript'], summary: 'an HTTP handler in JavaScript (export default { fetch })', http: true, script: true },
  { name: 'ts', aliases: ['typescript'], summary: 'an HTTP handler in TypeScript (bundled by esbuild)', http: true, script: true },
];

const SPECS: FlagSpec[] = [{ name: 'dir', type: 'string' }];

const USAGE = `Usage: nanovisor new <template> NAME [--dir DIR]

Writes a ready app directory DIR (default ./NAME): nanovisor.json with the app's name and
its build step (JavaScript and TypeScript need none), the sources and a .gitignore. Then:
  nanovisor build NAME      # runs the build step (compiles), then seals the image
  nanovisor run NAME        # commands; HTTP handlers: nanovisor deploy NAME

Templates:
${TEMPLATES.map((t) => `  ${t.name.padEnd(10)} ${t.summary}${t.aliases.length > 0 ? ` (also: ${t.aliases.join(', ')})` : ''}`).join('\n')}

Flags:
  --dir DIR              write the app here instead of ./NAME

Example:
  nanovisor new c hello && nanovisor build hello && nanovisor run hello`;

function findTemplate(word: string): string {
  const w = word.toLowerCase();
  const t = TEMPLATES.find((x) => x.name === w || x.aliases.includes(w));
  if (t !== undefined) return t.name;
  const names = TEMPLATES.flatMap((x) => [x.name, ...x.aliases]);
  const near = nearest(w, names);
  const guess = near === undefined ? '' : ` did you mean "${near}"?`;
  throw new NanovisorError('NV_USAGE', `new: no template "${word}";${guess} templates: ${TEMPLATES.map((x) => x.name).join(', ')} (nanovisor new --help)`);
}

/** Copies template `name` into `dest`, replacing `__NAME__` with `app`; returns the files written. */
export function writeTemplate(template: string, app: string, dest: string): string[] {
  const written: string[] = [];
  const copy = (from: string, to: string, rel: string): void => {
    mkdirSync(to, { recursive: true });
    for (const e of readdirSync(from, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) copy(join(from, e.name), join(to, e.name), r);
      else {
        writeFileSync(join(to, e.name), readFileSync(join(from, e.name), 'utf8').replaceAll('__NAME__', app), { flag: 'wx' });
        written.push(r);
      }
    }
  };
  copy(join(TEMPLATE_ROOT, template), dest, '');
  return written;
}

export const newCommand: Command = {
  name: 'new',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'new');
    if (p.positionals.length !== 2 || p.rest.length > 0) {
      throw new NanovisorError('NV_USAGE', `usage: nanovisor new <template> NAME; templates: ${TEMPLATES.map((t) => t.name).join(', ')} (nanovisor new --help)`);
    }
    const template = findTemplate(p.positionals[0]!);
    const app = p.positionals[1]!;
    if (!NAME_PATTERN.test(app)) {
      throw new NanovisorError('NV_USAGE', `new: "${app}" is not an app name: use lower-case letters, digits, "-", "_" and "." ([a-z0-9][a-z0-9-_.]*)`);
    }
    const dirFlag = flagString(p, 'dir');
    const dest = resolve(io.cwd, dirFlag ?? app);
    if (existsSync(dest) && readdirSync(dest).length > 0) {
      throw new NanovisorError('NV_USAGE', `new: ${dirFlag ?? app} already exists and is not empty; pick another NAME or --dir`);
    }
    const files = writeTemplate(template, app, dest);
    const shown = dirFlag ?? app;
    const http = TEMPLATES.find((t) => t.name === template)?.http === true;
    io.stdout(`created ${shown}/ from template ${template}: ${files.join(', ')}\n`);
    io.stdout(`next: nanovisor build ${shown} && ${http ? `nanovisor deploy ${shown}   # served at /${app}` : `nanovisor run ${app}`}\n`);
    return 0;
  },
};
