import assert from 'node:assert/strict';
import { channel } from 'node:diagnostics_channel';
import { test } from 'node:test';
import type { RequestRecord } from '../gateway/server.ts';
import { NanovisorMetrics, Registry, REQUEST_DURATION_BUCKETS } from './metrics.ts';

interface Sample { name: string; labels: Record<string, string>; value: number }
interface Family { help: string; type: string; samples: Sample[] }

/**
 * A strict reader of the Prometheus text format (the subset we write): HELP then TYPE, then
 * samples of that family; label values with \\, \" and \n escapes. Throws on anything else.
 */
function parseExposition(text: string): Map<string, Family> {
  assert.ok(text === '' || text.endsWith('\n'), 'output ends with a newline');
  const families = new Map<string, Family>();
  let current: { name: string; family: Family } | undefined;
  for (const line of text.split('\n').slice(0, -1)) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      assert.ok(!families.has(m[1]!), `family ${m[1]} appears twice`);
      current = { name: m[1]!, family: { help: m[2]!.replace(/\\n/g, '\n').replace(/\\\\/g, '\\'), type: '', samples: [] } };
      families.set(m[1]!, current.family);
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (m) {
      assert.equal(m[1], current?.name, 'TYPE follows its HELP');
      current!.family.type = m[2]!;
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = m;
    assert.ok(current !== undefined && (name === current.name || name!.startsWith(`${current.name}_`)), `${name} outside its family`);
    const labels: Record<string, string> = {};
    if (labelText !== undefined) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/y;
      let at = 0;
      while (at < labelText.length) {
        re.lastIndex = at;
        const l = re.exec(labelText);
        assert.ok(l, `bad labels: ${labelText}`);
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        at = re.lastIndex;
      }
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    assert.ok(!Number.isNaN(value) || valueText === 'NaN', `bad value ${valueText}`);
    current.family.samples.push({ name: name!, labels, value });
  }
  return families;
}

function sample(f: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  const family = f.get(name.replace(/_(bucket|sum|count)$/, '')) ?? f.get(name);
  return family?.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()))?.value;
}

