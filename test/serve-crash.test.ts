// Crash safety of `nanovisor serve`: the real daemon runs as a child process while a client
// uploads images and deploys them in a loop, and is killed with SIGKILL at a random point
// (0-300 ms after it is ready), 15 times. After each restart the state must be consistent:
// every app on a version that exists, every version's image in the store and loadable,
// every upload and deploy the API acknowledged (201) still there, every blob in the store
// whole (its bytes hash to its name), and the app still served.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';

const GUEST = String.raw`
#include <stdio.h>
#include <stdlib.h>
int main(void) { printf("Content-Type: text/plain\n\nimage=%s\n", getenv("IMAGE") ? getenv("IMAGE") : "-"); return 0; }
`;

const KILLS = 15;
const MAX_KILL_DELAY_MS = 300;
const main = new URL('../src/cli/main.ts', import.meta.url).pathname;

const data = tempDir('nv-crash-');
const work = tempDir('nv-crash-work-');
after(() => {
  data[Symbol.dispose]();
  work[Symbol.dispose]();
});

/** A WebAssembly custom section, so each image has a module blob of its own. */
function customSection(name: string, payload: string): Uint8Array {
  const n = Buffer.from(name);
  const p = Buffer.from(payload);
  const body = Buffer.concat([Buffer.from([n.length]), n, p]);
  const size: number[] = [];
  let v = body.length;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    size.push(b);
  } while (v !== 0);
  return Buffer.concat([Buffer.from([0]), Buffer.from(size), body]);
}

const base = compileC(GUEST);
const builder = ImageStore.open(join(work.path, 'builder'));

/** The export tar of image number `i`: its own module bytes, version and env. */
function imageTar(i: number): Uint8Array {
  const dir = join(work.path, `app-${i}`);
  const module = Buffer.concat([base, customSection('nv-crash', `image ${i} ${'x'.repeat(2000 + i)}`)]);
  writeTree(dir, { 'app.wasm': module, 'nanovisor.json': JSON.stringify({ name: 'crash', version: String(i), module: 'app.wasm', env: { IMAGE: String(i) } }) });
  const { digest } = buildImage({ dir, store: builder });
  const file = join(work.path, `image-${i}.tar`);
  builder.export(digest, file);
  return new Uint8Array(readFileSync(file));
}

interface Running {
  child: ChildProcess;
  api: string;
  gateway: string;
  token: string;
  exited: Promise<number | null>;
}

