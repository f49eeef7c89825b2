/**
 * The AppLoader over a real in-process host and a real gateway: specs become served apps; a
 * new version takes the next request while the old one's requests in flight finish on it,
 * and only then is the old image unloaded; an image that cannot serve is refused by `check`
 * and never replaces a working version.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { guestWasm, loadWasm } from '../../test/helpers.ts';
import { InProcessHost, type HostImage } from '../host/index.ts';
import { AppLoader, type AppSpec } from './app-loader.ts';
import { createGateway, type Gateway } from './server.ts';

const host = new InProcessHost();
let gateway: Gateway;
let base: string;
const images = new Map<string, Uint8Array>();
let loader: AppLoader;

function spec(version: number, digest: string): AppSpec {
  return { name: 'app', version, digest, routes: [{ path: '/app' }], memoryLimitBytes: 64 << 20, options: { timeoutMs: 5000 }, concurrency: 16, queue: 16 };
}

before(async () => {
  images.set('sha256:v1', loadWasm(guestWasm('c', 'cgi_wait')));
  images.set('sha256:v2', loadWasm(guestWasm('c', 'cgi_wait')));
  images.set('sha256:broken', new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff]));
  gateway = createGateway({ host, apps: [] });
  const { port } = await gateway.listen(0);
  base = `http://127.0.0.1:${port}`;
  loader = new AppLoader({
    host, gateway,
    resolveImage: (digest, memoryLimitBytes): HostImage => ({ digest, module: images.get(digest)!, memoryLimitBytes }),
  });
});

after(async () => {
  await gateway.close();
  await host.close();
});

test('apply serves the specs; a new version takes over while the old one drains, then is unloaded', async () => {
  await loader.apply([spec(1, 'sha256:v1')]);
  assert.equal((await fetch(`${base}/app?sleep=1`)).status, 200);
  assert.equal((await host.stats()).loaded, 1);

  const slow = fetch(`${base}/app?sleep=400`);
  await new Promise((r) => setTimeout(r, 100));
  await loader.apply([spec(2, 'sha256:v2')]);
  assert.equal((await host.stats()).loaded, 2, 'v1 is kept while its request runs');
  assert.equal((await fetch(`${base}/app?sleep=1`)).status, 200, 'the next request is served by v2');
  assert.equal((await slow).status, 200, 'the request in flight finished on v1');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((await host.stats()).loaded, 1, 'v1 is unloaded once drained');
  assert.deepEqual(loader.specs.map((s) => s.version), [2]);
});

test('check refuses an image that cannot serve; apply of one keeps the working version', async () => {
  await assert.rejects(loader.check(spec(3, 'sha256:broken')), { code: 'NV_MODULE_MALFORMED' });
  await loader.apply([spec(3, 'sha256:broken')]);
  assert.deepEqual(loader.specs.map((s) => s.version), [2], 'still on v2');
  assert.equal((await fetch(`${base}/app?sleep=1`)).status, 200);
});

test('apply of an empty set stops serving and unloads everything', async () => {
  await loader.apply([]);
  assert.equal((await fetch(`${base}/app`)).status, 404);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((await host.stats()).loaded, 0);
});
