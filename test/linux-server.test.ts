// Long-running linux server apps end to end: an unmodified Debian program (busybox httpd from
// busybox-static) and a program that keeps state in memory, each deployed through the API as
// a linux app with `server: { port, ready }`, started once by the platform, probed until
// ready, and served through the gateway by proxy (request ids forwarded, logs), with the
// sandbox's network still `none`. Skipped where runsc cannot run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { probeRunsc } from '../src/drivers/linux/index.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { tempDir, writeTree } from '../src/image/testing.ts';

const BUSYBOX = '/bin/busybox';
const data = tempDir('nv-lsrv-');
const work = tempDir('nv-lsrv-work-');
const status = existsSync(BUSYBOX) ? await probeRunsc({ stateDir: join(work.path, 'probe-state') }) : { available: false as const, reason: `${BUSYBOX} missing (apt-get install busybox-static)` };
const skip = status.available ? false : `linux driver unavailable here: ${status.reason}`;
let d: Daemon;
let token: string;
const HOST_FILE = join(work.path, 'host-secret.txt');
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

function exported(dir: string, files: Record<string, string | Uint8Array>, executables: string[]): Uint8Array {
  const store = ImageStore.open(join(work.path, 'store'));
  writeTree(join(work.path, dir), files);
  for (const x of executables) chmodSync(join(work.path, dir, x), 0o755);
  const { digest } = buildImage({ dir: join(work.path, dir), store });
  store.export(digest, join(work.path, `${dir}.tar`));
  return new Uint8Array(readFileSync(join(work.path, `${dir}.tar`)));
}

async function deploy(name: string, route: string, tar: Uint8Array, create = true): Promise<void> {
  if (create) assert.equal((await api('POST', '/v1/apps', { name, routes: [{ path: route }] })).status, 201);
  const up = await api('POST', '/v1/images', undefined, tar);
  assert.equal(up.status, 201, up.text);
  const v = await api('POST', `/v1/apps/${name}/versions`, { image: up.json.digest });
  assert.equal(v.status, 201, v.text);
}

before(async () => {
  if (skip !== false) return;
  execFileSync('gcc', ['-static', '-O2', '-o', join(work.path, 'counter-bin'), join(import.meta.dirname, 'support', 'counter-server.c')]);
  const httpd = exported('httpd', {
    'root/bin/busybox': new Uint8Array(readFileSync(BUSYBOX)),
    'root/www/web/index.html': 'hello from busybox httpd\n',
    'root/www/cgi-bin/escape': `#!/bin/busybox sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
/bin/busybox cat "$HOST_FILE" 2>/dev/null && echo "host-file=read" || echo "host-file=unreadable"
/bin/busybox wget -q -T 2 -O - "http://127.0.0.1:$API_PORT/healthz" >/dev/null 2>&1 && echo "api=reached" || echo "api=unreachable"
echo "port=$API_PORT"
`,
    'nanovisor.json': JSON.stringify({ name: 'web', driver: 'linux', rootfs: { dir: 'root' }, args: ['/bin/busybox', 'httpd', '-f', '-p', '127.0.0.1:8000', '-h', '/www'], server: { port: 8000, ready: { http: '/web/' } } }),
  }, ['root/bin/busybox', 'root/www/cgi-bin/escape']);
  const counter = exported('counter', {
    'counter': new Uint8Array(readFileSync(join(work.path, 'counter-bin'))),
    'nanovisor.json': JSON.stringify({ name: 'counter', driver: 'linux', rootfs: { binary: 'counter' }, args: ['/app', '9000'], server: { port: 9000 } }),
  }, ['counter']);
  d = await startDaemon({ dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000, shards: 0, log: (level, msg, fields) => logs.push({ level, msg, ...(fields === undefined ? {} : { fields }) }) });
  token = readFileSync(d.tokenFile, 'utf8').trim();
  writeFileSync(HOST_FILE, 'the host secret\n');
  assert.equal((await api('POST', '/v1/apps', { name: 'web', routes: [{ path: '/web' }, { path: '/cgi-bin' }], env: { API_PORT: new URL(d.apiUrl).port, HOST_FILE } })).status, 201);
  await deploy('web', '/web', httpd, false);
  await deploy('counter', '/count', counter);
});

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
  work[Symbol.dispose]();
});

test('an unmodified Debian program (busybox httpd) served as a long-running linux app through the gateway', { skip }, async () => {
  const res = await fetch(`${d.gatewayUrl}/web/`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(text, 'hello from busybox httpd\n');
  assert.ok(res.headers.get('x-request-id'));
  const missing = await fetch(`${d.gatewayUrl}/web/nope.html`);
  assert.equal(missing.status, 404);
  await missing.text();
});

test('a server app keeps its in-memory state across requests; the request id reaches it', { skip }, async () => {
  const a = await fetch(`${d.gatewayUrl}/count`);
  const ta = await a.text();
  assert.equal(a.status, 200, ta);
  const b = await fetch(`${d.gatewayUrl}/count`);
  const tb = await b.text();
  const na = Number(/count=(\d+)/.exec(ta)?.[1]);
  assert.equal(tb, `count=${na + 1} id=${b.headers.get('x-request-id')}\n`);
  const logs = await api('GET', '/v1/apps/counter/logs');
  assert.match(logs.text, new RegExp(b.headers.get('x-request-id')!));
});

test('a crashed server instance is logged and restarted with backoff; meanwhile 503 + Retry-After; its memory starts over', { skip }, async () => {
  const before = await (await fetch(`${d.gatewayUrl}/count`)).text();
  assert.match(before, /count=\d+/);
  const crash = await fetch(`${d.gatewayUrl}/count/crash`);
  assert.equal(crash.status, 502);
  await crash.text();
  const seen = new Set<number>();
  let body = '';
  for (let i = 0; i < 300; i++) {
    const r = await fetch(`${d.gatewayUrl}/count`);
    body = await r.text();
    seen.add(r.status);
    if (r.status === 503) assert.equal(r.headers.get('retry-after'), '1');
    if (r.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Fresh memory: the count starts over (the readiness probe's own connection counts too).
  const after = Number(/^count=(\d+) /.exec(body)?.[1]);
  assert.ok(after < Number(/count=(\d+)/.exec(before)![1]) && after <= 2, `count ${after} after the restart; statuses seen: ${[...seen].join(', ')}`);
  const crashed = logs.filter((l) => l.msg === 'server instance crashed: restarting it' && l.fields?.['app'] === 'counter');
  assert.equal(crashed.length, 1);
  assert.equal(crashed[0]!.fields?.['exitCode'], 3);
});

test('escape: a server sandbox (a CGI script of busybox httpd) cannot read host files nor reach the API port', { skip }, async () => {
  const res = await fetch(`${d.gatewayUrl}/cgi-bin/escape`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(text, /host-file=unreadable\napi=unreachable\nport=\d+\n/);
  assert.equal(readFileSync(HOST_FILE, 'utf8'), 'the host secret\n');
  assert.equal((await fetch(`${d.apiUrl}/healthz`)).status, 200);
});
