// Where runsc cannot run (here: not installed), the daemon still starts, says so once in its
// log, deploys linux apps like any other, answers their requests with 503
// NV_LINUX_UNAVAILABLE and a request id, and serves every WebAssembly app as before.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';

const data = tempDir('nv-nolinux-');
const work = tempDir('nv-nolinux-work-');
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

function exported(dir: string, files: Record<string, string | Uint8Array>): Uint8Array {
  const store = ImageStore.open(join(work.path, 'store'));
  writeTree(join(work.path, dir), files);
  const { digest } = buildImage({ dir: join(work.path, dir), store });
  store.export(digest, join(work.path, `${dir}.tar`));
  return new Uint8Array(readFileSync(join(work.path, `${dir}.tar`)));
}

async function deploy(name: string, tar: Uint8Array): Promise<void> {
  assert.equal((await api('POST', '/v1/apps', { name, routes: [{ path: `/${name}` }] })).status, 201);
  const up = await api('POST', '/v1/images', undefined, tar);
  assert.equal(up.status, 201, up.text);
  const v = await api('POST', `/v1/apps/${name}/versions`, { image: up.json.digest });
  assert.equal(v.status, 201, v.text);
}

before(async () => {
  // Both images first: building takes a while, and the API closes idle connections meanwhile.
  // Any ELF will do for the linux app: it is never run.
  const lx = exported('lx', { 'prog': new Uint8Array(readFileSync(process.execPath)).subarray(0, 4096), 'nanovisor.json': JSON.stringify({ name: 'lx', driver: 'linux', rootfs: { binary: 'prog' } }) });
  const wasm = exported('wasm', { 'app.wasm': compileC('#include <stdio.h>\nint main(void) { printf("Content-Type: text/plain\\n\\nwasm ok\\n"); return 0; }\n'), 'nanovisor.json': JSON.stringify({ name: 'wasm', module: 'app.wasm' }) });
  d = await startDaemon({
    dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000, shards: 0,
    linux: { runsc: join(work.path, 'no-such-runsc') }, log: (level, msg, fields) => logs.push({ level, msg, ...(fields === undefined ? {} : { fields }) }),
  });
  token = readFileSync(d.tokenFile, 'utf8').trim();
  await deploy('lx', lx);
  await deploy('wasm', wasm);
});

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
  work[Symbol.dispose]();
});

test('runsc missing: linux apps answer 503 NV_LINUX_UNAVAILABLE with the reason, WebAssembly apps serve, the log says why once', async () => {
  const res = await fetch(`${d.gatewayUrl}/lx`);
  const text = await res.text();
  assert.equal(res.status, 503, text);
  assert.ok(res.headers.get('x-request-id'));
  assert.match(text, /NV_LINUX_UNAVAILABLE/);
  assert.match(text, /no-such-runsc is not installed/);
  const wasm = await fetch(`${d.gatewayUrl}/wasm`);
  assert.equal(wasm.status, 200);
  assert.equal(await wasm.text(), 'wasm ok\n');
  assert.equal((await fetch(`${d.apiUrl}/healthz`)).status, 200);
  const off = logs.filter((l) => l.msg.startsWith('linux driver off'));
  assert.equal(off.length, 1);
  assert.equal(off[0]!.level, 'warn');
  assert.match(String(off[0]!.fields?.['reason']), /is not installed/);
});
