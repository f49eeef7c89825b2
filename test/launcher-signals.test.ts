// The launcher (bin/nanovisor.js) as a process tree: started by a Node older than 24 it
// relaunches itself on the pinned Node 24, and that child is the real daemon. Signals sent
// to the launcher must reach the daemon, the launcher must exit with the daemon's status,
// and nothing of the tree may outlive it — not even when the launcher is SIGKILLed.
// Needs a system node < 24 (Debian's is 20); skipped, saying so, when there is none.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { alive, descendants, procInfo } from './support/processes.ts';

const launcher = new URL('../bin/nanovisor.js', import.meta.url).pathname;

/** A node binary older than 24 on this machine, if any. */
function olderNode(): string | undefined {
  const found = new Set<string>(['/usr/bin/node', '/usr/local/bin/node']);
  try {
    for (const p of execFileSync('which', ['-a', 'node'], { encoding: 'utf8', env: { PATH: (process.env['PATH'] ?? '').split(':').filter((d) => !d.includes('node_modules')).join(':') } }).split('\n')) {
      if (p.trim() !== '') found.add(p.trim());
    }
  } catch {
    // `which` finds none: only the fixed candidates.
  }
  for (const p of found) {
    if (!existsSync(p)) continue;
    try {
      const v = execFileSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
      if (Number(v.split('.')[0]) < 24) return p;
    } catch {
      // Not runnable.
    }
  }
  return undefined;
}

const oldNode = olderNode();
const skip = oldNode === undefined ? 'no node older than 24 on this machine (which -a node, /usr/bin/node), so the launcher never relaunches' : false;

const dirs: string[] = [];
/** Every process a test started, killed at the end if a failing test left it behind. */
const started: number[] = [];
after(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

interface Tree {
  launcher: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  apiPort: number;
  gatewayPort: number;
  /** Every process under the launcher once the daemon answers. */
  tree: number[];
  output: () => string;
}

/** `nanovisor serve` through the launcher on the old node, once /healthz answers. */
async function startTree(): Promise<Tree> {
  const data = mkdtempSync(join(tmpdir(), 'nv-launcher-'));
  dirs.push(data);
  const child = spawn(oldNode!, [launcher, 'serve', '--data', data, '--api', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--no-examples'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor('the daemon to print its addresses', () => /gateway: +http:\/\/[^\s]+:\d+/.test(out) || child.exitCode !== null);
  const api = /api: +http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
  const gw = /gateway: +http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
  assert.ok(api !== null && gw !== null, `serve did not start:\n${out}`);
  const apiPort = Number(api[1]);
  await waitFor('/healthz', async () => {
    try {
      return (await fetch(`http://127.0.0.1:${apiPort}/healthz`)).status === 200;
    } catch {
      return false;
    }
  });
  const tree = descendants(child.pid!);
  started.push(child.pid!, ...tree);
  return { launcher: child, exited, apiPort, gatewayPort: Number(gw[1]), tree, output: () => out };
}

test('SIGTERM to the launcher stops the daemon: exit 0, no process left, ports free', { skip }, async () => {
  const t = await startTree();
  assert.ok(t.tree.length >= 1, 'the launcher relaunched itself on Node 24 (a child process)');
  const nodes = t.tree.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]);
  assert.ok(nodes.some((n) => n !== oldNode), `a child runs on another node: ${nodes.join(', ')}`);
  process.kill(t.launcher.pid!, 'SIGTERM');
  const { code, signal } = await t.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, t.output());
  await waitFor('the tree to be gone', () => t.tree.every((pid) => !alive(pid)), 5000);
  assert.ok(await portFree(t.apiPort), 'API port free');
  assert.ok(await portFree(t.gatewayPort), 'gateway port free');
  assert.match(t.output(), /"signal":"SIGTERM"/, 'the daemon itself got the SIGTERM');
});

test('SIGINT and SIGHUP are passed on the same way', { skip }, async () => {
  for (const sig of ['SIGINT', 'SIGHUP'] as const) {
    const t = await startTree();
    process.kill(t.launcher.pid!, sig);
    const { code, signal } = await t.exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `${sig}: ${t.output()}`);
    await waitFor('the tree to be gone', () => t.tree.every((pid) => !alive(pid)), 5000);
    assert.match(t.output(), new RegExp(`"signal":"${sig}"`));
  }
});

test('kill -9 of the launcher: the daemon notices and goes away, ports free', { skip }, async () => {
  const t = await startTree();
  process.kill(t.launcher.pid!, 'SIGKILL');
  const { signal } = await t.exited;
  assert.equal(signal, 'SIGKILL');
  await waitFor('the orphaned daemon to exit', () => t.tree.every((pid) => !alive(pid)), 10_000);
  await waitFor('the ports to be free', async () => (await portFree(t.apiPort)) && (await portFree(t.gatewayPort)), 5000);
});

test('a daemon that dies of a signal: the launcher dies of the same signal', { skip }, async () => {
  const t = await startTree();
  const daemon = t.tree.find((pid) => procInfo(pid)?.ppid === t.launcher.pid)!;
  process.kill(daemon, 'SIGKILL');
  const { code, signal } = await t.exited;
  assert.deepEqual({ code, signal }, { code: null, signal: 'SIGKILL' });
});

test('the launcher exits with the command\'s exit code', { skip }, async () => {
  const run = (args: string[]) => new Promise<number | null>((resolve) => {
    const c = spawn(oldNode!, [launcher, ...args], { stdio: 'ignore' });
    c.once('exit', (code) => resolve(code));
  });
  assert.equal(await run(['--version']), 0);
  assert.equal(await run(['--no-such-flag']), 2);
});
