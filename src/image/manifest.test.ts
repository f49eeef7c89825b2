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
