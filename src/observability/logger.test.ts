import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NanovisorError } from '../shared/errors.ts';
import { createLogger, type LoggerOptions } from './logger.ts';

function capture(options: LoggerOptions = {}): { lines: () => Record<string, unknown>[]; raw: () => string; log: ReturnType<typeof createLogger> } {
  let raw = '';
  const log = createLogger({ now: () => Date.UTC(2025, 0, 2, 3, 4, 5), ...options, stream: { write: (s: string) => (raw += s) } });
  return {
    log,
    raw: () => raw,
    lines: () => raw.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('one JSON object per line: time, level, msg, component, requestId, fields', () => {
  const c = capture({ component: 'api' });
  c.log.info('app deployed', { app: 'echo', version: 3, requestId: 'abc-1' });
  c.log.child({ component: 'gateway' }).warn('slow', { ms: 12.5, time: 'field named time' });
  const [a, b] = c.lines();
  assert.deepEqual(a, { time: '2025-01-02T03:04:05.000Z', level: 'info', msg: 'app deployed', component: 'api', requestId: 'abc-1', app: 'echo', version: 3 });
  assert.equal(b!['component'], 'gateway');
  assert.equal(b!['level'], 'warn');
  assert.equal(b!['time'], '2025-01-02T03:04:05.000Z', 'a field cannot overwrite the line time');
  assert.equal(b!['time_'], 'field named time');
  assert.ok(c.raw().endsWith('\n'));
  assert.equal(c.raw().split('\n').length, 3);
});

test('levels: info by default, debug with --debug; errors are serialised (stack only at debug)', () => {
  const c = capture();
  c.log.debug('hidden');
  c.log.error('failed', { err: new NanovisorError('NV_IMAGE_NOT_FOUND', 'no image "x"') });
  const lines = c.lines();
  assert.equal(lines.length, 1);
  assert.deepEqual(lines[0]!['err'], { name: 'NanovisorError', message: 'no image "x"', code: 'NV_IMAGE_NOT_FOUND' });

  const d = capture({ level: 'debug' });
  d.log.debug('shown', { err: new Error('x') });
  const line = d.lines()[0]!;
  assert.equal(line['level'], 'debug');
  assert.match(String((line['err'] as Record<string, unknown>)['stack']), /Error: x/);
  assert.ok(d.log.enabled('debug'));
});

test('never logs authorization headers or tokens', () => {
  const token = 'nvt_0123456789abcdefSECRET';
  const c = capture({ level: 'debug' });
  c.log.addSecret(token);
  const child = c.log.child({ component: 'api', requestId: 'r1' });
  child.info('request', {
    headers: { authorization: `Bearer ${token}`, Authorization: `Bearer ${token}`, cookie: 'sid=1', 'content-type': 'application/json' },
    token,
    apiToken: 'another-token-value',
    nested: { deeper: { password: 'pw', list: [{ secret: 's' }] } },
    url: `/v1/things?access=${token}`,
  });
  child.info(`rotated to ${token}`);
  child.warn('bad header', { value: 'Bearer some.other-opaque_token' });
  child.error('failed', { err: new Error(`could not use ${token}`) });
  const raw = c.raw();
  assert.ok(!raw.includes(token), raw);
  assert.ok(!raw.includes('another-token-value'));
  assert.ok(!raw.includes('some.other-opaque_token'));
  assert.ok(!raw.includes('sid=1'));
  assert.ok(!raw.includes('"pw"'));
  const [first, second, third] = c.lines();
  const headers = first!['headers'] as Record<string, unknown>;
  assert.equal(headers['authorization'], '[redacted]');
  assert.equal(headers['Authorization'], '[redacted]');
  assert.equal(headers['content-type'], 'application/json', 'other fields stay');
  assert.equal(first!['token'], '[redacted]');
  assert.equal(first!['url'], '/v1/things?access=[redacted]');
  assert.equal(second!['msg'], 'rotated to [redacted]');
  assert.equal(third!['value'], 'Bearer [redacted]');
});

test('odd fields do not break a line: circular, bigint, bytes, deep nesting; a failing stream is ignored', () => {
  const c = capture();
  const circ: Record<string, unknown> = { a: 1 };
  circ['self'] = circ;
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 20; i++) deep = (deep['d'] = {}) as Record<string, unknown>;
  c.log.info('odd', { circ, big: 10n, bytes: new Uint8Array(5), root, fn: () => 1, when: new Date(0) });
  const line = c.lines()[0]!;
  assert.deepEqual(line['circ'], { a: 1, self: '[circular]' });
  assert.equal(line['big'], '10');
  assert.equal(line['bytes'], '[5 bytes]');
  assert.equal(line['when'], '1970-01-01T00:00:00.000Z');
  assert.ok(JSON.stringify(line['root']).includes('[too deep]'));
  const broken = createLogger({ stream: { write: () => { throw new Error('EPIPE'); } } });
  assert.doesNotThrow(() => broken.error('still fine'));
});
