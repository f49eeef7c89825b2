/**
 * wasi:cli — environment, exit, stdio and terminals — from the same kernel state as
 * preview1: argv and env strings, and descriptors 0, 1, 2 of the fd table (captured or
 * inherited, with the one output budget).
 */
import type { Kernel } from '../kernel.ts';
import { ProcExit } from '../unwind.ts';
import { InputStream, OutputStream, type Blocking } from './io.ts';

class TerminalInput {}
class TerminalOutput {}

function pairs(env: readonly string[]): [string, string][] {
  return env.map((kv) => {
    const i = kv.indexOf('=');
    return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
  });
}

export function cliInterfaces(k: Kernel, vm: Blocking): Record<string, object> {
  let stdin: InputStream | undefined;
  let stdout: OutputStream | undefined;
  let stderr: OutputStream | undefined;
  return {
    'wasi:cli/environment': {
      getArguments: () => [...k.argStrings],
      getEnvironment: () => pairs(k.envStrings),
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit: (status: { tag: 'ok' | 'err' }) => {
        throw new ProcExit(status.tag === 'ok' ? 0 : 1);
      },
      exitWithCode: (code: number) => {
        throw new ProcExit(code & 0xff);
      },
    },
    'wasi:cli/stdin': { getStdin: () => (stdin ??= new InputStream({ desc: k.fds.get(0) }, vm)) },
    'wasi:cli/stdout': { getStdout: () => (stdout ??= new OutputStream({ desc: k.fds.get(1) }, vm)) },
    'wasi:cli/stderr': { getStderr: () => (stderr ??= new OutputStream({ desc: k.fds.get(2) }, vm)) },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    // Off a terminal, as the preview1 kernel reports for captured stdio.
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
  };
}