function start(): Promise<Running> {
  const child = spawn(process.execPath, [main, 'serve', '--data', data.path, '--api', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--no-examples'], {
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

async function call(r: Running, method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${r.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (raw !== undefined) headers['content-type'] = 'application/x-tar';
  const res = await fetch(`${r.api}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

const APPS = ['alpha', 'beta'];
/** Every deploy acknowledged with 201: app -> version -> digest. */
const acked = new Map<string, Map<number, string>>(APPS.map((a) => [a, new Map()]));
/** Every upload acknowledged with 201. */
const uploaded = new Set<string>();

async function checkConsistent(r: Running, round: number): Promise<void> {
  const images = await call(r, 'GET', '/v1/images');
  assert.equal(images.status, 200);
  const inStore = new Set<string>(images.json.map((i: { digest: string }) => i.digest));
  for (const d of uploaded) assert.ok(inStore.has(d), `round ${round}: acknowledged upload ${d} is missing`);
  for (const app of APPS) {
    const a = await call(r, 'GET', `/v1/apps/${app}`);
    assert.equal(a.status, 200, `round ${round}: app ${app} is missing`);
    const versions = await call(r, 'GET', `/v1/apps/${app}/versions`);
    const byNumber = new Map<number, string>(versions.json.map((v: { version: number; digest: string }) => [v.version, v.digest]));
    for (const [n, digest] of acked.get(app)!) assert.equal(byNumber.get(n), digest, `round ${round}: acknowledged deploy ${app} v${n} is lost`);
    for (const [n, digest] of byNumber) assert.ok(inStore.has(digest), `round ${round}: ${app} v${n} points at a missing image ${digest}`);
    if (a.json.currentVersion !== null) {
      assert.ok(byNumber.has(a.json.currentVersion), `round ${round}: ${app} is on v${a.json.currentVersion}, which does not exist`);
      assert.equal(a.json.currentDigest, byNumber.get(a.json.currentVersion));
      // Served, by the image of its current version.
      const res = await fetch(`${r.gateway}/${app}`);
      assert.equal(res.status, 200, `round ${round}: ${app} is not served`);
      const served = (await res.text()).trim();
      const expected = versions.json.find((v: { version: number }) => v.version === a.json.currentVersion).image.version;
      assert.equal(served, `image=${expected}`);
    }
  }
}

test(`kill -9 during deploys and uploads (${KILLS} times), restart: the state is consistent`, { timeout: 180_000 }, async (t) => {
  // Built before the daemon runs, so the kills land in the daemon's work, not in ours.
  const tars = Array.from({ length: 80 }, (_, i) => imageTar(i));
  let r = await start();
  for (const app of APPS) assert.equal((await call(r, 'POST', '/v1/apps', { name: app, routes: [{ path: `/${app}` }] })).status, 201);
  let next = 0;
  const killedDuring = { upload: 0, deploy: 0, between: 0 };
  // One upload + deploy without a kill, timed: on a loaded machine a cycle can take longer than
  // MAX_KILL_DELAY_MS, and kills that always land in the first upload would test nothing else.
  const cycleStarted = performance.now();
  const first = await call(r, 'POST', '/v1/images', undefined, tars[next++]!);
  assert.equal(first.status, 201);
  uploaded.add(first.json.digest);
  const firstDeploy = await call(r, 'POST', `/v1/apps/${APPS[0]}/versions`, { image: first.json.digest });
  assert.equal(firstDeploy.status, 201);
  acked.get(APPS[0]!)!.set(firstDeploy.json.version, firstDeploy.json.digest);
  const maxDelay = Math.max(MAX_KILL_DELAY_MS, Math.ceil(3 * (performance.now() - cycleStarted)));
  let deploysDuringKills = 0;
  for (let round = 1; round <= KILLS; round++) {
    await checkConsistent(r, round);
    const delay = Math.floor(Math.random() * (maxDelay + 1));
    let phase: 'upload' | 'deploy' | 'between' = 'between';
    let killed = false;
    const killer = setTimeout(() => {
      killed = true;
      killedDuring[phase]++;
      r.child.kill('SIGKILL');
    }, delay);
    try {
      while (!killed) {
        const i = next++;
        phase = 'upload';
        const tar = tars[i] ?? imageTar(i);
        const up = await call(r, 'POST', '/v1/images', undefined, tar);
        if (up.status !== 201) throw new Error(`upload answered ${up.status}: ${JSON.stringify(up.json)}`);
        uploaded.add(up.json.digest);
        phase = 'deploy';
        const app = APPS[i % APPS.length]!;
        const dep = await call(r, 'POST', `/v1/apps/${app}/versions`, { image: up.json.digest });
        if (dep.status !== 201) throw new Error(`deploy answered ${dep.status}: ${JSON.stringify(dep.json)}`);
        acked.get(app)!.set(dep.json.version, dep.json.digest);
        deploysDuringKills++;
        phase = 'between';
      }
    } catch (e) {
      // Only a connection cut by the kill is expected here.
      if (!killed) throw e;
    }
    clearTimeout(killer);
    await r.exited;
    r = await start();
  }
  await checkConsistent(r, KILLS + 1);
  r.child.kill('SIGTERM');
  assert.equal(await r.exited, 0, 'clean shutdown on SIGTERM');

  // The store itself: every blob whole, every version's image loadable.
  const blobs = join(data.path, 'images', 'blobs', 'sha256');
  let temps = 0;
  for (const name of readdirSync(blobs)) {
    if (name.startsWith('.tmp-')) {
      temps++;
      continue;
    }
    const hash = createHash('sha256').update(readFileSync(join(blobs, name))).digest('hex');
    assert.equal(hash, name, `blob ${name} is half-written or corrupt`);
  }
  const store = ImageStore.open(join(data.path, 'images'));
  const list = store.list();
  for (const versions of acked.values()) for (const digest of versions.values()) store.load(digest);
  for (const img of list) store.load(img.digest);
  const deploys = [...acked.values()].reduce((n, m) => n + m.size, 0);
  // Findings, for the record (node --test prints diagnostics).
  t.diagnostic(`images tried ${next}, uploads acked ${uploaded.size}, deploys acked ${deploys} (${deploysDuringKills} between kills, kill delay up to ${maxDelay} ms), kills during upload/deploy/between ${killedDuring.upload}/${killedDuring.deploy}/${killedDuring.between}, leftover temp files ${temps}, images in store ${list.length}`);
  assert.ok(deploys > 1 && deploysDuringKills > 0, 'some deploys were acknowledged between kills');
});
