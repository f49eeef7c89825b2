import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { wat } from '../../test/support/wat.ts';
import { isNanovisorError, type ErrorCode } from '../shared/errors.ts';
import { parseManifest } from './manifest.ts';
import { ANNOTATION, MEDIA_TYPE, digestHex } from './oci.ts';
import { ImageStore, storeHome } from './store.ts';
import { tempDir } from './testing.ts';

const enc = new TextEncoder();

function module(marker = 0): Uint8Array {
  return wat(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 0) "${marker}")
    (func (export "_start")))`);
}

const FILES = [
  { path: '/etc', kind: 'dir' as const, mode: 0o755 },
  { path: '/etc/app.conf', kind: 'file' as const, mode: 0o644, data: enc.encode('port=8080\n') },
  { path: '/etc/link', kind: 'symlink' as const, mode: 0o777, target: 'app.conf' },
];

function content(name = 'hello', marker = 0, extra: Record<string, unknown> = {}) {
  return { manifest: parseManifest({ name, module: 'm.wasm', ...extra }, 'test'), module: module(marker), files: FILES };
}

function throwsCode(fn: () => unknown, code: ErrorCode, pattern?: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(isNanovisorError(e, code), `expected ${code}, got ${String(e)}`);
    if (pattern !== undefined) assert.match((e as Error).message, pattern);
    return true;
  });
}

function snapshotDir(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p, `${rel}${d.name}/`);
      else out[`${rel}${d.name}`] = readFileSync(p).toString('base64');
    }
  };
  walk(root, '');
  return out;
}

test('a new store is an OCI image layout', () => {
  using dir = tempDir();
  const store = ImageStore.openHome(dir.path);
  assert.equal(store.root, join(dir.path, 'images'));
  assert.deepEqual(JSON.parse(readFileSync(join(store.root, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  assert.deepEqual(JSON.parse(readFileSync(join(store.root, 'index.json'), 'utf8')).manifests, []);
  assert.deepEqual(store.list(), []);
});

test('put, then load gives back manifest, module and files; the OCI manifest is as documented', () => {
  using dir = tempDir();
  const store = ImageStore.open(dir.path);
  const c = content('hello', 1, { version: '1.0', env: { A: 'b' } });
  const put = store.put(c);
  assert.match(put.digest, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(put.tags, ['hello:1.0']);
  const loaded = store.load('hello:1.0');
  assert.equal(loaded.digest, put.digest);
  assert.deepEqual(loaded.manifest, c.manifest);
  assert.deepEqual(loaded.module, c.module);
  assert.deepEqual(loaded.files, FILES);

  const oci = JSON.parse(readFileSync(join(dir.path, 'blobs/sha256', digestHex(put.digest)), 'utf8'));
  assert.equal(oci.mediaType, MEDIA_TYPE.ociManifest);
  assert.equal(oci.artifactType, 'application/vnd.nanovisor.image.v1');
  assert.equal(oci.config.mediaType, 'application/vnd.nanovisor.config.v1+json');
  assert.deepEqual(oci.layers.map((l: { mediaType: string }) => l.mediaType), ['application/wasm', 'application/vnd.nanovisor.files.v1.tar']);
  const index = JSON.parse(readFileSync(join(dir.path, 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].annotations[ANNOTATION.refName], 'hello:1.0');
});

test('identical content gives identical digests, in any store, at any time', () => {
  using a = tempDir();
  using b = tempDir();
  const d1 = ImageStore.open(a.path).put(content()).digest;
  const d2 = ImageStore.open(b.path).put({ ...content(), files: [...FILES].reverse() }).digest;
  assert.equal(d1, d2);
  assert.notEqual(ImageStore.open(b.path).put(content('hello', 2)).digest, d1);
});

test('resolve by name, name:tag, full digest and hex prefix; errors for unknown and ambiguous', () => {
  using dir = tempDir();
  const store = ImageStore.open(dir.path);
  const { digest } = store.put(content(), ['hello', 'hello:v1']);
  const hex = digestHex(digest);
  for (const ref of ['hello', 'hello:latest', 'hello:v1', digest, hex, hex.slice(0, 6), hex.slice(0, 12)]) {
    assert.deepEqual(store.resolve(ref), { digest, tags: ['hello:latest', 'hello:v1'] }, ref);
  }
  throwsCode(() => store.resolve('nope'), 'NV_IMAGE_NOT_FOUND', /nope/);
  throwsCode(() => store.resolve('hello:v2'), 'NV_IMAGE_NOT_FOUND');
  throwsCode(() => store.resolve(`sha256:${'0'.repeat(64)}`), 'NV_IMAGE_NOT_FOUND');
  throwsCode(() => store.resolve('sha256:abc'), 'NV_IMAGE_REF_INVALID');
  throwsCode(() => store.resolve('Bad Name!'), 'NV_IMAGE_REF_INVALID');
  throwsCode(() => store.put(content(), ['UPPER']), 'NV_IMAGE_REF_INVALID');

  // Two digests sharing a 6-digit prefix, written straight into the index.
  const index = JSON.parse(readFileSync(join(dir.path, 'index.json'), 'utf8'));
  const fake = (d: string, ref: string) => ({ mediaType: MEDIA_TYPE.ociManifest, digest: d, size: 1, annotations: { [ANNOTATION.refName]: ref } });
  index.manifests.push(fake(`sha256:abcdef1${'0'.repeat(57)}`, 'x:1'), fake(`sha256:abcdef2${'0'.repeat(57)}`, 'y:1'));
  writeFileSync(join(dir.path, 'index.json'), JSON.stringify(index));
  throwsCode(() => store.resolve('abcdef'), 'NV_IMAGE_AMBIGUOUS', /2 images/);
  assert.equal(store.resolve('abcdef1').digest, `sha256:abcdef1${'0'.repeat(57)}`);
});

test('list shows name, tags, size and created, one row per image', () => {
  using dir = tempDir();
  const store = ImageStore.open(dir.path);
  const a = store.put(content('alpha', 1), ['alpha:1', 'alpha:latest']);
  const b = store.put(content('beta', 2));
  const list = store.list();
  assert.equal(list.length, 2);
  const alpha = list.find((i) => i.name === 'alpha')!;
  assert.deepEqual(alpha.tags, ['alpha:1', 'alpha:latest']);
  assert.equal(alpha.digest, a.digest);
  assert.equal(alpha.size, a.size);
  assert.ok(!Number.isNaN(Date.parse(alpha.created)));
  assert.deepEqual(list.find((i) => i.name === 'beta')!.tags, ['beta:latest']);
  assert.equal(list.find((i) => i.name === 'beta')!.digest, b.digest);
});

test('inspect reports manifest, layers, sizes and the module imports', () => {
  using dir = tempDir();
  const store = ImageStore.open(dir.path);
  const { digest, size } = store.put(content());
  const info = store.inspect('hello');
  assert.equal(info.digest, digest);
  assert.equal(info.size, size);
  assert.deepEqual(info.layers.map((l) => l.role), ['module', 'files']);
  assert.deepEqual(info.module!.imports.map((i) => `${i.module}.${i.name}`), ['wasi_snapshot_preview1.fd_write']);
  assert.equal(info.fileCount, 3);
  assert.equal(info.manifest.name, 'hello');
});

test('remove drops a tag; the last tag gone, blobs are collected; shared blobs stay', () => {
  using dir = tempDir();
  const store = ImageStore.open(dir.path);
  const blobs = () => readdirSync(join(dir.path, 'blobs/sha256')).length;
  const one = store.put(content('one', 7), ['one:a', 'one:b']);
  const two = store.put(content('two', 7)); // same module and files as `one`: shared layers
  const before = blobs();
  assert.deepEqual(store.remove('one:a'), { untagged: ['one:a'], deleted: [] });
  assert.equal(store.resolve('one:b').digest, one.digest);
  throwsCode(() => store.remove('two:nope'), 'NV_IMAGE_NOT_FOUND');

  const r = store.remove('one:b');
  assert.deepEqual(r.untagged, ['one:b']);
  assert.equal(r.deleted.length, 2, 'OCI manifest and config of `one`; the module and files layers are shared');
  assert.ok(r.deleted.includes(one.digest));
  assert.equal(blobs(), before - 2);
  throwsCode(() => store.resolve('one:b'), 'NV_IMAGE_NOT_FOUND');
  assert.equal(store.load('two').digest, two.digest);

  store.remove('two');
  assert.equal(blobs(), 0);
  assert.deepEqual(store.list(), []);
});

test('remove by digest of an image with several tags needs force', () => {
  using dir = tempDir();
  const store = ImageStore.open(dir.path);
  const { digest } = store.put(content(), ['hello:a', 'hello:b']);
  throwsCode(() => store.remove(digestHex(digest).slice(0, 8)), 'NV_IMAGE_IN_USE', /2 tags/);
  assert.deepEqual(store.remove(digest, { force: true }).untagged, ['hello:a', 'hello:b']);
  assert.deepEqual(store.list(), []);
});

test('a blob corrupted on disk is NV_IMAGE_DIGEST_MISMATCH naming the blob', () => {
  using dir = tempDir();
  const store = ImageStore.open(dir.path);
  const c = content();
  store.put(c);
  const layer = store.inspect('hello').layers.find((l) => l.role === 'module')!;
  const path = join(dir.path, 'blobs/sha256', digestHex(layer.digest));
  const bytes = readFileSync(path);
  bytes[bytes.length - 1]! ^= 1;
  writeFileSync(path, bytes);
  assert.throws(() => store.load('hello'), (e) => {
    assert.ok(isNanovisorError(e, 'NV_IMAGE_DIGEST_MISMATCH'));
    assert.ok(e.message.includes(layer.digest));
    assert.equal(e.details['blob'], layer.digest);
    return true;
  });
  // Putting the same content again repairs the blob.
  store.put(c);
  assert.deepEqual(store.load('hello').module, c.module);
});

test('export then import into a fresh store round-trips the image, tags and created time', () => {
  using a = tempDir();
  using b = tempDir();
  const src = ImageStore.open(join(a.path, 'store'));
  const { digest } = src.put(content('app', 3), ['app:1', 'app:latest']);
  src.put(content('other', 4));
  const file = join(a.path, 'app.tar');
  const out = src.export('app:1', file);
  assert.equal(out.digest, digest);
  assert.deepEqual(out.tags, ['app:1', 'app:latest']);

  const dst = ImageStore.open(b.path);
  const imported = dst.import(file);
  assert.deepEqual(imported.images, [{ digest, tags: ['app:1', 'app:latest'] }]);
  assert.deepEqual(dst.load('app'), src.load('app'));
  assert.deepEqual(dst.list(), src.list().filter((i) => i.name === 'app'));
  // Importing again is harmless.
  dst.import(file);
  assert.equal(dst.list().length, 1);
});

test('a tampered or corrupt export is refused and the store is unchanged', () => {
  using dir = tempDir();
  const src = ImageStore.open(join(dir.path, 'src'));
  src.put(content('app', 5));
  const file = join(dir.path, 'app.tar');
  src.export('app', file);
  const good = readFileSync(file);

  const dst = ImageStore.open(join(dir.path, 'dst'));
  dst.put(content('keep', 6));
  const before = snapshotDir(dst.root);

  // Change one byte of the module inside the tar (the data segment's marker "5").
  const tampered = Buffer.from(good);
  const module = src.load('app').module;
  const at = tampered.indexOf(Buffer.from(module));
  assert.ok(at > 0);
  const markerAt = tampered.indexOf(Buffer.from('5'), at + module.length - 20);
  tampered[markerAt] = '9'.charCodeAt(0);
  writeFileSync(file, tampered);
  throwsCode(() => dst.import(file), 'NV_IMAGE_DIGEST_MISMATCH', /tampered/);
  assert.deepEqual(snapshotDir(dst.root), before);

  // Truncated: refused as malformed, store unchanged.
  writeFileSync(file, good.subarray(0, good.length - 2048));
  assert.throws(() => dst.import(file), (e) => isNanovisorError(e, 'NV_IMAGE_MALFORMED') || isNanovisorError(e, 'NV_IMAGE_DIGEST_MISMATCH'));
  assert.deepEqual(snapshotDir(dst.root), before);

  throwsCode(() => dst.import(join(dir.path, 'missing.tar')), 'NV_FILE_NOT_FOUND');
});

test('storeHome: --store, then NANOVISOR_HOME, then ~/.nanovisor', () => {
  assert.equal(storeHome('/x', { NANOVISOR_HOME: '/y' }), '/x');
  assert.equal(storeHome(undefined, { NANOVISOR_HOME: '/y' }), '/y');
  assert.match(storeHome(undefined, {}), /\.nanovisor$/);
  assert.equal(storeHome('rel', {}, '/base'), '/base/rel');
});
