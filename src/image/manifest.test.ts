import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNanovisorError } from '../shared/errors.ts';
import { DEFAULT_LIMITS, manifestTag, parseManifest, parseManifestText } from './manifest.ts';

function invalid(json: unknown): string {
  try {
    parseManifest(json, 'manifest');
  } catch (e) {
    assert.ok(isNanovisorError(e, 'NV_MANIFEST_INVALID'), String(e));
    return (e as Error).message;
  }
  assert.fail('expected NV_MANIFEST_INVALID');
}

test('a minimal manifest gets every default', () => {
  const m = parseManifest({ name: 'hello', module: 'hello.wasm' }, 'nanovisor.json');
  assert.deepEqual(m, {
    name: 'hello',
    module: 'hello.wasm',
    entry: '_start',
    args: [],
    env: {},
    files: [],
    mounts: [],
    limits: { ...DEFAULT_LIMITS },
    routes: [],
  });
  assert.equal(m.limits.memoryBytes, 256 * 1024 * 1024);
  assert.equal(manifestTag(m), 'hello:latest');
});

test('a full manifest is accepted; mount readonly defaults to true; methods upper-cased', () => {
  const m = parseManifest({
    name: 'api.v2', version: '1.2.0', module: 'build/app.wasm', entry: 'serve',
    args: ['--port', '8080'], env: { A: '1' },
    files: [{ from: 'static', to: '/srv/static' }],
    mounts: [{ guest: '/data' }, { guest: '/tmp', readonly: false }],
    limits: { memoryBytes: 64 * 1024 * 1024, timeoutMs: 1000 },
    routes: [{ path: '/api', methods: ['get', 'POST'], host: 'example.com' }],
    snapshot: { initialize: true },
  }, 'x');
  assert.deepEqual(m.mounts, [{ guest: '/data', readonly: true }, { guest: '/tmp', readonly: false }]);
  assert.deepEqual(m.limits, { ...DEFAULT_LIMITS, memoryBytes: 64 * 1024 * 1024, timeoutMs: 1000 });
  assert.deepEqual(m.routes[0]!.methods, ['GET', 'POST']);
  assert.equal(manifestTag(m), 'api.v2:1.2.0');
});

test('unknown fields are named with their full path', () => {
  assert.equal(invalid({ name: 'a', module: 'a.wasm', limits: { memroy: 1 } }), 'manifest: unknown field "limits.memroy"');
  assert.match(invalid({ name: 'a', module: 'a.wasm', colour: 'red' }), /unknown field "colour"/);
  assert.match(invalid({ name: 'a', module: 'a.wasm', files: [{ from: 'x', to: '/x', mode: 1 }] }), /unknown field "files\[0\]\.mode"/);
});

test('wrong types are named with the path and the expected type', () => {
  assert.equal(invalid({ name: 'a', module: 'a.wasm', limits: { memoryBytes: '64M' } }), 'manifest: limits.memoryBytes: expected number, got string');
  assert.match(invalid({ name: 'a', module: 'a.wasm', args: 'x' }), /args: expected array, got string/);
  assert.match(invalid({ name: 'a', module: 'a.wasm', env: { A: 1 } }), /env\.A: expected string, got number/);
  assert.match(invalid({ module: 'a.wasm' }), /name: is required/);
  assert.match(invalid([]), /\(root\): expected object, got array/);
});

test('every problem is listed in one message', () => {
  const msg = invalid({ name: 'Bad Name', module: '/abs.wasm', limits: { memoryBytes: 5 * 2 ** 30, timeoutMs: -1 }, extra: 1 });
  for (const want of [/name: must match/, /module: must be a relative path/, /limits\.memoryBytes: must be at most/, /limits\.timeoutMs: must be positive/, /unknown field "extra"/]) {
    assert.match(msg, want);
  }
});

