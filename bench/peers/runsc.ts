/**
 * Peer: gVisor's `runsc` (Debian package `runsc`), the sandbox start of the echo: `runsc
 * do /bin/cat` in a fresh sandbox (ptrace platform, no network) with the echo body on
 * stdin, timed from spawn until its output is complete. Not HTTP: gVisor has no HTTP
 * front of its own, so this is the floor of a sandbox-per-request design on gVisor.
 */
import { execFileSync, spawn } from 'node:child_process';
import { ECHO_BODY, hasCommand } from './common.ts';

function args(): string[] {
  const rootless = typeof process.getuid === 'function' && process.getuid() !== 0;
  return [...(rootless ? ['--rootless'] : []), '--network=none', '--platform=ptrace', 'do', '/bin/cat'];
}

/** Undefined when runsc runs here; otherwise the reason it cannot, in one line. */
export function runscUnavailable(): string | undefined {
  if (!hasCommand('runsc')) return 'runsc is not installed (Debian package runsc; scripts/install.sh)';
  try {
    const out = execFileSync('runsc', args(), { input: 'probe', timeout: 30_000, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
    if (out !== 'probe') return `runsc do /bin/cat answered ${JSON.stringify(out.slice(0, 80))}`;
    return undefined;
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const line = (err.stderr?.toString() ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '').pop() ?? err.message;
    return `runsc ${args().join(' ')} fails here: ${line.slice(0, 200)}`;
  }
}

export function runscVersion(): string {
  try {
    return execFileSync('runsc', ['--version']).toString().split('\n')[0] ?? '';
  } catch {
    return '';
  }
}

/** One sandbox start: ms from spawn until `cat` has echoed the body and the sandbox exited. */
export function runscEchoOnce(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('runsc', args(), { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0 || out !== ECHO_BODY) reject(new Error(`runsc exited ${code} with ${JSON.stringify(out.slice(0, 80))}`));
      else resolve(ms);
    });
    child.stdin.end(ECHO_BODY);
  });
}
