/**
 * The `nanovisor` command line: dispatches to one file per subcommand and turns errors
 * into one clear line and an exit code (`--debug` adds the stack).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ERROR_CODES, NanovisorError, isNanovisorError } from '../shared/errors.ts';
import type { CliIo } from './command.ts';
import { COMMANDS, type CommandEntry } from './commands/index.ts';

import { editDistance, nearest } from './suggest.ts';
import { VERSION } from './version.ts';

export { VERSION, editDistance };

/** Exit code for usage and input errors (as most CLIs do). */
const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function defaultIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
  };
}

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'nanovisor — sealed WebAssembly images booted as Nano-VMs',
    '',
    'Usage: nanovisor <command> [flags]',
    '       nanovisor <file.wasm | image> [flags] [-- args...]   (same as `run`)',
    '',
    'Commands:',
    ...lines,
    '',
    'Global flags: --debug (show stack traces), --help, --version',
    '',
  ].join('\n');
}

function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/**
 * The verb `word` is most likely a typo of: within 1 edit of a verb of up to 4 letters, 2 of a
 * longer one; undefined when none is that near (or two are equally near).
 *
 * @example
 * nearestVerb('bulid'); // 'build'
 * nearestVerb('hello'); // undefined
 */
export function nearestVerb(word: string): string | undefined {
  return nearest(word, [...COMMANDS.map((c) => c.name), 'help', 'version']);
}

/** True when `target` names a file here or an image in the store, so `run` should have it. */
async function isRunTarget(target: string, io: CliIo): Promise<boolean> {
  if (existsSync(resolve(io.cwd, target))) return true;
  // Loaded only for a word a typo away from a verb: the store is not needed to print a version.
  const { ImageStore, storeHome } = await import('../image/index.ts');
  try {
    ImageStore.openHome(storeHome(undefined, io.env, io.cwd)).resolve(target);
    return true;
  } catch {
    return false;
  }
}

/** Runs the CLI; returns the process exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const debug = argv.includes('--debug') && !argv.slice(0, argv.indexOf('--debug')).includes('--');
  const args = debug ? argv.filter((a, i) => !(a === '--debug' && i === argv.indexOf('--debug'))) : [...argv];
  const first = args[0];
  let verb: string | undefined;
  try {
    if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
      const topic = first === 'help' ? args[1] : undefined;
      const entry = topic === undefined ? undefined : findCommand(topic);
      io.stdout(entry === undefined ? helpText() : `${(await entry.load()).usage}\n`);
      return first === undefined ? EXIT_USAGE : 0;
    }
    if (first === '--version' || first === 'version') {
      io.stdout(`nanovisor ${VERSION}\n`);
      return 0;
    }
    let entry = findCommand(first);
    let rest = args.slice(1);
    if (entry === undefined) {
      // `run` is the default verb: `nanovisor app.wasm -- args`.
      if (first.startsWith('-')) {
        const nearFlag = nearest(first.replace(/^-+/, '').split('=')[0]!, ['help', 'version', 'debug']);
        io.stderr(`nanovisor: error NV_USAGE: unknown flag ${first}${nearFlag === undefined ? '' : `; did you mean --${nearFlag}?`}\n  ${ERROR_CODES.NV_USAGE.hint}\n`);
        return EXIT_USAGE;
      }
      // A bare word a typo away from a verb (`bulid`) is a typo, unless a file or image has that name.
      const near = /^[A-Za-z-]+$/.test(first) ? nearestVerb(first) : undefined;
      if (near !== undefined && !(await isRunTarget(first, io))) {
        throw new NanovisorError('NV_USAGE', `unknown command "${first}"; did you mean "${near}"? (nanovisor ${near === 'help' || near === 'version' ? `${near}` : `${near} --help`})`);
      }
      entry = findCommand('run');
      rest = args;
    }
    if (entry === undefined) throw new Error('run command missing');
    const cmd = await entry.load();
    if (cmd.ownHelp !== true && rest.includes('--help') && !rest.slice(0, rest.indexOf('--help')).includes('--')) {
      io.stdout(`${cmd.usage}\n`);
      return 0;
    }
    verb = cmd.name;
    return await cmd.run(rest, io);
  } catch (e) {
    return report(e, io, debug, verb);
  }
}

/** A usage error inside a command points at that command's own --help, not the global one. */
function hintOf(e: NanovisorError, verb: string | undefined): string {
  return e.code === 'NV_USAGE' && verb !== undefined ? `Run \`nanovisor ${verb} --help\` for its usage and flags.` : e.hint;
}

function report(e: unknown, io: CliIo, debug: boolean, verb?: string): number {
  if (isNanovisorError(e)) {
    io.stderr(`nanovisor: error ${e.code}: ${e.message}\n  ${hintOf(e, verb)}\n`);
    if (debug && e.stack !== undefined) io.stderr(`${e.stack}\n`);
    return e.code === 'NV_USAGE' ? EXIT_USAGE : EXIT_FAILURE;
  }
  const message = e instanceof Error ? e.message : String(e);
  io.stderr(`nanovisor: error NV_HOST_FAULT: ${message}\n  ${ERROR_CODES.NV_HOST_FAULT.hint}\n`);
  if (debug && e instanceof Error && e.stack !== undefined) io.stderr(`${e.stack}\n`);
  return EXIT_FAILURE;
}

// Allow `node src/cli/main.ts ...` directly.
if (import.meta.main) {
  process.exitCode = await runCli(process.argv.slice(2));
}
