// `POST /v1/images` streams the body to a scratch file as it arrives instead of holding it in
// memory: while a client is half-way through an upload, the bytes it sent are already on disk
// and the API keeps answering; the finished upload imports, and its scratch file is gone.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon } from '../src/cli/commands/serve.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';

/** Sizes of the upload scratch files in <data>/tmp. */
function scratchSizes(data: string): number[] {
  const tmp = join(data, 'tmp');
  return readdirSync(tmp).filter((d) => d.startsWith('upload-')).flatMap((d) => readdirSync(join(tmp, d)).map((f) => statSync(join(tmp, d, f)).size));
}

/** Sends half of `body`, checks the API answers and the half is on disk, sends the rest; the answer's body. */
async function halfThenRest(api: string, token: string, data: string, path: string, body: Buffer): Promise<string> {
  const url = new URL(`${api}${path}`);
  const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar', 'content-length': String(body.length) } });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
  });
  const half = Math.floor(body.length / 2);
  req.write(body.subarray(0, half));
  // The API answers while the upload is unfinished.
  assert.equal((await fetch(`${api}/healthz`)).status, 200);
  // What was sent reaches the scratch file on disk before the rest is sent (waits for the
  // bytes to cross the loopback, however slow the machine: no timing is asserted).
  let sizes = scratchSizes(data);
  for (let i = 0; i < 600 && !(sizes.length === 1 && sizes[0]! >= half); i++) {
    await sleep(50);
    sizes = scratchSizes(data);
  }
  assert.equal(sizes.length, 1, `${path}: one scratch file`);
  assert.ok(sizes[0]! >= half, `${path}: ${sizes[0]} of ${half} bytes on disk`);
  req.end(body.subarray(half));
  const r = await answered;
  assert.equal(r.status, 201, r.body);
  assert.deepEqual(scratchSizes(data), [], `${path}: the scratch file is removed`);
  return r.body;
}

test('an upload is on disk while it arrives; the API answers meanwhile; the scratch file goes', async () => {
  using data = tempDir('nv-stream-');
  using work = tempDir('nv-stream-work-');
  const store = ImageStore.open(join(work.path, 'store'));
  // Some incompressible bytes in the image's files, so the tar is large enough to send in two parts.
  writeTree(join(work.path, 'app'), {
    'app.wasm': compileC('int main(void) { return 0; }'),
    'blob.bin': new Uint8Array(Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => (i * 2654435761) >>> 24))),
    'nanovisor.json': JSON.stringify({ name: 'streamed', version: '1', module: 'app.wasm', files: [{ from: 'blob.bin', to: '/blob.bin' }] }),
  });
  const { digest } = buildImage({ dir: join(work.path, 'app'), store });
  store.export(digest, join(work.path, 'app.tar'));
  const tar = readFileSync(join(work.path, 'app.tar'));
  const d = await startDaemon({ dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, shards: 0 });
  const token = readFileSync(d.tokenFile, 'utf8').trim();
  const appTar = execFileSync('tar', ['-C', join(work.path, 'app'), '-cf', '-', '.']);
  try {
    const up = JSON.parse(await halfThenRest(d.apiUrl, token, data.path, '/v1/images', tar));
    assert.equal(up.digest, digest);
    // The same for a build upload (a tar of the app directory).
    const built = JSON.parse(await halfThenRest(d.apiUrl, token, data.path, '/v1/images/build?tag=streamed:2', appTar));
    assert.equal(built.tag, 'streamed:2');
  } finally {
    await d.close();
  }
});
