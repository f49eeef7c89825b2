// The linux driver end to end over real sockets: an unmodified busybox (Debian's
// busybox-static) packaged as a linux app, uploaded and deployed through the API like any
// image, serves CGI requests through the gateway in a fresh gVisor sandbox each — env and
// secrets in, the body on stdin, request ids, logs — within its limits (wall time 504,
// output 502, memory, processes), on a read-only rootfs with a private /tmp, and cannot read
// host files outside its rootfs nor reach the API port. Skipped where runsc cannot run.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { probeRunsc } from '../src/drivers/linux/index.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { tempDir, writeTree } from '../src/image/testing.ts';

const BUSYBOX = '/bin/busybox';
const data = tempDir('nv-linux-');
const work = tempDir('nv-linux-work-');
const status = existsSync(BUSYBOX) ? await probeRunsc({ stateDir: join(work.path, 'probe-state') }) : { available: false as const, reason: `${BUSYBOX} missing (apt-get install busybox-static)` };
const skip = status.available ? false : `linux driver unavailable here: ${status.reason}`;
let d: Daemon;
let token: string;
const HOST_SECRET = join(work.path, 'host-secret.txt');

const CGI = `
echo "Content-Type: text/plain"
echo
echo "method=$REQUEST_METHOD path=$PATH_INFO id=$X_REQUEST_ID secret=$SECRET greeting=$GREETING"
echo "body=$(/bin/busybox cat)"
case "$PATH_INFO" in
  /sleep) /bin/busybox sleep 30 ;;
  /flood) /bin/busybox yes ;;
  /fail) echo oops >&2; exit 3 ;;
  /fs)
    echo x > /tmp/w && echo "tmp=$(/bin/busybox cat /tmp/w)"
    (echo y > /etc-new) 2>/dev/null && echo "root=writable" || echo "root=readonly"
    [ -e /tmp/w-from-before ] && echo "leak=yes" || echo "leak=no"
    echo z > /tmp/w-from-before ;;
  /escape)
    /bin/busybox cat "$HOST_FILE" 2>/dev/null && echo "host-file=read" || echo "host-file=unreadable"
    /bin/busybox ls /proc/1/root/ >/dev/null 2>&1 || true
    /bin/busybox wget -q -T 2 -O - "http://127.0.0.1:$API_PORT/healthz" >/dev/null 2>&1 && echo "api=reached" || echo "api=unreachable" ;;
  /fork)
    i=0; while [ $i -lt 40 ]; do /bin/busybox sleep 5 & i=$((i+1)); done; echo "forked=all" ;;
  /mem) /bin/busybox dd if=/dev/zero of=/dev/null bs=96M count=1 2>/dev/null && echo "mem=allocated" ;;
esac
`;

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

/** Builds a linux image locally and returns its export (the upload body). */
function linuxImage(): Uint8Array {
  const store = ImageStore.open(join(work.path, 'store'));
  writeTree(join(work.path, 'app'), {
    'root/bin/busybox': new Uint8Array(readFileSync(BUSYBOX)),
    'root/cgi.sh': CGI,
    'nanovisor.json': JSON.stringify({
      name: 'shcgi', version: '1', driver: 'linux', rootfs: { dir: 'root' }, args: ['/bin/busybox', 'sh', '/cgi.sh'],
      env: { GREETING: 'hi', HOST_FILE: HOST_SECRET }, limits: { timeoutMs: 3000, maxOutputBytes: 65536, memoryBytes: 64 * 1024 * 1024, processes: 16 },
    }),
  });
  chmodSync(join(work.path, 'app/root/bin/busybox'), 0o755);
  const { digest } = buildImage({ dir: join(work.path, 'app'), store });
  store.export(digest, join(work.path, 'app.tar'));
  return new Uint8Array(readFileSync(join(work.path, 'app.tar')));
}

before(async () => {
  if (skip !== false) return;
  writeFileSync(HOST_SECRET, 'the host secret\n');
  d = await startDaemon({ dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 2000, shards: 0 });
  token = readFileSync(d.tokenFile, 'utf8').trim();
  const apiPort = new URL(d.apiUrl).port;
  assert.equal((await api('POST', '/v1/apps', { name: 'shcgi', routes: [{ path: '/sh' }], env: { API_PORT: apiPort }, secrets: { SECRET: 's3cr3t' } })).status, 201);
  const up = await api('POST', '/v1/images', undefined, linuxImage());
  assert.equal(up.status, 201, up.text);
  const v = await api('POST', '/v1/apps/shcgi/versions', { image: up.json.digest });
  assert.equal(v.status, 201, v.text);
});

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
  work[Symbol.dispose]();
});

test('a linux CGI app serves through the gateway: env, secrets, body, request id', { skip }, async () => {
  const res = await fetch(`${d.gatewayUrl}/sh/hello?q=1`, { method: 'POST', body: 'payload' });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const id = res.headers.get('x-request-id');
  assert.ok(id);
  assert.equal(text, `method=POST path=/hello id=${id} secret=s3cr3t greeting=hi\nbody=payload\n`);
});

test('a linux app gets a read-only rootfs and a private /tmp that does not outlive its request', { skip }, async () => {
  for (let i = 0; i < 2; i++) {
    const text = await (await fetch(`${d.gatewayUrl}/sh/fs`)).text();
    assert.match(text, /tmp=x\nroot=readonly\nleak=no\n/);
  }
});

test('linux limits: wall time is 504, output beyond its limit 502, a failing program 502 with its stderr logged', { skip }, async () => {
  const slow = await fetch(`${d.gatewayUrl}/sh/sleep`);
  assert.equal(slow.status, 504);
  assert.match(await slow.text(), /did not answer in time \(NV_GUEST_TIMEOUT\)/);
  const flood = await fetch(`${d.gatewayUrl}/sh/flood`);
  assert.equal(flood.status, 502);
  assert.match(await flood.text(), /NV_GUEST_OUTPUT_LIMIT/);
  const fail = await fetch(`${d.gatewayUrl}/sh/fail`);
  assert.equal(fail.status, 502);
  const failId = fail.headers.get('x-request-id');
  assert.match(await fail.text(), /exited with code 3/);
  const logs = await api('GET', '/v1/apps/shcgi/logs');
  assert.equal(logs.status, 200, logs.text);
  assert.match(logs.text, new RegExp(`${failId}[^\\n]*oops|oops[^\\n]*${failId}`));
});

test('linux memory limit: a program that allocates past limits.memoryBytes does not get the memory', { skip }, async () => {
  const res = await fetch(`${d.gatewayUrl}/sh/mem`);
  const text = await res.text();
  assert.doesNotMatch(text, /mem=allocated/);
});

test('linux process limit: a program that starts more processes than limits.processes does not get them', { skip }, async () => {
  const res = await fetch(`${d.gatewayUrl}/sh/fork`);
  const text = await res.text();
  assert.doesNotMatch(text, /forked=all/);
});

test('escape: a linux app cannot read host files outside its rootfs nor reach the API port', { skip }, async () => {
  const res = await fetch(`${d.gatewayUrl}/sh/escape`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(text, /host-file=unreadable\n/);
  assert.match(text, /api=unreachable\n/);
  // The host can read it and reach the API: the test itself is sound.
  assert.equal(readFileSync(HOST_SECRET, 'utf8'), 'the host secret\n');
  assert.equal((await fetch(`${d.apiUrl}/healthz`)).status, 200);
});
