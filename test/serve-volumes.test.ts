// Volumes on `nanovisor serve` over real sockets, with the guests on 2 jailed shards
// (docs/volumes.md): the REST resource and its bad input (each a 4xx naming the field,
// nothing made half-way, one winner of concurrent creates of one name); the CLI's `volume`
// verbs; attaching by the image manifest and by the app's config (unknown volume 400); an
// exclusive volume admitting one VM at a time, so 1,000 concurrent increments of the C
// counter example end at exactly 1,000; a symlink in a volume does not lead out of it;
// deleting an attached volume is 409 naming the app, a volume holding files needs deleteData.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../src/cli/main.ts';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';
import { exampleDir } from './helpers.ts';

const data = tempDir('nv-serve-vol-');
const roots = tempDir('nv-serve-vol-root-');
const outside = tempDir('nv-serve-vol-outside-');
let d: Daemon;
let token: string;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${d.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

/** One gateway request on its own connection (so 1,000 of them are 1,000 sockets at once). */
function call(method: string, path: string): Promise<{ status: number; text: string }> {
  const u = new URL(`${d.gatewayUrl}${path}`);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method, agent: false, headers: { connection: 'close', 'content-length': '0' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd: data.path,
    env: { NANOVISOR_SERVER: d.apiUrl, NANOVISOR_TOKEN: token, NANOVISOR_HOME: data.path },
  });
  return { code, out, err };
}

