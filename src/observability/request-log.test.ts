import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RequestRecord } from '../gateway/server.ts';
import { capUtf8, redact, RequestLog, type LogEntry } from './request-log.ts';

function tmp(): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), 'nv-reqlog-'));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

let n = 0;
function rec(over: Partial<RequestRecord> = {}): RequestRecord {
  return { requestId: `req-${n++}`, app: 'echo', method: 'GET', url: '/echo', status: 200, durationMs: 1.23456, vmMs: 0.5, outcome: 'exit', exitCode: 0, ...over };
}

test('redact replaces every secret value (longest first, URL-encoded too) and leaves the rest', () => {
  assert.equal(redact('key=abc123 and abc123 again', ['abc123']), 'key=[redacted] and [redacted] again');
  assert.equal(redact('pw=a b&c', ['a b&c']), 'pw=[redacted]');
  assert.equal(redact('q=a%20b%26c', ['a b&c']), 'q=[redacted]', 'URL-encoded form');
  assert.equal(redact('tokentoken2', ['token', 'tokentoken2']), '[redacted]', 'longer secret first');
  assert.equal(redact('nothing here', ['', 'zzz']), 'nothing here', 'empty values ignored');
  assert.equal(redact('x', []), 'x');
});

test('capUtf8 cuts on a character boundary', () => {
  assert.deepEqual(capUtf8('abc', 8), { text: 'abc', dropped: 0 });
  assert.deepEqual(capUtf8('aé', 2), { text: 'a', dropped: 2 }, 'é is two bytes; never half of it');
  assert.deepEqual(capUtf8('abcdef', 4), { text: 'abcd', dropped: 2 });
});

