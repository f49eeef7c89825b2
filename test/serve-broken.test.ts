// A deployed version whose image blobs are found missing or corrupt at start is said loudly
// (an error log line naming app, version and digest), the app stays visible as broken (the
// gateway answers 503 NV_APP_BROKEN with the request id, never 404; the API shows status
// "broken" with the reason), and it is repaired by uploading that image again or by rolling
// back to another version.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';
import { root } from './helpers.ts';

const guest = (v: string) => String.raw`
#include <stdio.h>
int main(void) { printf("Content-Type: text/plain\n\nversion=${v}\n"); return 0; }
`;

const execFileAsync = promisify(execFile);

interface Line { level: string; msg: string; fields?: Record<string, unknown> }

async function start(data: string, lines: Line[]): Promise<{ d: Daemon; api: (m: string, p: string, body?: unknown, raw?: Uint8Array) => Promise<{ status: number; json: any }> }> {
  const d = await startDaemon({
    dataDir: data, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, shards: 0, graceMs: 1000,
    log: (level, msg, fields) => void lines.push({ level, msg, ...(fields === undefined ? {} : { fields }) }),
  });
  const token = readFileSync(d.tokenFile, 'utf8').trim();
  const api = async (method: string, path: string, body?: unknown, raw?: Uint8Array) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (raw !== undefined) headers['content-type'] = 'application/x-tar';
    const res = await fetch(`${d.apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}) });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
  };
  return { d, api };
}

test('a pinned blob deleted or corrupted while the daemon was down: loud log, 503 with request id, status broken; repaired by re-upload or rollback', async () => {
  using data = tempDir('nv-broken-');
  using work = tempDir('nv-broken-work-');
  const tars: Uint8Array[] = [];
  const digests: string[] = [];
  const build = ImageStore.open(join(work.path, 'store'));
  for (const v of ['1', '2']) {
    writeTree(join(work.path, `app${v}`), { 'app.wasm': compileC(guest(v)), 'nanovisor.json': JSON.stringify({ name: 'fragile', version: v, module: 'app.wasm' }) });
    const { digest } = buildImage({ dir: join(work.path, `app${v}`), store: build });
    build.export(digest, join(work.path, `app${v}.tar`));
    tars.push(new Uint8Array(readFileSync(join(work.path, `app${v}.tar`))));
    digests.push(digest);
  }
  const lines: Line[] = [];
  let { d, api } = await start(data.path, lines);
  try {
    assert.equal((await api('POST', '/v1/apps', { name: 'fragile', routes: [{ path: '/f' }] })).status, 201);
    for (const t of tars) assert.equal((await api('POST', '/v1/images', undefined, t)).status, 201);
    for (const digest of digests) assert.equal((await api('POST', '/v1/apps/fragile/versions', { image: digest })).status, 201);
    assert.equal(await (await fetch(`${d.gatewayUrl}/f`)).text(), 'version=2\n');
    assert.equal((await api('GET', '/v1/apps/fragile')).json.status, 'serving');
    await d.close();

    // 1. The blobs only version 2's image has (its module, manifest, config) deleted.
    const blobs = join(data.path, 'images', 'blobs', 'sha256');
    const v2Only = readdirSync(blobs).filter((b) => !readFileSync(join(work.path, 'app1.tar')).includes(Buffer.from(b)) && `sha256:${b}` !== digests[0]);
    assert.ok(v2Only.length > 0);
    for (const b of v2Only) rmSync(join(blobs, b));
    lines.length = 0;
    ({ d, api } = await start(data.path, lines));
    const loud = lines.find((l) => l.level === 'error' && /BROKEN APP/.test(l.msg));
    assert.ok(loud, JSON.stringify(lines));
    assert.deepEqual([loud.fields?.['app'], loud.fields?.['version'], loud.fields?.['digest']], ['fragile', 2, digests[1]]);
    const res = await fetch(`${d.gatewayUrl}/f`);
    const body = await res.text();
    assert.equal(res.status, 503, body);
    const rid = res.headers.get('x-request-id');
    assert.ok(rid !== null && body.includes(`request id: ${rid}`), body);
    assert.match(body, /the app "fragile" is broken and cannot serve: version 2's image sha256:[0-9a-f]{64} is missing from the store or corrupt/);
    assert.ok(!body.includes(data.path), 'no server paths in the answer');
    const app = (await api('GET', '/v1/apps/fragile')).json;
    assert.equal(app.status, 'broken');
    assert.match(app.problem, /upload that image again \(same digest\), or roll back or deploy another version/);
    assert.equal(app.currentVersion, 2);
    // The CLI says so too: `apps` marks it, `app` gives the problem.
    // (Asynchronously: the daemon runs in this process.)
    const token = readFileSync(d.tokenFile, 'utf8').trim();
    const cli = async (args: string[]) => (await execFileAsync(process.execPath, [join(root, 'bin', 'nanovisor.js'), ...args, '--server', d.apiUrl, '--token', token], { encoding: 'utf8' })).stdout;
    assert.match(await cli(['apps']), /^fragile\s+2 BROKEN\s/m);
    assert.match(await cli(['app', 'fragile']), /^status:\s+BROKEN: version 2's image sha256:[0-9a-f]{64} is missing from the store or corrupt/m);
    // Repair 1: upload the image with that digest again; served at once, and pinned again.
    assert.equal((await api('POST', '/v1/images', undefined, tars[1])).status, 201);
    assert.equal((await api('GET', '/v1/apps/fragile')).json.status, 'serving');
    assert.equal(await (await fetch(`${d.gatewayUrl}/f`)).text(), 'version=2\n');
    await d.close();

    // 2. The same blobs corrupted (same size, other bytes): broken again; repaired by rollback to 1.
    for (const b of v2Only) {
      const bytes = readFileSync(join(blobs, b));
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
      writeFileSync(join(blobs, b), bytes);
    }
    lines.length = 0;
    ({ d, api } = await start(data.path, lines));
    assert.ok(lines.some((l) => l.level === 'error' && /BROKEN APP/.test(l.msg) && l.fields?.['digest'] === digests[1]), JSON.stringify(lines));
    assert.equal((await fetch(`${d.gatewayUrl}/f`)).status, 503);
    assert.equal((await api('GET', '/v1/apps/fragile')).json.status, 'broken');
    const rb = await api('POST', '/v1/apps/fragile/rollback', { version: 1 });
    assert.equal(rb.status, 200, JSON.stringify(rb.json));
    assert.equal((await api('GET', '/v1/apps/fragile')).json.status, 'serving');
    assert.equal(await (await fetch(`${d.gatewayUrl}/f`)).text(), 'version=1\n');
  } finally {
    await d.close();
  }
});
