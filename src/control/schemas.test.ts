import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LIMIT_MAXIMA } from '../host/options.ts';
import { createAppSchema, limitsSchema, parseInput, updateAppSchema } from './schemas.ts';

function refused(schema: Parameters<typeof parseInput>[0], value: unknown): { message: string; problems: Array<{ field: string; message: string }> } {
  try {
    parseInput(schema, value);
  } catch (e) {
    const err = e as { code?: string; message: string; details: { problems: Array<{ field: string; message: string }> } };
    assert.equal(err.code, 'NV_API_BAD_REQUEST');
    return { message: err.message, problems: err.details.problems };
  }
  assert.fail('expected NV_API_BAD_REQUEST');
}

test('app limits beyond their maxima are refused, naming the field and the maximum', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['timeoutMs', 999_999_999_999, /must be at most 900000 \(15 min\)/],
    ['memoryBytes', 2 ** 32 + 1, /must be at most 4294967296 \(4 GiB\)/],
    ['maxBodyBytes', 2 ** 30, /must be at most 268435456 \(256 MiB\)/],
    ['concurrency', 100_001, /must be at most 100000$/],
    ['queue', 1_000_001, /must be at most 1000000$/],
  ];
  for (const [field, value, message] of cases) {
    const r = refused(createAppSchema, { name: 'a', routes: [{ path: '/a' }], limits: { [field]: value } });
    assert.equal(r.problems.length, 1, field);
    assert.equal(r.problems[0]!.field, `limits.${field}`);
    assert.match(r.problems[0]!.message, message);
    // PATCH has the same bounds.
    assert.equal(refused(updateAppSchema, { limits: { [field]: value } }).problems[0]!.field, `limits.${field}`);
  }
});

test('app limits at their maxima are accepted', () => {
  const l = { timeoutMs: LIMIT_MAXIMA.timeoutMs, memoryBytes: LIMIT_MAXIMA.memoryBytes, maxBodyBytes: LIMIT_MAXIMA.maxBodyBytes, concurrency: LIMIT_MAXIMA.concurrency, queue: LIMIT_MAXIMA.queue };
  assert.deepEqual(parseInput(limitsSchema, l), l);
});

test('routes[].methods: upper-cased and deduplicated; empty or malformed lists are refused by field', () => {
  const input = parseInput(createAppSchema, { name: 'a', routes: [{ path: '/a', methods: ['get', 'POST', 'GET'] }, { path: '/b' }] });
  assert.deepEqual(input.routes, [{ path: '/a', methods: ['GET', 'POST'] }, { path: '/b' }]);
  assert.deepEqual(refused(createAppSchema, { name: 'a', routes: [{ path: '/a', methods: [] }] }).problems.map((p) => p.field), ['routes[0].methods']);
  const bad = refused(updateAppSchema, { routes: [{ path: '/a', methods: ['GET', 'NOT A METHOD', 7] }] });
  assert.deepEqual(bad.problems.map((p) => p.field), ['routes[0].methods[1]', 'routes[0].methods[2]']);
  assert.match(bad.problems[0]!.message, /must be an HTTP method such as GET/);
});

test('a field of the wrong type says what was expected and what was given; only an absent one "is required"', () => {
  const r = refused(createAppSchema, { routes: 'x', limits: { timeoutMs: '5000' }, env: { A: 1 } });
  const byField = Object.fromEntries(r.problems.map((p) => [p.field, p.message]));
  assert.equal(byField['name'], 'is required');
  assert.equal(byField['routes'], 'expected array, got string');
  assert.equal(byField['limits.timeoutMs'], 'expected number, got string');
  assert.equal(byField['env.A'], 'expected string, got number');
  assert.match(r.message, /limits\.timeoutMs: expected number, got string/);
  assert.equal(refused(updateAppSchema, { limits: { queue: [] } }).problems[0]!.message, 'expected number, got array');
  assert.equal(refused(updateAppSchema, { routes: [{ path: null }] }).problems[0]!.message, 'expected string, got null');
});