/** A CGI guest writing CHUNKS chunks of 64 KiB to /data/<request id>: answers `ok N`, or `ENOSPC N` / `SHORT N` / `ERR N` after N whole chunks. */
const FILLER_C = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static char chunk[65536];
int main(void) {
  const char *q = getenv("QUERY_STRING");
  int chunks = q ? atoi(q) : 1;
  char path[128];
  snprintf(path, sizeof path, "/data/%s", getenv("X_REQUEST_ID"));
  memset(chunk, 'x', sizeof chunk);
  printf("Content-Type: text/plain\\r\\n\\r\\n");
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { printf("%s 0\\n", errno == ENOSPC ? "ENOSPC" : "ERR"); return 0; }
  for (int i = 0; i < chunks; i++) {
    ssize_t n = write(fd, chunk, sizeof chunk);
    if (n < 0) { printf("%s %d\\n", errno == ENOSPC ? "ENOSPC" : "ERR", i); return 0; }
    if (n != (ssize_t)sizeof chunk) { printf("SHORT %d\\n", i); return 0; }
  }
  if (fsync(fd) != 0) { printf("ERR %d\\n", chunks); return 0; }
  printf("ok %d\\n", chunks);
  return 0;
}
`;

before(async () => {
  d = await startDaemon({
    dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 },
    examples: false, graceMs: 2000, shards: 2, volumeRoots: [roots.path],
  });
  token = readFileSync(d.tokenFile, 'utf8').trim();
  buildImage({ dir: exampleDir('counter-c'), store: ImageStore.openHome(data.path) });
  const filler = join(roots.path, '..', `${roots.path.split('/').pop()}-filler`);
  writeTree(filler, { 'filler.wasm': compileC(FILLER_C), 'nanovisor.json': JSON.stringify({ name: 'filler', module: 'filler.wasm' }) });
  buildImage({ dir: filler, store: ImageStore.openHome(data.path) });
});

after(async () => {
  await d?.close();
  for (const t of [data, roots, outside]) t[Symbol.dispose]();
});

test('volumes are a REST resource: create, list, get, resize, delete; defaults stated', async () => {
  const created = await api('POST', '/v1/volumes', { name: 'notes' });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(created.json.access, 'shared');
  assert.equal(created.json.quotaBytes, 1024 ** 3);
  assert.equal(created.json.quotaFiles, 100_000);
  assert.equal(created.json.location, 'data');
  assert.equal(created.json.hostPath, undefined, 'a data-directory volume does not show the server path');
  assert.deepEqual([created.json.usedBytes, created.json.usedFiles, created.json.apps], [0, 0, []]);
  assert.ok(existsSync(join(data.path, 'volumes', 'notes')));
  writeFileSync(join(data.path, 'volumes', 'notes', 'a.txt'), 'hello');
  const got = await api('GET', '/v1/volumes/notes');
  assert.deepEqual([got.json.usedBytes, got.json.usedFiles], [5, 1]);
  const resized = await api('PATCH', '/v1/volumes/notes', { quotaBytes: 4096, quotaFiles: 10, access: 'exclusive' });
  assert.equal(resized.status, 200);
  assert.deepEqual([resized.json.quotaBytes, resized.json.quotaFiles, resized.json.access], [4096, 10, 'exclusive']);
  assert.deepEqual((await api('GET', '/v1/volumes')).json.map((v: { name: string }) => v.name), ['notes']);
  // Holding files: deleted only when asked to.
  const keep = await api('DELETE', '/v1/volumes/notes');
  assert.equal(keep.status, 409);
  assert.equal(keep.json.error.code, 'NV_VOLUME_NOT_EMPTY');
  assert.ok(existsSync(join(data.path, 'volumes', 'notes', 'a.txt')));
  assert.equal((await api('DELETE', '/v1/volumes/notes?deleteData=maybe')).status, 400);
  const gone = await api('DELETE', '/v1/volumes/notes?deleteData=true');
  assert.deepEqual(gone.json, { deleted: 'notes', dataDeleted: true });
  assert.ok(!existsSync(join(data.path, 'volumes', 'notes')));
  assert.equal((await api('GET', '/v1/volumes/notes')).json.error.code, 'NV_VOLUME_NOT_FOUND');
  assert.equal((await api('GET', '/v1/volumes/notes')).status, 404);
});

test('bad input is a 4xx naming the field, and nothing is made', async () => {
  const bad = async (body: unknown, field: RegExp, code = 'NV_API_BAD_REQUEST') => {
    const r = await api('POST', '/v1/volumes', body);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.error.code, code);
    assert.match(r.json.error.message, field);
  };
  await bad({ name: 'Bad_Name' }, /name: must be 1-63 characters/);
  await bad({ name: 'q', quotaBytes: -1 }, /quotaBytes: must be positive/);
  await bad({ name: 'q', quotaBytes: 2 ** 51 }, /quotaBytes: must be at most/);
  await bad({ name: 'q', quotaFiles: 1.5 }, /quotaFiles: must be an integer/);
  await bad({ name: 'q', access: 'bogus' }, /access: must be "shared" or "exclusive"/);
  await bad({ name: 'q', size: 5 }, /size: unknown field/);
  await bad({ name: 'q', hostPath: 'relative/dir' }, /hostPath: "relative\/dir" is not an absolute path/, 'NV_VOLUME_PATH_INVALID');
  await bad({ name: 'q', hostPath: join(outside.path, 'q') }, /hostPath: .* is outside the roots/, 'NV_VOLUME_PATH_INVALID');
  await bad({ name: 'q', hostPath: join(outside.path, 'no', 'such') }, /hostPath: the parent directory/, 'NV_VOLUME_PATH_INVALID');
  // A symlink inside the root pointing out of it is outside too.
  symlinkSync(outside.path, join(roots.path, 'link'));
  await bad({ name: 'q', hostPath: join(roots.path, 'link') }, /hostPath: .*symlink/, 'NV_VOLUME_PATH_INVALID');
  const patch = await api('PATCH', '/v1/volumes/none', { quotaBytes: 1 });
  assert.equal(patch.status, 404);
  assert.deepEqual((await api('GET', '/v1/volumes')).json, []);
  assert.deepEqual(readdirSync(join(data.path, 'volumes')), []);
  assert.deepEqual(readdirSync(outside.path), []);
});

test('an operator host path inside an allowed root: made, used by one volume only, its files kept at delete', async () => {
  const dir = join(roots.path, 'pool');
  const r = await api('POST', '/v1/volumes', { name: 'pool', hostPath: dir, quotaBytes: 1 << 20 });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  assert.equal(r.json.location, 'host');
  assert.ok(existsSync(dir));
  const overlap = await api('POST', '/v1/volumes', { name: 'pool2', hostPath: join(dir, 'sub') });
  assert.equal(overlap.json.error.code, 'NV_VOLUME_PATH_INVALID');
  assert.match(overlap.json.error.message, /overlaps volume "pool"/);
  writeFileSync(join(dir, 'keep.txt'), 'x');
  assert.equal((await api('DELETE', '/v1/volumes/pool?deleteData=true')).status, 400, 'an operator directory is never deleted');
  const del = await api('DELETE', '/v1/volumes/pool');
  assert.equal(del.status, 200);
  assert.equal(del.json.dataDeleted, false);
  assert.equal(readFileSync(join(dir, 'keep.txt'), 'utf8'), 'x');
});

test('concurrent creates of one name: exactly one wins, the others get 409, one directory', async () => {
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => api('POST', '/v1/volumes', { name: 'race', quotaFiles: i + 1 })));
  assert.equal(answers.filter((a) => a.status === 201).length, 1);
  for (const a of answers.filter((x) => x.status !== 201)) {
    assert.equal(a.status, 409);
    assert.equal(a.json.error.code, 'NV_VOLUME_EXISTS');
  }
  assert.deepEqual(readdirSync(join(data.path, 'volumes')), ['race']);
  assert.equal((await api('DELETE', '/v1/volumes/race')).status, 200);
});

test('the CLI: volume create, ls, inspect, resize, rm', async () => {
  const c = await cli('volume', 'create', 'cli-vol', '--size', '64M', '--files', '50', '--access', 'exclusive');
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /created volume cli-vol \(exclusive, 64(\.0)? MiB, 50 files\)/);
  const ls = await cli('volume', 'ls');
  assert.match(ls.out, /^NAME\s+ACCESS\s+USED\s+FILES\s+APPS/);
  assert.match(ls.out, /cli-vol\s+exclusive\s+0 B \/ 64(\.0)? MiB\s+0 \/ 50\s+-/);
  const inspect = await cli('volume', 'inspect', 'cli-vol');
  assert.equal(JSON.parse(inspect.out).quotaFiles, 50);
  const resized = await cli('volume', 'resize', 'cli-vol', '--size', '1G');
  assert.match(resized.out, /volume cli-vol: exclusive, 0 B \/ 1(\.0)? GiB/);
  assert.equal((await cli('volume', 'resize', 'cli-vol')).code, 2);
  assert.equal((await cli('volume', 'create', 'x', '--access', 'both')).code, 2);
  const missing = await cli('volume', 'inspect', 'nope');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /NV_VOLUME_NOT_FOUND/);
  const rm = await cli('volume', 'rm', 'cli-vol');
  assert.match(rm.out, /deleted volume cli-vol \(it held no files\)/);
});

test('attaching: an unknown volume is refused (400); the manifest mount and the app config mount it on the shards', async () => {
  assert.equal((await api('POST', '/v1/apps', { name: 'counter', routes: [{ path: '/counter' }], limits: { concurrency: 64, queue: 1000 } })).status, 201);
  const unknown = await api('POST', '/v1/apps/counter/versions', { image: 'counter-c:latest' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.error.code, 'NV_VOLUME_UNKNOWN');
  assert.match(unknown.json.error.message, /mounts\[0\]\.volume \(in the image's manifest\): no volume named "counter"/);
  assert.equal((await api('GET', '/v1/apps/counter')).json.currentVersion, null, 'nothing deployed');
  const badApp = await api('POST', '/v1/apps', { name: 'other', routes: [{ path: '/other' }], volumes: [{ volume: 'nope', guest: '/data' }] });
  assert.equal(badApp.status, 400);
  assert.match(badApp.json.error.message, /volumes\[0\]\.volume: no volume named "nope"/);
  const badGuest = await api('POST', '/v1/apps', { name: 'other', routes: [{ path: '/other' }], volumes: [{ volume: 'nope', guest: '/' }] });
  assert.match(badGuest.json.error.message, /volumes\[0\]\.guest: must be an absolute guest path other than "\/"/);

  assert.equal((await api('POST', '/v1/volumes', { name: 'counter', access: 'exclusive' })).status, 201);
  const deployed = await api('POST', '/v1/apps/counter/versions', { image: 'counter-c:latest' });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.json));
  assert.equal((await call('POST', '/counter')).text, '1\n');
  assert.equal((await call('GET', '/counter')).text, '1\n');
  assert.equal(readFileSync(join(data.path, 'volumes', 'counter', 'counter'), 'utf8'), '1\n');

  // The app's own config wins at the same guest path: a second app on another volume.
  assert.equal((await api('POST', '/v1/volumes', { name: 'tally', access: 'exclusive', hostPath: join(roots.path, 'tally') })).status, 201);
  assert.equal((await api('POST', '/v1/apps', { name: 'tally', routes: [{ path: '/tally' }], volumes: [{ volume: 'tally', guest: '/data' }] })).status, 201);
  assert.equal((await api('POST', '/v1/apps/tally/versions', { image: 'counter-c:latest' })).status, 201);
  assert.equal((await call('POST', '/tally')).text, '1\n');
  assert.equal(readFileSync(join(roots.path, 'tally', 'counter'), 'utf8'), '1\n');
  assert.equal((await call('GET', '/counter')).text, '1\n', 'the other volume is untouched');
  // Read-only through the app config: the guest cannot write.
  assert.equal((await api('PATCH', '/v1/apps/tally', { volumes: [{ volume: 'tally', guest: '/data', readonly: true }] })).status, 200);
  assert.equal((await call('POST', '/tally')).status, 500);
  assert.equal((await call('GET', '/tally')).text, '1\n');
});

test('exclusive: 1,000 concurrent increments over real sockets on 2 shards end at exactly 1,000', async () => {
  const before = Number((await call('GET', '/counter')).text);
  const answers = await Promise.all(Array.from({ length: 1000 }, () => call('POST', '/counter')));
  const bad = answers.filter((a) => a.status !== 200);
  assert.equal(bad.length, 0, JSON.stringify(bad.slice(0, 3)));
  const values = answers.map((a) => Number(a.text)).sort((a, b) => a - b);
  assert.deepEqual(values, Array.from({ length: 1000 }, (_, i) => before + i + 1), 'every increment saw the one before it');
  assert.equal(Number((await call('GET', '/counter')).text), before + 1000);
  const stats = d.host.stats ? await d.host.stats() : undefined;
  assert.equal(stats?.processes, 2, 'served by 2 shards');
});

test('a symlink in a volume does not lead out of it', async () => {
  const secret = join(outside.path, 'secret');
  writeFileSync(secret, '41\n');
  const vol = join(data.path, 'volumes', 'counter');
  const counter = join(vol, 'counter');
  const saved = readFileSync(counter, 'utf8');
  mkdirSync(join(vol, 'sub'));
  // Replace the counter by a symlink to a host file outside the volume, absolute and relative.
  for (const target of [secret, `../../../../../../../..${secret}`]) {
    writeFileSync(counter, '');
    const { rmSync } = await import('node:fs');
    rmSync(counter);
    symlinkSync(target, counter);
    const r = await call('GET', '/counter');
    assert.notEqual(r.text, '41\n', `the guest read the host file through ${target}`);
    rmSync(counter);
  }
  writeFileSync(counter, saved);
});

test('deleting an attached volume is refused (409) naming the apps', async () => {
  const r = await api('DELETE', '/v1/volumes/counter?deleteData=true');
  assert.equal(r.status, 409);
  assert.equal(r.json.error.code, 'NV_VOLUME_IN_USE');
  assert.match(r.json.error.message, /mounted by app "counter"/);
  assert.equal((await api('GET', '/v1/volumes/counter')).json.apps[0], 'counter');
  assert.equal((await api('DELETE', '/v1/apps/counter')).status, 204);
  assert.equal((await api('DELETE', '/v1/volumes/counter?deleteData=true')).status, 200);
});

test('quota: held across concurrent VMs on 2 shards; the guest gets ENOSPC, never a short write; other volumes keep working; metrics per volume', async () => {
  const QUOTA = 1024 * 1024;
  assert.equal((await api('POST', '/v1/volumes', { name: 'small', quotaBytes: QUOTA, quotaFiles: 1000 })).status, 201);
  assert.equal((await api('POST', '/v1/apps', { name: 'filler', routes: [{ path: '/filler' }], volumes: [{ volume: 'small', guest: '/data' }], limits: { queue: 100 } })).status, 201);
  assert.equal((await api('POST', '/v1/apps/filler/versions', { image: 'filler:latest' })).status, 201);
  // 16 VMs at once, each wanting 4 x 64 KiB: 4 MiB asked of a 1 MiB volume.
  const answers = await Promise.all(Array.from({ length: 16 }, () => call('GET', '/filler?4')));
  const lines = answers.map((a) => { assert.equal(a.status, 200, a.text); return a.text.trim(); });
  assert.ok(lines.every((l) => /^(ok 4|ENOSPC [0-3])$/.test(l)), `every VM wrote whole chunks then got ENOSPC: ${lines.join(', ')}`);
  assert.ok(lines.some((l) => l.startsWith('ENOSPC')), 'the quota was reached');
  assert.ok(lines.some((l) => l === 'ok 4'), 'some VMs got their room');
  const dir = join(data.path, 'volumes', 'small');
  const sizes = readdirSync(dir).map((f) => readFileSync(join(dir, f)).length);
  const total = sizes.reduce((a, b) => a + b, 0);
  assert.ok(total <= QUOTA, `the volume holds ${total} bytes, more than its quota ${QUOTA}`);
  assert.ok(sizes.every((n) => n % 65536 === 0), 'no file holds part of a chunk');
  const whole = lines.reduce((n, l) => n + Number(l.split(' ')[1]), 0);
  assert.equal(total, whole * 65536, 'what is on disk is exactly what the guests were told they wrote');
  // The volume as the API sees it, and another volume that keeps working.
  const v = (await api('GET', '/v1/volumes/small')).json;
  assert.equal(v.usedBytes, total);
  assert.equal((await call('POST', '/tally')).status, 500, 'tally is mounted read-only since the attach test');
  assert.equal((await api('PATCH', '/v1/apps/tally', { volumes: [{ volume: 'tally', guest: '/data' }] })).status, 200);
  assert.equal((await call('POST', '/tally')).text, '2\n');
  // Freed room is usable again: files removed by hand are measured again once no VM holds a share.
  const metrics = await fetch(`${d.apiUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text());
  assert.match(metrics, new RegExp(`nanovisor_volume_used_bytes\\{volume="small"\\} ${total}`));
  assert.match(metrics, /nanovisor_volume_quota_bytes\{volume="small"\} 1048576/);
  assert.match(metrics, /nanovisor_volume_calls\{volume="small",call="write"\} \d+/);
  assert.match(metrics, /nanovisor_volume_calls\{volume="small",call="sync"\} \d+/);
  assert.match(metrics, /nanovisor_volume_vms\{volume="small"\} 16/);
  assert.match(metrics, /nanovisor_volume_wait_seconds\{volume="counter"\} [0-9.e-]+/);
});

