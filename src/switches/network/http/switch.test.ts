// The HTTP switch over real sockets: an upstream on 127.0.0.1, the operator's loopback
// allowance, refusals by allowlist, by address (loopback, private, mapped, the daemon's own),
// by caps, and a resolver that answers a refused address for an allowed name.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { DENY_ALL, type OutboundPolicy } from '../../../shared/outbound.ts';
import type { OutboundRequest } from '../../../shared/outbound-wire.ts';
import { AddressPolicy, parseCidr } from './addresses.ts';
import { HttpSwitch } from './switch.ts';

let upstream: Server;
let port: number;
let hits = 0;

before(async () => {
  upstream = createServer((req, res) => {
    hits++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/big') return void res.end('x'.repeat(10_000));
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
      res.setHeader('x-upstream', 'yes');
      res.end(`${req.method} ${req.url} host=${req.headers.host} body=${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  port = (upstream.address() as AddressInfo).port;
});
after(() => upstream.close());

const policy = (allow: string[], caps: Partial<OutboundPolicy> = {}): OutboundPolicy => ({ ...DENY_ALL, allow, ...caps });
const get = (authority: string, path = '/x', body = ''): OutboundRequest => ({ method: body === '' ? 'GET' : 'POST', scheme: 'http', authority, pathWithQuery: path, headers: [['x-a', '1'], ['host', 'spoofed']], body: Buffer.from(body) });
const loopback = [parseCidr('127.0.0.1/32')];

test('an allowed call to 127.0.0.1 with the operator allowance reaches the upstream and is recorded', async () => {
  const seen: string[] = [];
  const sw = new HttpSwitch({ allowNets: loopback, onCall: (_s, c) => seen.push(`${c.host} ${c.status}`) });
  const s = sw.session({ app: 'a' }, policy([`http://127.0.0.1:${port}`]));
  const r = await s.call(get(`127.0.0.1:${port}`, '/p?q=1', 'hi'));
  assert.ok(r.ok);
  assert.equal(r.status, 200);
  assert.equal(Buffer.from(r.body).toString(), `POST /p?q=1 host=127.0.0.1:${port} body=hi`);
  assert.ok(r.headers.some(([k, v]) => k === 'x-upstream' && v === 'yes'));
  assert.deepEqual(seen, ['127.0.0.1 200']);
  assert.equal(s.calls[0]!.address, '127.0.0.1');
});

test('refusals: not on the list, loopback without the allowance, an allowed name resolving to a refused address', async () => {
  const before = hits;
  const refused: string[] = [];
  const sw = new HttpSwitch({ onRefused: (_s, c) => refused.push(c.reason ?? '') });
  let s = sw.session({ app: 'a' }, policy([`http://127.0.0.1:${port}`]));
  const denied = await s.call(get(`localhost:${port}`));
  assert.deepEqual(!denied.ok && denied.code, { tag: 'HTTP-request-denied' });
  const loop = await s.call(get(`127.0.0.1:${port}`));
  assert.deepEqual(!loop.ok && loop.code, { tag: 'destination-IP-prohibited' });
  assert.match(refused[1]!, /loopback address/);
  // A name on the list whose resolution is a private address (DNS rebinding): refused.
  const rebinding = new HttpSwitch({ resolve: async () => ['10.1.2.3', '::ffff:127.0.0.1'] });
  s = rebinding.session({ app: 'a' }, policy(['http://api.example.test']));
  const r = await s.call(get('api.example.test'));
  assert.deepEqual(!r.ok && r.code, { tag: 'destination-IP-prohibited' });
  assert.match(!r.ok ? r.reason : '', /10\.1\.2\.3: private address; ::ffff:127\.0\.0\.1: loopback/);
  assert.equal(hits, before, 'no refused call reached the upstream');
});

test('the resolved address is the one connected to: an allowed name resolving to the allowed loopback upstream', async () => {
  const sw = new HttpSwitch({ allowNets: loopback, resolve: async () => ['127.0.0.1'] });
  const s = sw.session({ app: 'a' }, policy([`http://*.example.test:${port}`]));
  const r = await s.call(get(`svc.example.test:${port}`));
  assert.ok(r.ok);
  assert.match(Buffer.from(r.body).toString(), new RegExp(`host=svc\\.example\\.test:${port}`));
});

test('caps: calls, bytes, time', async () => {
  const sw = new HttpSwitch({ allowNets: loopback });
  const allow = [`http://127.0.0.1:${port}`];
  let s = sw.session({ app: 'a' }, policy(allow, { maxCalls: 2 }));
  assert.ok((await s.call(get(`127.0.0.1:${port}`))).ok);
  assert.ok((await s.call(get(`127.0.0.1:${port}`))).ok);
  const third = await s.call(get(`127.0.0.1:${port}`));
  assert.deepEqual(!third.ok && third.code, { tag: 'connection-limit-reached' });
  s = sw.session({ app: 'a' }, policy(allow, { maxBytes: 5000 }));
  const big = await s.call(get(`127.0.0.1:${port}`, '/big'));
  assert.equal(!big.ok && big.code.tag, 'HTTP-response-body-size');
  s = sw.session({ app: 'a' }, policy(allow, { maxBytes: 3 }));
  const body = await s.call(get(`127.0.0.1:${port}`, '/x', 'four'));
  assert.equal(!body.ok && body.code.tag, 'HTTP-request-body-size');
  s = sw.session({ app: 'a' }, policy(allow), performance.now() + 200);
  const slow = await s.call(get(`127.0.0.1:${port}`, '/slow'));
  assert.equal(!slow.ok && slow.code.tag, 'HTTP-response-timeout');
});

test('address policy: ranges, mapped forms, own addresses, the operator allowance', () => {
  const p = new AddressPolicy([], ['203.0.114.7']);
  for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.5', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '::ffff:7f00:1', '64:ff9b::a9fe:a9fe', '224.0.0.1', '203.0.114.7']) {
    assert.notEqual(p.refusal(a), undefined, a);
  }
  for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '8.8.8.8']) assert.equal(p.refusal(a), undefined, a);
  const allowed = new AddressPolicy([parseCidr('10.0.0.0/8'), parseCidr('::1')], []);
  assert.equal(allowed.refusal('10.9.9.9'), undefined);
  assert.equal(allowed.refusal('::1'), undefined);
  assert.notEqual(allowed.refusal('127.0.0.1'), undefined);
  assert.throws(() => parseCidr('10.0.0.0/33'), /--outbound-allow-net "10\.0\.0\.0\/33"/);
});
