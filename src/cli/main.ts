/**
 * The `nanovisor` command line: dispatches to one file per subcommand and turns errors
 * into one clear line and an exit code (`--debug` adds the stack).
 */
import { ERROR_CODES, isNanovisorError } from '../shared/errors.ts';
import type { CliIo, Command } from './command.ts';
import { COMMANDS } from './commands/index.ts';

import { VERSION } from './version.ts';

export { VERSION };

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

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Runs the CLI; returns the process exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const debug = argv.includes('--debug') && !argv.slice(0, argv.indexOf('--debug')).includes('--');
  const args = debug ? argv.filter((a, i) => !(a === '--debug' && i === argv.indexOf('--debug'))) : [...argv];
  const first = args[0];
  try {
    if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
      const topic = first === 'help' ? args[1] : undefined;
      const cmd = topic === undefined ? undefined : findCommand(topic);
      io.stdout(cmd === undefined ? helpText() : `${cmd.usage}\n`);
      return first === undefined ? EXIT_USAGE : 0;
    }
    if (first === '--version' || first === 'version') {
      io.stdout(`nanovisor ${VERSION}\n`);
      return 0;
    }
    let cmd = findCommand(first);
    let rest = args.slice(1);
    if (cmd === undefined) {
      // `run` is the default verb: `nanovisor app.wasm -- args`.
      if (first.startsWith('-')) {
        io.stderr(`nanovisor: error NV_USAGE: unknown flag ${first}\n  ${ERROR_CODES.NV_USAGE.hint}\n`);
        return EXIT_USAGE;
      }
      cmd = findCommand('run');
      rest = args;
    }
    if (cmd === undefined) throw new Error('run command missing');
    if (cmd.ownHelp !== true && rest.includes('--help') && !rest.slice(0, rest.indexOf('--help')).includes('--')) {
      io.stdout(`${cmd.usage}\n`);
      return 0;
    }
    return await cmd.run(rest, io);
  } catch (e) {
    return report(e, io, debug);
  }
}

function report(e: unknown, io: CliIo, debug: boolean): number {
  if (isNanovisorError(e)) {
    io.stderr(`nanovisor: error ${e.code}: ${e.message}\n  ${e.hint}\n`);
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
