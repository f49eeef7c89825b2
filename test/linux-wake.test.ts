// Scale to zero for linux server apps end to end: a program keeping a counter in memory,
// deployed with `server.idleTimeoutMs`, is checkpointed (`runsc checkpoint`) once idle — its
// sandbox is gone — and the next requests wait buffered while it is restored (`runsc
// restore`), then are served by it with the counter exactly where it stood at the
// checkpoint. Skipped where runsc cannot run.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { probeRunsc } from '../src/drivers/linux/index.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { tempDir, writeTree } from '../src/image/testing.ts';

const data = tempDir('nv-lwake-');
const work = tempDir('nv-lwake-work-');
const status = await probeRunsc({ stateDir: join(work.path, 'probe-state') });
const skip = status.available ? false : `linux driver unavailable here: ${status.reason}`;
let d: Daemon;
let token: string;
const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];

async function api(method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<{ status: number; json: any; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (raw !== undefined) headers['content-type'] = 'application/x-tar';
  const res = await fetch(`${d.apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

/** The sandboxes runsc knows of in the daemon's state directory. */
function sandboxes(): string[] {
  const out = execFileSync('runsc', ['--root', join(data.path, 'linux', 'state'), 'list', '-quiet'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.startsWith('nv-srv-'));
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const count = (text: string): number => Number(/^count=(\d+) /.exec(text)?.[1]);
const events = (msg: string): number => logs.filter((l) => l.msg === msg && l.fields?.['app'] === 'counter').length;

before(async () => {
  if (skip !== false) return;
  execFileSync('gcc', ['-static', '-O2', '-o', join(work.path, 'counter-bin'), join(import.meta.dirname, 'support', 'counter-server.c')]);
  const store = ImageStore.open(join(work.path, 'store'));
  writeTree(join(work.path, 'counter'), {
    'counter': new Uint8Array(readFileSync(join(work.path, 'counter-bin'))),
    'nanovisor.json': JSON.stringify({ name: 'counter', driver: 'linux', rootfs: { binary: 'counter' }, args: ['/app', '9000'], server: { port: 9000, idleTimeoutMs: 1000 } }),
  });
  chmodSync(join(work.path, 'counter', 'counter'), 0o755);
  const { digest } = buildImage({ dir: join(work.path, 'counter'), store });
  store.export(digest, join(work.path, 'counter.tar'));
  // What a killed daemon left: a checkpoint never to be restored.
  mkdirSync(join(data.path, 'linux', 'checkpoints', 'nv-srv-left'), { recursive: true });
  writeFileSync(join(data.path, 'linux', 'checkpoints', 'nv-srv-left', 'checkpoint.img'), 'old memory');
  d = await startDaemon({ dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000, shards: 0, log: (level, msg, fields) => logs.push({ level, msg, ...(fields === undefined ? {} : { fields }) }) });
  token = readFileSync(d.tokenFile, 'utf8').trim();
  assert.equal((await api('POST', '/v1/apps', { name: 'counter', routes: [{ path: '/count' }] })).status, 201);
  const up = await api('POST', '/v1/images', undefined, new Uint8Array(readFileSync(join(work.path, 'counter.tar'))));
  assert.equal(up.status, 201, up.text);
  const v = await api('POST', '/v1/apps/counter/versions', { image: up.json.digest });
  assert.equal(v.status, 201, v.text);
});

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
  work[Symbol.dispose]();
});

test('an idle server app is checkpointed (its sandbox is gone); the next requests wake it and find its memory as it was', { skip }, async () => {
  // Awake: the counter counts in memory (the readiness probe's connection counted too).
  const first = count(await (await fetch(`${d.gatewayUrl}/count`)).text());
  const second = count(await (await fetch(`${d.gatewayUrl}/count`)).text());
  assert.equal(second, first + 1);

  for (let cycle = 0; cycle < 2; cycle++) {
    const before = count(await (await fetch(`${d.gatewayUrl}/count`)).text());
    const slept = events('server instance asleep');
    await until('the instance to sleep', () => events('server instance asleep') > slept);
    await until('its sandbox to be gone', () => sandboxes().length === 0);
    assert.equal(readdirSync(join(data.path, 'linux', 'checkpoints')).length, 1, 'its checkpoint image is on disk, and only it');
    assert.ok(!existsSync(join(data.path, 'linux', 'checkpoints', 'nv-srv-left')), 'a checkpoint an earlier daemon left is deleted at start');
    const asleep = await api('GET', '/v1/apps/counter');
    assert.equal(asleep.json.instance.state, 'asleep', asleep.text);
    assert.ok(asleep.json.instance.sleeps >= cycle + 1);
    const cli = await new Promise<string>((resolve, reject) => execFile(process.execPath, [join(import.meta.dirname, '..', 'bin', 'nanovisor.js'), 'app', 'counter', '--server', d.apiUrl, '--token', token], { encoding: 'utf8' }, (e, out) => (e === null ? resolve(out) : reject(e))));
    assert.match(cli, /^instance: asleep \([1-9]\d* sleeps?, \d+ wakes?/m);
    const m = await api('GET', '/metrics');
    assert.match(m.text, /nanovisor_server_instance_state\{app="counter",state="asleep"\} 1\n/);
    assert.match(m.text, /nanovisor_server_instance_state\{app="counter",state="awake"\} 0\n/);

    // Three requests arrive while it sleeps: they wait buffered, then each is served once.
    const answers = await Promise.all([1, 2, 3].map(async (i) => {
      const res = await fetch(`${d.gatewayUrl}/count?n=${i}`);
      return { status: res.status, text: await res.text(), id: res.headers.get('x-request-id') };
    }));
    for (const a of answers) assert.equal(a.status, 200, a.text);
    const counts = answers.map((a) => count(a.text)).sort((a, b) => a - b);
    // State after the wake is the state at the checkpoint: it goes on from `before`.
    assert.deepEqual(counts, [before + 1, before + 2, before + 3]);
    for (const a of answers) assert.equal(/id=(\S+)/.exec(a.text)?.[1], a.id, 'each buffered request reached the app itself');
    assert.ok(events('server instance awake') >= cycle + 1);
    const woken = (await api('GET', '/v1/apps/counter')).json.instance;
    assert.ok(woken.wakes >= cycle + 1 && typeof woken.lastWakeMs === 'number' && woken.lastWakeMs > 0, JSON.stringify(woken));
    const wm = await api('GET', '/metrics');
    assert.match(wm.text, /nanovisor_server_wakes_total\{app="counter"\} [1-9]/);
    assert.match(wm.text, /nanovisor_server_wake_seconds_count\{app="counter"\} [1-9]/);
  }
  assert.equal(events('server instance crashed: restarting it'), 0);
  assert.equal(logs.filter((l) => / failed$/.test(l.msg)).length, 0, JSON.stringify(logs.filter((l) => / failed$/.test(l.msg))));
});
