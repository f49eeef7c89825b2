/**
 * `nanovisor serve` as a user starts it: a child process of the CLI on free ports with a
 * throw-away data directory, ready once it has printed both addresses. For tests that drive
 * the real daemon over sockets (the CLI, templates, JS apps).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../../bin/nanovisor.js', import.meta.url));

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  /** Everything the daemon wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  /** Kills the daemon (SIGKILL) unless it has exited already, and waits for its exit. */
  stop(): Promise<void>;
}

/** Starts `serve --data DATA` on 127.0.0.1 free ports without the bundled examples, plus `extraArgs`. */
export async function startServeProcess(data: string, extraArgs: readonly string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--data', data, '--api', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--no-examples', '--grace', '2s', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  let out = '';
  const urls = await new Promise<{ api: string; gateway: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    child.stdout!.setEncoding('utf8').on('data', (t: string) => {
      out += t;
      const api = /api:\s+(http:\/\/\S+)/.exec(out);
      const gateway = /gateway:\s+(http:\/\/\S+)/.exec(out);
      if (api && gateway) resolve({ api: api[1]!, gateway: gateway[1]! });
    });
  });
  return {
    child, apiUrl: urls.api, gatewayUrl: urls.gateway,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
