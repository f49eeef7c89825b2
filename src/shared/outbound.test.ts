import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../image/manifest.ts';
import { destinationMatches, parseDestination, type DestinationPattern } from './outbound.ts';

function p(text: string): DestinationPattern {
  const r = parseDestination(text);
  assert.equal(typeof r, 'object', `${text}: ${String(r)}`);
  return r as DestinationPattern;
}

test('destination patterns: scheme, host, wildcard names, ports and defaults', () => {
  assert.ok(destinationMatches(p('https://api.example.com'), 'https', 'api.example.com', 443));
  assert.ok(destinationMatches(p('https://API.example.com'), 'https', 'api.EXAMPLE.com', 443));
  assert.ok(!destinationMatches(p('https://api.example.com'), 'http', 'api.example.com', 80));
  assert.ok(!destinationMatches(p('https://api.example.com'), 'https', 'api.example.com', 8443));
  assert.ok(destinationMatches(p('http://*.internal:8080'), 'http', 'a.b.internal', 8080));
  assert.ok(!destinationMatches(p('http://*.internal:8080'), 'http', 'internal', 8080));
  assert.ok(!destinationMatches(p('http://*.internal:8080'), 'http', 'evilinternal', 8080));
  assert.ok(destinationMatches(p('*://example.com'), 'http', 'example.com', 80));
  assert.ok(destinationMatches(p('*://example.com'), 'https', 'example.com', 443));
  assert.ok(!destinationMatches(p('*://example.com'), 'https', 'example.com', 80));
  assert.ok(destinationMatches(p('http://127.0.0.1:*'), 'http', '127.0.0.1', 41234));
  assert.ok(destinationMatches(p('http://[::1]:8080'), 'http', '::1', 8080));
  assert.ok(destinationMatches(p('https://*'), 'https', 'anything.test', 443));
  // A wildcard name never matches an address literal.
  assert.ok(!destinationMatches(p('http://*.0.0.1'), 'http', '127.0.0.1', 80));
});

test('destination patterns: what is not one says why', () => {
  for (const bad of ['api.example.com', 'ftp://x.com', 'https://x.com/path', 'https://user@x.com', 'https://x.com:0', 'https://x.com:70000', 'https://a.*.com', 'https://[zz]', 'https://-x.com']) {
    assert.equal(typeof parseDestination(bad), 'string', bad);
  }
});

test('manifest outbound: defaults, caps bounded, bad patterns named, refused for linux', () => {
  const m = parseManifest({ name: 'a', module: 'a.wasm', outbound: { allow: ['https://api.example.com'] } }, 'm');
  assert.deepEqual(m.outbound, { allow: ['https://api.example.com'], maxCalls: 16, maxBytes: 16 << 20 });
  assert.equal(parseManifest({ name: 'a', module: 'a.wasm' }, 'm').outbound, undefined);
  assert.throws(() => parseManifest({ name: 'a', module: 'a.wasm', outbound: { allow: ['nope'] } }, 'm'), /outbound\.allow\[0\]: must be SCHEME:\/\/HOST/);
  assert.throws(() => parseManifest({ name: 'a', module: 'a.wasm', outbound: { maxCalls: 1001 } }, 'm'), /outbound\.maxCalls: must be at most 1000/);
  assert.throws(() => parseManifest({ name: 'a', module: 'a.wasm', outbound: { hosts: [] } }, 'm'), /unknown field "outbound\.hosts"/);
  assert.throws(() => parseManifest({ name: 'a', driver: 'linux', rootfs: { binary: 'x' }, outbound: {} }, 'm'), /outbound: not implemented for the linux driver/);
});