test('paths and routes are checked', () => {
  assert.match(invalid({ name: 'a', module: '../a.wasm' }), /module: must be a relative path/);
  assert.match(invalid({ name: 'a', module: 'a.wasm', files: [{ from: 'x', to: 'etc/x' }] }), /files\[0\]\.to: must be an absolute guest path/);
  assert.match(invalid({ name: 'a', module: 'a.wasm', mounts: [{ guest: '/a/../b' }] }), /mounts\[0\]\.guest/);
  assert.match(invalid({ name: 'a', module: 'a.wasm', routes: [{ path: 'api' }] }), /routes\[0\]\.path: must start with "\/"/);
  assert.match(invalid({ name: 'a', module: 'a.wasm', limits: { timeoutMs: 1.5 } }), /limits\.timeoutMs: must be an integer/);
});

test('manifest text that is not JSON is NV_MANIFEST_INVALID', () => {
  assert.throws(() => parseManifestText('{ name: ', 'app/nanovisor.json'), (e) => isNanovisorError(e, 'NV_MANIFEST_INVALID') && /app\/nanovisor.json: not valid JSON/.test(e.message));
});

test('limits are refused beyond their maxima, naming the field and the maximum', () => {
  const limits = (l: Record<string, number>) => invalid({ name: 'x', module: 'x.wasm', limits: l });
  assert.match(limits({ timeoutMs: 999_999_999_999 }), /limits\.timeoutMs: must be at most 900000 \(15 min\)/);
  assert.match(limits({ memoryBytes: 2 ** 32 + 1 }), /limits\.memoryBytes: must be at most 4294967296 \(4 GiB\)/);
  assert.match(limits({ maxOutputBytes: 2 ** 31 }), /limits\.maxOutputBytes: must be at most 1073741824 \(1 GiB\)/);
  assert.match(limits({ writableLayerBytes: 2 ** 31 }), /limits\.writableLayerBytes: must be at most 1073741824 \(1 GiB\)/);
  // The maxima themselves are accepted.
  const m = parseManifest({ name: 'x', module: 'x.wasm', limits: { timeoutMs: 900_000, memoryBytes: 2 ** 32, maxOutputBytes: 2 ** 30, writableLayerBytes: 2 ** 30 } }, 'manifest');
  assert.equal(m.limits.timeoutMs, 900_000);
});

test('mounts[].volume names a volume: kept as given; a bad name is refused by the field', () => {
  const m = parseManifest({ name: 'a', module: 'a.wasm', mounts: [{ guest: '/tmp' }, { guest: '/data', readonly: false, volume: 'db' }] }, 'manifest');
  assert.deepEqual(m.mounts, [{ guest: '/tmp', readonly: true }, { guest: '/data', readonly: false, volume: 'db' }]);
  assert.match(invalid({ name: 'a', module: 'a.wasm', mounts: [{ guest: '/data', volume: 7 }] }), /mounts\[0\]\.volume: /);
  assert.match(invalid({ name: 'a', module: 'a.wasm', mounts: [{ guest: '/data', volume: 'Bad_Name' }] }), /mounts\[0\]\.volume: must be 1-63 characters/);
  // Beside other problems, each is named.
  const both = invalid({ name: 'a', module: 'a.wasm', limits: { memroy: 1 }, mounts: [{ guest: '/data', volume: '' }] });
  assert.match(both, /unknown field "limits.memroy"/);
  assert.match(both, /mounts\[0\]\.volume: must be/);
});

test('driver linux: a rootfs instead of a module; server and limits.processes accepted', () => {
  const m = parseManifest({
    name: 'web', driver: 'linux', rootfs: { dir: 'root' }, args: ['/bin/busybox', 'httpd', '-f'],
    server: { port: 8000, ready: { http: '/' } }, limits: { processes: 32 },
  }, 'manifest');
  assert.equal(m.driver, 'linux');
  assert.deepEqual(m.rootfs, { dir: 'root' });
  assert.deepEqual(m.server, { port: 8000, ready: { http: '/' }, readyTimeoutMs: 10_000 });
  assert.equal(m.limits.processes, 32);
  assert.deepEqual(parseManifest({ name: 'b', driver: 'linux', rootfs: { binary: 'app' }, server: { port: 80 } }, 'm').server, { port: 80, ready: { tcp: true }, readyTimeoutMs: 10_000 });
  // A WebAssembly manifest has no driver field: its image digest stays what it was.
  assert.equal(parseManifest({ name: 'w', module: 'w.wasm' }, 'm').driver, undefined);
});

