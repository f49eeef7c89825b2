// One daemon per data directory: a second `serve` on a directory in use is refused with
// NV_SERVE_DATA_DIR_IN_USE naming the running one (in process and as CLI processes), and a
// lock left by a daemon killed with SIGKILL does not block the next start.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startDaemon } from '../src/cli/commands/serve.ts';
import { readDataDirLock } from '../src/cli/daemon-lock.ts';
import { isNanovisorError } from '../src/shared/errors.ts';

const main = new URL('../src/cli/main.ts', import.meta.url).pathname;
const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'nv-serve-lock-'));
  dirs.push(d);
  return d;
}
const local = { host: '127.0.0.1', port: 0 };

test('in process: a second startDaemon on the same data directory is refused; after close it starts', async () => {
  const data = dataDir();
  const first = await startDaemon({ dataDir: data, api: local, listen: local, examples: false, shards: 0 });
  try {
    await assert.rejects(startDaemon({ dataDir: data, api: local, listen: local, examples: false, shards: 0 }), (e: unknown) => {
      assert.ok(isNanovisorError(e, 'NV_SERVE_DATA_DIR_IN_USE'), String(e));
      assert.ok(e.message.includes(`pid ${process.pid}`), e.message);
      assert.ok(e.message.includes(first.apiUrl), e.message);
      return true;
    });
    // The refused start touched nothing: the first still serves.
    assert.equal((await fetch(`${first.apiUrl}/healthz`)).status, 200);
    assert.equal(readDataDirLock(data)?.api, first.apiUrl);
  } finally {
    await first.close();
  }
  assert.equal(readDataDirLock(data), undefined, 'close gives the lock back');
  const second = await startDaemon({ dataDir: data, api: local, listen: local, examples: false, shards: 0 });
  await second.close();
});

interface Serving {
  child: ChildProcess;
  api: string;
  exited: Promise<{ code: number | null; out: string }>;
}

/** `nanovisor serve` as a process; resolves once it printed its addresses (or exited). */
function serve(data: string): Promise<Serving> {
  const child = spawn(process.execPath, [main, 'serve', '--data', data, '--api', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--no-examples', '--shards', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; out: string }>((r) => child.once('exit', (code) => r({ code, out })));
  return new Promise((resolve) => {
    const check = (): void => {
      const m = /api: +(http:\/\/\S+)/.exec(out);
      if (m !== null && out.includes('gateway:')) resolve({ child, api: m[1]!, exited });
    };
    child.stdout!.on('data', check);
    void exited.then(() => resolve({ child, api: '', exited }));
  });
}

test('as processes: the second serve exits non-zero naming the first; after kill -9 of the first a new one starts', async () => {
  const data = dataDir();
  const first = await serve(data);
  assert.notEqual(first.api, '', 'first serve started');
  const second = await serve(data);
  const { code, out } = await second.exited;
  assert.notEqual(code, 0);
  assert.match(out, /NV_SERVE_DATA_DIR_IN_USE/);
  assert.ok(out.includes(`pid ${first.child.pid}`), out);
  assert.ok(out.includes(first.api), out);
  assert.equal((await fetch(`${first.api}/healthz`)).status, 200, 'the first is untouched');

  first.child.kill('SIGKILL');
  await first.exited;
  assert.equal(readDataDirLock(data)?.pid, first.child.pid, 'the killed daemon left its lock behind');
  const third = await serve(data);
  assert.notEqual(third.api, '', 'a new serve starts over the stale lock');
  assert.equal((await fetch(`${third.api}/healthz`)).status, 200);
  assert.equal(readDataDirLock(data)?.pid, third.child.pid);
  third.child.kill('SIGTERM');
  assert.equal((await third.exited).code, 0);
  assert.equal(readDataDirLock(data), undefined, 'a clean stop removes the lock');
});