test('append assigns per-app increasing seq; read pages forward with since and tails without', () => {
  const log = new RequestLog({ now: () => Date.UTC(2025, 0, 2, 3, 4, 5) });
  for (let i = 0; i < 5; i++) log.append(rec());
  log.append(rec({ app: 'other' }));
  assert.equal(log.append(rec({ app: undefined, status: 404 })), undefined, 'no per-app log for unrouted requests');
  const all = log.read('echo');
  assert.deepEqual(all.map((e) => e.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual(log.read('other').map((e) => e.seq), [1]);
  assert.equal(all[0]!.time, '2025-01-02T03:04:05.000Z');
  assert.equal(all[0]!.durationMs, 1.235);
  assert.deepEqual(log.read('echo', 2).map((e) => e.seq), [3, 4, 5], 'since is exclusive');
  assert.deepEqual(log.read('echo', 0, 2).map((e) => e.seq), [1, 2], 'with since: the oldest after it');
  assert.deepEqual(log.read('echo', undefined, 2).map((e) => e.seq), [4, 5], 'without since: the newest');
  assert.deepEqual(log.read('echo', 5), []);
  assert.deepEqual(log.read('nobody'), []);
  assert.equal(log.lastSeq('echo'), 5);
});

test('memory keeps only the newest entries per app', () => {
  const log = new RequestLog({ maxEntries: 100 });
  for (let i = 0; i < 3000; i++) log.append(rec());
  const all = log.read('echo', undefined, 1_000_000);
  assert.equal(all.length, 100);
  assert.equal(all[0]!.seq, 2901);
  assert.equal(all.at(-1)!.seq, 3000);
  const bytes = new RequestLog({ maxMemoryBytes: 10_000 });
  for (let i = 0; i < 100; i++) bytes.append(rec({ stderr: 'x'.repeat(1000) }));
  assert.ok(bytes.read('echo').length < 10, 'byte budget too');
});

test('stderr is capped per request with the cut marked, and secrets are redacted before it is kept', () => {
  using dir = tmp();
  const secret = 'hunter2-very-secret';
  const log = new RequestLog({ dir: dir.path, maxStderrBytes: 64, secretsOf: (app) => (app === 'echo' ? [secret] : []) });
  const flood = 'A'.repeat(60) + secret + 'B'.repeat(1_000_000);
  const e = log.append(rec({ stderr: flood, errorMessage: `failed with ${secret}`, url: `/echo?k=${encodeURIComponent(secret)}` }))!;
  assert.ok(Buffer.byteLength(e.stderr!) <= 64);
  assert.ok(!e.stderr!.includes('hunter2'), 'a secret straddling the cut is not half-kept');
  assert.ok(e.stderrTruncated! > 999_000);
  assert.equal(e.errorMessage, 'failed with [redacted]');
  assert.equal(e.url, '/echo?k=[redacted]');
  const small = log.append(rec({ stderr: `boom: ${secret}\n` }))!;
  assert.equal(small.stderr, 'boom: [redacted]\n');
  assert.equal(small.stderrTruncated, undefined);
  assert.equal(log.append(rec({ stderr: '' }))!.stderr, undefined);
  log.close();
  const text = readFileSync(log.fileOf('echo')!, 'utf8');
  assert.ok(!text.includes(secret), 'no secret on disk');
  assert.equal(text.trim().split('\n').length, 3);
});

test('files: NDJSON per app, size-based rotation bounded on disk, seq and tail restored after restart', async () => {
  using dir = tmp();
  const opts = { dir: dir.path, maxFileBytes: 4096, maxRotatedFiles: 2, maxEntries: 20 };
  const log = new RequestLog(opts);
  for (let i = 0; i < 200; i++) log.append(rec({ stderr: `line ${i}\n` }));
  await new Promise((r) => setImmediate(r));
  const files = readdirSync(dir.path).sort();
  assert.deepEqual(files, ['echo.ndjson', 'echo.ndjson.1', 'echo.ndjson.2']);
  for (const f of files) assert.ok(statSync(join(dir.path, f)).size <= 4096, `${f} within the cap`);
  assert.equal(statSync(join(dir.path, 'echo.ndjson')).mode & 0o777, 0o600);
  const lines = readFileSync(join(dir.path, 'echo.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogEntry);
  assert.equal(lines.at(-1)!.seq, 200);

  // Reading further back than memory holds falls back to the files.
  // Memory holds 181..200; the files hold more.
  const old = log.read('echo', 170, 15);
  assert.deepEqual(old.map((e) => e.seq), Array.from({ length: 15 }, (_, i) => 171 + i));
  const oldest = log.read('echo', 0, 1)[0]!.seq;
  assert.ok(oldest > 1 && oldest < 170, 'the oldest lines were rotated away');
  log.close();
  assert.throws(() => log.append(rec()), /closed/);

  // A crash left a torn line at the end.
  appendFileSync(join(dir.path, 'echo.ndjson'), '{"seq":201,"ti');
  const again = new RequestLog(opts);
  assert.equal(again.lastSeq('echo'), 200);
  assert.deepEqual(again.read('echo', undefined, 3).map((e) => e.seq), [198, 199, 200]);
  assert.equal(again.append(rec())!.seq, 201);
  again.flush();
  const tail = readFileSync(join(dir.path, 'echo.ndjson'), 'utf8').trim().split('\n');
  assert.equal(JSON.parse(tail.at(-1)!).seq, 201, 'the new line starts clean after the torn one');

  again.remove('echo');
  assert.deepEqual(readdirSync(dir.path), []);
  assert.deepEqual(again.read('echo'), []);
});

test('app names that are not file-safe cannot escape the log directory', () => {
  using dir = tmp();
  const log = new RequestLog({ dir: join(dir.path, 'logs') });
  log.append(rec({ app: '../../evil' }));
  log.close();
  assert.ok(!existsSync(join(dir.path, 'evil.ndjson')));
  const [file] = readdirSync(join(dir.path, 'logs'));
  assert.ok(file !== undefined && !file.includes('/') && file.endsWith('.ndjson'), file);
});

test('subscribe gets each new entry of its app until unsubscribed; a throwing subscriber hurts no one', () => {
  const log = new RequestLog();
  const got: number[] = [];
  const stop = log.subscribe('echo', (e) => got.push(e.seq));
  log.subscribe('echo', () => {
    throw new Error('bad subscriber');
  });
  log.append(rec());
  log.append(rec({ app: 'other' }));
  log.append(rec());
  stop();
  log.append(rec());
  assert.deepEqual(got, [1, 2]);
});

test('redact also replaces a secret in base64, base64url, URL encoding and hex, alone or inside a longer encoded text', () => {
  const secret = 's3cr3t/?+~é';
  const b = Buffer.from(secret);
  const forms = {
    base64: b.toString('base64'),
    base64url: b.toString('base64url'),
    hex: b.toString('hex'),
    HEX: b.toString('hex').toUpperCase(),
    url: encodeURIComponent(secret),
    urlLower: encodeURIComponent(secret).toLowerCase(),
    form: new URLSearchParams({ q: `${secret} x` }).toString(),
  };
  for (const [name, form] of Object.entries(forms)) {
    const out = redact(`got ${form} here`, [secret]);
    assert.ok(out.includes('[redacted]'), `${name}: ${out}`);
    assert.ok(!out.includes(form), `${name}: ${out}`);
  }
  // Inside a longer base64 text at every alignment (Basic auth of user:secret, etc.): no more
  // than the edge characters the neighbours share survive.
  for (const prefix of ['', 'u', 'us', 'user:']) {
    for (const enc of ['base64', 'base64url'] as const) {
      const text = Buffer.from(`${prefix}${secret}!!`).toString(enc);
      const out = redact(text, [secret]);
      assert.ok(out.includes('[redacted]'), `${enc} after "${prefix}": ${out}`);
      const left = out.replace('[redacted]', '');
      assert.ok(left.length <= text.length - Math.floor((8 * b.length) / 6) + 2, `${enc} after "${prefix}": ${out}`);
    }
  }
  // Short secrets are replaced as written only (a 3-byte base64 core would hit unrelated text).
  assert.equal(redact('abc YWJj 616263', ['abc']), '[redacted] YWJj 616263');
});
