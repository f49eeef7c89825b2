// `POST /v1/images` streams the body to a scratch file as it arrives instead of holding it in
// memory: while a client is half-way through an upload, the bytes it sent are already on disk
// and the API keeps answering; the finished upload imports, and its scratch file is gone.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
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
  try {
    const url = new URL(`${d.apiUrl}/v1/images`);
    let answered: Promise<{ status: number; body: string }>;
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar', 'content-length': String(tar.length) } });
    answered = new Promise((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    const half = Math.floor(tar.length / 2);
    req.write(tar.subarray(0, half));
    // The API answers while the upload is unfinished.
    const health = await fetch(`${d.apiUrl}/healthz`);
    assert.equal(health.status, 200);
    // What was sent reaches the scratch file on disk before the rest is sent (waits for the
    // bytes to cross the loopback, however slow the machine: no timing is asserted).
    let sizes = scratchSizes(data.path);
    for (let i = 0; i < 600 && !(sizes.length === 1 && sizes[0]! >= half); i++) {
      await sleep(50);
      sizes = scratchSizes(data.path);
    }
    assert.equal(sizes.length, 1, 'one scratch file');
    assert.ok(sizes[0]! >= half, `${sizes[0]} of ${half} bytes on disk`);
    req.end(tar.subarray(half));
    const r = await answered;
    assert.equal(r.status, 201, r.body);
    assert.equal(JSON.parse(r.body).digest, digest);
    assert.deepEqual(scratchSizes(data.path), [], 'the scratch file is removed');
  } finally {
    await d.close();
  }
});