test('driver fields are refused by name on the wrong driver, and what is not implemented is refused', () => {
  assert.match(invalid({ name: 'x', driver: 'linux', module: 'x.wasm', rootfs: { dir: 'r' } }), /module: a linux app has no module/);
  assert.match(invalid({ name: 'x', driver: 'linux' }), /rootfs: is required for the linux driver/);
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { dir: 'r', binary: 'b' } }), /rootfs: give exactly one of "dir", "binary" or "oci" \(got "dir", "binary"\)/);
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { oci: 'img.tar' } }), /rootfs\.oci: OCI image roots are not implemented yet/);
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { dir: 'r' }, entry: 'main' }), /entry: not used by the linux driver/);
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { dir: 'r' }, mounts: [{ guest: '/data' }] }), /mounts: not implemented yet for the linux driver/);
  assert.match(invalid({ name: 'x', driver: 'vm', module: 'x.wasm' }), /driver: must be "wasi" or "linux"/);
  assert.match(invalid({ name: 'x', module: 'x.wasm', rootfs: { dir: 'r' } }), /rootfs: only a linux app has a rootfs/);
  assert.match(invalid({ name: 'x', module: 'x.wasm', server: { port: 1 } }), /server\.port: a wasi server has no port: it accepts on the listening socket preopened as fd 3/);
  assert.match(invalid({ name: 'x', module: 'x.wasm', server: { ready: { http: '/' } } }), /server\.ready\.http: not implemented for the wasi driver/);
  assert.match(invalid({ name: 'x', module: 'x.wasm', entry: 'run', server: {} }), /entry: a wasi server runs from "_start"/);
  assert.match(invalid({ name: 'x', module: 'x.wasm', limits: { processes: 2 } }), /limits\.processes: only the linux driver runs processes/);
  assert.match(invalid({ name: 'x' }), /module: is required/);
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { dir: 'r' }, server: { port: 0 } }), /server\.port: must be 1\.\.65535/);
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { dir: 'r' }, server: { port: 80, ready: { http: '/', tcp: true } } }), /server\.ready: give exactly one of "http" or "tcp"/);
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { dir: 'r' }, server: { port: 80, redy: {} } }), /unknown field "server\.redy"/);
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { dir: 'r' }, limits: { processes: 5000 } }), /limits\.processes: must be at most 4096/);
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { dir: 'r' }, server: {} }), /server\.port: is required for a linux server/);
});

test('a wasi server: no port, ready when it waits in sock_accept, an optional idle timeout', () => {
  assert.deepEqual(parseManifest({ name: 'w', module: 'w.wasm', server: { idleTimeoutMs: 5000 } }, 'm').server, { ready: { tcp: true }, readyTimeoutMs: 10_000, idleTimeoutMs: 5000 });
  assert.deepEqual(parseManifest({ name: 'w', module: 'w.wasm', server: {} }, 'm').server, { ready: { tcp: true }, readyTimeoutMs: 10_000 });
});

test('server.idleTimeoutMs: a positive number of ms up to a day; refused where scale to zero is not implemented', () => {
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { dir: 'r' }, server: { port: 80, idleTimeoutMs: 0 } }), /server\.idleTimeoutMs: must be positive/);
  assert.match(invalid({ name: 'x', driver: 'linux', rootfs: { dir: 'r' }, server: { port: 80, idleTimeoutMs: 86_400_001 } }), /server\.idleTimeoutMs: must be at most 86400000/);
  assert.equal(parseManifest({ name: 'x', driver: 'linux', rootfs: { dir: 'r' }, server: { port: 80, idleTimeoutMs: 1000 } }, 'manifest').server?.idleTimeoutMs, 1000);
});