test('snapshots: take, list, restore over the volume and into a new one, export and import as tar; an exclusive volume\'s between two writers', async () => {
  assert.equal((await api('POST', '/v1/volumes', { name: 'snap-src', access: 'exclusive', quotaFiles: 50 })).status, 201);
  assert.equal((await api('POST', '/v1/apps', { name: 'snapper', routes: [{ path: '/snapper' }], volumes: [{ volume: 'snap-src', guest: '/data' }], limits: { queue: 500 } })).status, 201);
  assert.equal((await api('POST', '/v1/apps/snapper/versions', { image: 'counter-c:latest' })).status, 201);
  for (let i = 0; i < 3; i++) await call('POST', '/snapper');
  const taken = await api('POST', '/v1/volumes/snap-src/snapshots', { name: 'three' });
  assert.equal(taken.status, 201, JSON.stringify(taken.json));
  assert.deepEqual([taken.json.volume, taken.json.name, taken.json.bytes, taken.json.files], ['snap-src', 'three', 2, 1]);
  assert.equal((await api('POST', '/v1/volumes/snap-src/snapshots', { name: 'three' })).status, 409);
  assert.equal((await api('POST', '/v1/volumes/snap-src/snapshots', { name: 'Bad' })).status, 400);
  assert.equal((await api('POST', '/v1/volumes/nope/snapshots', {})).status, 404);
  for (let i = 0; i < 2; i++) await call('POST', '/snapper');
  assert.equal((await call('GET', '/snapper')).text, '5\n');
  // Over the volume itself: served at once.
  const back = await api('POST', '/v1/volumes/snap-src/restore', { snapshot: 'three' });
  assert.equal(back.status, 200, JSON.stringify(back.json));
  assert.equal((await call('GET', '/snapper')).text, '3\n');
  // Into a new volume, with the source's quotas and access mode.
  const copy = await api('POST', '/v1/volumes/snap-src/restore', { snapshot: 'three', into: 'snap-copy' });
  assert.deepEqual([copy.status, copy.json.name, copy.json.access, copy.json.quotaFiles, copy.json.usedFiles], [200, 'snap-copy', 'exclusive', 50, 1]);
  assert.equal(readFileSync(join(data.path, 'volumes', 'snap-copy', 'counter'), 'utf8'), '3\n');
  assert.equal((await api('POST', '/v1/volumes/snap-src/restore', { snapshot: 'three', into: 'snap-copy' })).json.error.code, 'NV_VOLUME_EXISTS');
  assert.equal((await api('POST', '/v1/volumes/snap-src/restore', { snapshot: 'none' })).status, 404);
  // Taken while 100 increments stream in: between two of them, so a whole value.
  const stream = Promise.all(Array.from({ length: 100 }, () => call('POST', '/snapper')));
  await new Promise((r) => setTimeout(r, 20));
  const mid = await api('POST', '/v1/volumes/snap-src/snapshots', {});
  assert.equal(mid.status, 201);
  assert.match(mid.json.name, /^s\d{17}$/);
  assert.ok((await stream).every((a) => a.status === 200));
  const midValue = readFileSync(join(data.path, 'snapshots', 'snap-src', mid.json.name, 'counter'), 'utf8');
  assert.match(midValue, /^\d+\n$/);
  assert.ok(Number(midValue) >= 3 && Number(midValue) <= 103, midValue);
  assert.equal((await call('GET', '/snapper')).text, '103\n');
  // The CLI: list, export (as the project's tar), import into an empty volume, delete a snapshot.
  const list = await cli('volume', 'snapshots', 'snap-src');
  assert.match(list.out, /^SNAPSHOT\s+SIZE\s+FILES\s+CREATED\n/);
  assert.match(list.out, /\nthree\s+2 B\s+1\s/);
  const tarFile = join(data.path, 'tmp-export.tar');
  const exp = await cli('volume', 'export', 'snap-src', '-o', tarFile, '--snapshot', 'three');
  assert.equal(exp.code, 0, exp.err);
  const { readTar } = await import('../src/image/tar.ts');
  const entries = readTar(new Uint8Array(readFileSync(tarFile)));
  assert.deepEqual(entries.map((e) => [e.path, e.kind, new TextDecoder().decode(e.data)]), [['counter', 'file', '3\n']]);
  assert.equal((await api('POST', '/v1/volumes', { name: 'imported' })).status, 201);
  const imp = await cli('volume', 'import', 'imported', tarFile);
  assert.equal(imp.code, 0, imp.err);
  assert.match(imp.out, /imported .* into volume imported: 2 B, 1 files/);
  assert.equal(readFileSync(join(data.path, 'volumes', 'imported', 'counter'), 'utf8'), '3\n');
  const again = await cli('volume', 'import', 'imported', tarFile);
  assert.match(again.err, /NV_VOLUME_NOT_EMPTY/);
  const garbage = await fetch(`${d.apiUrl}/v1/volumes/snap-copy/import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar' }, body: 'not a tar' });
  assert.equal(garbage.status, 409, 'snap-copy holds files');
  assert.equal((await api('POST', '/v1/volumes', { name: 'empty' })).status, 201);
  const notTar = await fetch(`${d.apiUrl}/v1/volumes/empty/import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar' }, body: 'not a tar' });
  assert.equal(notTar.status, 400);
  assert.deepEqual(readdirSync(join(data.path, 'volumes', 'empty')), [], 'nothing made of a bad tar');
  assert.equal((await cli('volume', 'snapshot-rm', 'snap-src', 'three')).code, 0);
  assert.ok(!existsSync(join(data.path, 'snapshots', 'snap-src', 'three')));
  assert.deepEqual((await api('GET', '/v1/volumes/snap-src/snapshots')).json.map((s: { name: string }) => s.name), [mid.json.name]);
});

test('the CLI: deploy --volume NAME:/GUEST attaches a volume; serve --volume-root must exist', async () => {
  assert.equal((await api('POST', '/v1/volumes', { name: 'deployed', access: 'exclusive' })).status, 201);
  const bad = await cli('deploy', exampleDir('counter-c'), '--name', 'via-cli', '--volume', 'deployed');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--volume "deployed": expected NAME:\/GUEST\[:ro\]/);
  const r = await cli('deploy', exampleDir('counter-c'), '--name', 'via-cli', '--route', '/via-cli', '--volume', 'deployed:/data');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual((await api('GET', '/v1/apps/via-cli')).json.volumes, [{ volume: 'deployed', guest: '/data', readonly: false }]);
  assert.equal((await call('POST', '/via-cli')).text, '1\n');
  assert.equal(readFileSync(join(data.path, 'volumes', 'deployed', 'counter'), 'utf8'), '1\n');
  // Given again for the existing app, the flags replace its volumes.
  const ro = await cli('deploy', exampleDir('counter-c'), '--name', 'via-cli', '--volume', 'deployed:/data:ro');
  assert.equal(ro.code, 0, ro.err);
  assert.equal((await call('POST', '/via-cli')).status, 500, 'read-only now');
  const missing = await cli('deploy', exampleDir('counter-c'), '--name', 'via-cli-2', '--route', '/via-cli-2', '--volume', 'nope:/data');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /NV_VOLUME_UNKNOWN/);

  const other = tempDir('nv-serve-vol-root-flag-');
  try {
    const s = await runCli(['serve', '--data', other.path, '--volume-root', join(other.path, 'no-such-dir'), '--api', '127.0.0.1:0', '--listen', '127.0.0.1:0'], {
      stdout: () => {}, stderr: () => {}, cwd: other.path, env: {},
    });
    assert.equal(s, 2, 'a --volume-root that does not exist is a usage error');
  } finally {
    other[Symbol.dispose]();
  }
});
