import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestRecord } from '../gateway/server.ts';
import { RESERVOIR_SIZE, TrafficSeries, quantile } from './series.ts';

function rec(app: string | undefined, status: number, durationMs: number, ran = true): RequestRecord {
  return { requestId: 'r', app, method: 'GET', url: '/', status, durationMs, ...(ran ? { outcome: 'exit' as const } : {}) } as RequestRecord;
}

test('points per interval: requests, 5xx, boots, p50/p99, live VMs; the open interval last', () => {
  let t = 0;
  let live = { total: 2, byApp: { a: 2 } as Record<string, number> };
  const s = new TrafficSeries({ intervalMs: 10_000, points: 3, now: () => t, liveVms: () => live });
  for (let i = 1; i <= 100; i++) s.record(rec('a', i === 100 ? 503 : 200, i));
  s.record(rec(undefined, 404, 1, false));
  let pts = s.points('a');
  assert.equal(pts.length, 1, 'only the open interval');
  assert.deepEqual(pts[0], { t: 0, requests: 100, errors: 1, boots: 100, p50Ms: 50, p99Ms: 99, liveVms: 2 });
  assert.equal(s.points()[0]!.requests, 101, 'the total counts requests no app was routed for');
  t = 10_000;
  s.tick();
  live = { total: 0, byApp: {} };
  pts = s.points('a');
  assert.equal(pts.length, 2);
  assert.equal(pts[0]!.liveVms, 2, 'sampled when the interval closed');
  assert.deepEqual(pts[1], { t: 10_000, requests: 0, errors: 0, boots: 0, p50Ms: null, p99Ms: null, liveVms: 0 });
  for (let i = 0; i < 5; i++) {
    t += 10_000;
    s.tick();
  }
  assert.equal(s.points('a').length, 4, 'bounded: 3 closed points and the open one');
  assert.equal(s.points('nope').length, 1);
});

test('summary: rate over the window, error rate, percentiles; forget and retain drop apps', () => {
  let t = 0;
  const s = new TrafficSeries({ intervalMs: 10_000, now: () => t });
  for (let i = 0; i < 30; i++) s.record(rec('a', i < 3 ? 500 : 200, 10));
  t = 10_000;
  s.tick();
  t = 30_000;
  const sum = s.summary('a');
  assert.equal(sum.requestsPerSec, 1);
  assert.equal(sum.errorRate, 0.1);
  assert.equal(sum.p50Ms, 10);
  assert.equal(s.summary('b').errorRate, null);
  s.record(rec('b', 200, 1));
  assert.equal(s.seriesCount, 3);
  s.retain(new Set(['a']));
  assert.equal(s.seriesCount, 2);
  s.forgetApp('a');
  assert.equal(s.seriesCount, 1);
});

test('latency samples per interval are bounded by the reservoir', () => {
  const s = new TrafficSeries({ now: () => 0 });
  for (let i = 0; i < RESERVOIR_SIZE * 5; i++) s.record(rec('a', 200, i % 100));
  const p = s.points('a')[0]!;
  assert.equal(p.requests, RESERVOIR_SIZE * 5);
  assert.ok(p.p50Ms! >= 30 && p.p50Ms! <= 70, `p50 estimated from the reservoir: ${p.p50Ms}`);
  assert.equal(quantile([], 0.5), null);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
  assert.equal(quantile([1, 2, 3, 4], 0.99), 4);
});
