// Durability of a volume (docs/volumes.md): kill -9 of the daemon during a stream of writes to
// the counter example on an exclusive volume, restart on the same data directory: every
// increment that got a 2xx is there (the counter is at least the highest value answered, at
// most the number sent), the file reads cleanly, the app serves on.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { tempDir } from '../src/image/testing.ts';
import { exampleDir } from './helpers.ts';
import { alive, descendants } from './support/processes.ts';

const data = tempDir('nv-vol-crash-');
const main = new URL('../src/cli/main.ts', import.meta.url).pathname;
const ROUNDS = 3;

interface Running { child: ChildProcess; api: string; gateway: string; token: string; exited: Promise<number | null> }

function start(): Promise<Running> {
  const child = spawn(process.execPath, [main, 'serve', '--data', data.path, '--api', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--no-examples', '--shards', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const api = /api: +(\S+)/.exec(out)?.[1];
      const gateway = /gateway: +(\S+)/.exec(out)?.[1];
      if (api !== undefined && gateway !== undefined && out.includes('data dir:')) {
        resolve({ child, api, gateway, token: readFileSync(join(data.path, 'token'), 'utf8').trim(), exited });
      }
    });
    void exited.then((code) => reject(new Error(`daemon exited (${code}) before it was ready: ${stderr}`)));
  });
}

async function api(r: Running, method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${r.api}${path}`, {
    method, headers: { authorization: `Bearer ${r.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.text();
  return res.status;
}

let running: Running | undefined;
after(async () => {
  if (running !== undefined && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  data[Symbol.dispose]();
});

test(`kill -9 during increments (${ROUNDS} times), restart: every answered increment is on disk`, { timeout: 180_000 }, async () => {
  buildImage({ dir: exampleDir('counter-c'), store: ImageStore.openHome(data.path) });
  running = await start();
  assert.equal(await api(running, 'POST', '/v1/volumes', { name: 'counter', access: 'exclusive' }), 201);
  assert.equal(await api(running, 'POST', '/v1/apps', { name: 'counter', routes: [{ path: '/counter' }], limits: { queue: 1000 } }), 201);
  assert.equal(await api(running, 'POST', '/v1/apps/counter/versions', { image: 'counter-c:latest' }), 201);
  let highest = 0;
  let sent = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const r = running;
    let answered = 0;
    let killed = false;
    const loop = async (): Promise<void> => {
      while (!killed) {
        sent++;
        try {
          const res = await fetch(`${r.gateway}/counter`, { method: 'POST' });
          const text = await res.text();
          if (res.status === 200) {
            highest = Math.max(highest, Number(text));
            answered++;
          }
        } catch {
          return; // the daemon is gone
        }
      }
    };
    const loops = Array.from({ length: 4 }, loop);
    while (answered < 40) await new Promise((res) => setTimeout(res, 5));
    killed = true;
    // The shards die with the daemon, but not in the same instant: a guest they were running
    // may still finish its write. Read the file once the whole tree is gone.
    const tree = descendants(r.child.pid!);
    r.child.kill('SIGKILL');
    await r.exited;
    while (tree.some(alive)) await new Promise((res) => setTimeout(res, 10));
    await Promise.all(loops);
    const onDisk = Number(readFileSync(join(data.path, 'volumes', 'counter', 'counter'), 'utf8'));
    assert.ok(onDisk >= highest, `round ${round}: the file holds ${onDisk}, but ${highest} was answered`);
    assert.ok(onDisk <= sent, `round ${round}: the file holds ${onDisk}, more than the ${sent} sent`);
    running = await start();
    const got = await fetch(`${running.gateway}/counter`);
    assert.equal(got.status, 200);
    assert.equal(Number(await got.text()), onDisk, `round ${round}: served after the restart`);
    highest = onDisk;
  }
  running.child.kill('SIGTERM');
  await running.exited;
});