test('registry renders counters, gauges and histograms in the exposition format', () => {
  const r = new Registry();
  const c = r.counter('jobs_total', 'Jobs run.\nSecond line with a \\ backslash.', ['queue']);
  c.inc({ queue: 'a' });
  c.inc({ queue: 'a' }, 2);
  c.inc({ queue: 'say "hi"\\\n' });
  const g = r.gauge('temperature', 'Degrees.');
  g.set(undefined, -3.5);
  const h = r.histogram('latency_seconds', 'Latency.', ['app'], [0.1, 1]);
  h.observe({ app: 'x' }, 0.05);
  h.observe({ app: 'x' }, 0.1);
  h.observe({ app: 'x' }, 0.5);
  h.observe({ app: 'x' }, 7);

  const text = r.render();
  assert.match(text, /^# HELP jobs_total Jobs run\.\\nSecond line with a \\\\ backslash\.\n# TYPE jobs_total counter\n/);
  assert.ok(text.includes('jobs_total{queue="say \\"hi\\"\\\\\\n"} 1\n'), text);
  const f = parseExposition(text);
  assert.equal(f.get('jobs_total')!.help, 'Jobs run.\nSecond line with a \\ backslash.');
  assert.equal(f.get('jobs_total')!.type, 'counter');
  assert.equal(sample(f, 'jobs_total', { queue: 'a' }), 3);
  assert.equal(sample(f, 'jobs_total', { queue: 'say "hi"\\\n' }), 1, 'label values round-trip through the escapes');
  assert.equal(sample(f, 'temperature', {}), -3.5);
  assert.equal(f.get('latency_seconds')!.type, 'histogram');
  assert.equal(sample(f, 'latency_seconds_bucket', { app: 'x', le: '0.1' }), 2, 'le is inclusive and buckets are cumulative');
  assert.equal(sample(f, 'latency_seconds_bucket', { app: 'x', le: '1' }), 3);
  assert.equal(sample(f, 'latency_seconds_bucket', { app: 'x', le: '+Inf' }), 4);
  assert.equal(sample(f, 'latency_seconds_count', { app: 'x' }), 4);
  assert.equal(sample(f, 'latency_seconds_sum', { app: 'x' }), 7.65);
});

test('registry refuses bad names, duplicate metrics, falling counters and unsorted buckets', () => {
  const r = new Registry();
  assert.throws(() => r.counter('bad-name', 'x'), /not valid/);
  assert.throws(() => r.counter('ok_total', 'x', ['bad-label']), /not valid/);
  assert.throws(() => r.counter('ok_total', 'x', ['__reserved']), /not valid/);
  r.counter('once_total', 'x');
  assert.throws(() => r.gauge('once_total', 'x'), /twice/);
  assert.throws(() => r.counter('c_total', 'x').inc(undefined, -1), /only go up/);
  assert.throws(() => r.histogram('h', 'x', [], [1, 1]), /ascending/);
  assert.throws(() => r.histogram('h2', 'x', ['le'], [1]), /"le"/);
  assert.equal(new Registry().render(), '');
});

test('gauge collectors are read at render time; a throwing collector does not break the scrape', () => {
  const r = new Registry();
  let live = 5;
  r.gauge('live', 'Live.').collect(() => live);
  const q = r.gauge('depth', 'Depth.', ['app']);
  q.collect(() => [[{ app: 'a' }, 2], [{ app: 'b' }, 0]]);
  let f = parseExposition(r.render());
  assert.equal(sample(f, 'live', {}), 5);
  assert.equal(sample(f, 'depth', { app: 'a' }), 2);
  live = 7;
  q.collect(() => {
    throw new Error('boom');
  });
  f = parseExposition(r.render());
  assert.equal(sample(f, 'live', {}), 7);
  assert.equal(sample(f, 'depth', { app: 'a' }), 2, 'previous values kept');
});

function rec(over: Partial<RequestRecord>): RequestRecord {
  return { requestId: 'r-1', app: 'echo', method: 'GET', url: '/echo', status: 200, durationMs: 1.5, outcome: 'exit', exitCode: 0, ...over };
}

test('nanovisor metrics: recordRequest feeds requests, latency and boots; deploys; sources; forgetApp', () => {
  const m = new NanovisorMetrics({ vmsLive: () => 3, poolIdle: () => 8, queueDepth: () => ({ echo: 4 }) });
  m.recordRequest(rec({}));
  m.recordRequest(rec({ durationMs: 2000 }));
  m.recordRequest(rec({ status: 502, outcome: 'trap' }));
  m.recordRequest(rec({ app: undefined, status: 404, outcome: undefined, exitCode: undefined }));
  m.recordRequest(rec({ app: 'other', status: 413, outcome: undefined }));
  m.recordDeploy('echo');
  m.recordDeploy('echo');

  const f = parseExposition(m.render());
  for (const name of ['nanovisor_requests_total', 'nanovisor_request_duration_seconds', 'nanovisor_vm_boots_total', 'nanovisor_vms_live',
    'nanovisor_pool_idle_instances', 'nanovisor_queue_depth', 'nanovisor_deploys_total']) {
    assert.ok(f.has(name), `${name} is exported`);
    assert.ok(f.get(name)!.help.length > 0);
  }
  assert.equal(f.get('nanovisor_request_duration_seconds')!.type, 'histogram');
  assert.equal(sample(f, 'nanovisor_requests_total', { app: 'echo', status: '200' }), 2);
  assert.equal(sample(f, 'nanovisor_requests_total', { app: 'echo', status: '502' }), 1);
  assert.equal(sample(f, 'nanovisor_requests_total', { app: '', status: '404' }), 1);
  assert.equal(sample(f, 'nanovisor_vm_boots_total', { app: 'echo' }), 3, 'a VM ran for each of them');
  assert.equal(sample(f, 'nanovisor_vm_boots_total', { app: 'other' }), undefined, 'no VM for a 413');
  assert.equal(sample(f, 'nanovisor_request_duration_seconds_count', { app: 'echo' }), 3);
  assert.equal(sample(f, 'nanovisor_request_duration_seconds_bucket', { app: 'echo', le: '0.0025' }), 2);
  assert.equal(sample(f, 'nanovisor_request_duration_seconds_bucket', { app: 'echo', le: '1' }), 2);
  assert.equal(sample(f, 'nanovisor_request_duration_seconds_bucket', { app: 'echo', le: '2.5' }), 3);
  assert.equal(f.get('nanovisor_request_duration_seconds')!.samples.filter((s) => s.name.endsWith('_bucket') && s.labels['app'] === 'echo').length,
    REQUEST_DURATION_BUCKETS.length + 1);
  assert.equal(sample(f, 'nanovisor_vms_live', {}), 3);
  assert.equal(sample(f, 'nanovisor_pool_idle_instances', {}), 8);
  assert.equal(sample(f, 'nanovisor_queue_depth', { app: 'echo' }), 4);
  assert.equal(sample(f, 'nanovisor_deploys_total', { app: 'echo' }), 2);

  m.forgetApp('echo');
  const after = m.render();
  assert.ok(!after.includes('app="echo",status'), 'a deleted app stops being exported');
  assert.ok(after.includes('app="other"'));
});

test('subscribeGateway counts records published on nanovisor:gateway:request', () => {
  const m = new NanovisorMetrics();
  const stop = m.subscribeGateway();
  channel('nanovisor:gateway:request').publish(rec({ app: 'chan' }));
  stop();
  channel('nanovisor:gateway:request').publish(rec({ app: 'chan' }));
  assert.equal(m.requests.get({ app: 'chan', status: 200 }), 1);
});
