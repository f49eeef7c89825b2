// Admission control over real sockets, on a gateway serving the real cgi-echo-c example:
// a connection cap turns away a flood of idle connections at once while normal requests are
// answered again as soon as some close; a slowloris client trickling its headers is cut
// with 408 while a normal client is served; unfinished bodies beyond the body budget get 503
// with Retry-After, their bytes freed, while a small request still succeeds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InProcessHost, prepareModule, type VmHandle } from '../host/index.ts';
import { Admission, defaultAdmission, resolveAdmission } from './admission.ts';
import { createGateway, type Gateway, type RequestRecord } from './server.ts';

const wasm = join(fileURLToPath(new URL('../../build/examples/cgi-echo-c/', import.meta.url)), 'cgi-echo-c.wasm');
const host = new InProcessHost();
let echo: VmHandle;
let wait: VmHandle;
const open: Gateway[] = [];
const sockets: Socket[] = [];

before(() => {
  echo = host.adopt(prepareModule(readFileSync(wasm)));
  wait = host.adopt(prepareModule(readFileSync(fileURLToPath(new URL('../../build/guests/c/cgi_wait.wasm', import.meta.url)))));
});
after(async () => {
  for (const s of sockets) s.destroy();
  for (const g of open) await g.close();
  await host.close();
});

async function gateway(admission: ConstructorParameters<typeof Admission>[0], records: RequestRecord[] = []): Promise<{ gw: Gateway; port: number }> {
  const gw = createGateway({
    host,
    apps: [
      { name: 'echo', routes: [{ path: '/echo' }], handle: echo, maxBodyBytes: 512 * 1024 },
      { name: 'wait', routes: [{ path: '/wait' }], handle: wait },
    ],
    admission,
    onRequest: (r) => records.push(r),
  });
  open.push(gw);
  return { gw, port: (await gw.listen(0)).port };
}

function get(port: number, path = '/echo/x', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw connection that records what it receives and when it closes. */
function rawConnection(port: number): { socket: Socket; received: () => string; closed: Promise<number> } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let got = '';
  const t0 = performance.now();
  socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now() - t0)));
  return { socket, received: () => got, closed };
}

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('defaults are documented values; bad options are refused by name', () => {
  const d = defaultAdmission();
  assert.ok(d.maxConnections >= 1 && d.maxConnections <= 10_000);
  assert.deepEqual({ ...d, maxConnections: 0 }, { maxConnections: 0, maxHeaderBytes: 16384, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5000, maxBufferedBodyBytes: 128 * 1024 * 1024, checkIntervalMs: 1000 });
  assert.throws(() => resolveAdmission({ maxConnections: 0 }), /maxConnections must be an integer >= 1/);
  assert.throws(() => resolveAdmission({ headersTimeoutMs: 1.5 }), /headersTimeoutMs/);
  assert.equal(resolveAdmission({ headersTimeoutMs: 400 }).checkIntervalMs, 100, 'timeouts are checked often enough to hold');
});

test('connection cap: a flood of idle connections is turned away at once; requests are answered again once some close', async () => {
  const CAP = 50;
  const { gw, port } = await gateway({ maxConnections: CAP, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
  const held = [];
  for (let i = 0; i < CAP; i++) held.push(rawConnection(port));
  await waitFor('the cap to fill', () => gw.admission.stats().connections === CAP);
  const flood = Array.from({ length: 250 }, () => rawConnection(port));
  // Every connection over the cap is answered 503 and closed without waiting for the client.
  await Promise.all(flood.map((c) => c.closed));
  const answered = flood.filter((c) => c.received().startsWith('HTTP/1.1 503 '));
  assert.ok(answered.length >= 200, `${answered.length} of 250 got the 503`);
  assert.match(answered[0]!.received(), /retry-after: 1\r\n/i);
  assert.equal(gw.admission.stats().refusedConnections, 250);
  assert.equal(gw.admission.stats().connections, CAP, 'the held ones are still open');
  for (const c of held.slice(0, 5)) c.socket.destroy();
  await waitFor('the closed ones to be counted', () => gw.admission.stats().connections === CAP - 5);
  const r = await get(port);
  assert.equal(r.status, 200, 'a normal request is served once there is room');
  assert.match(r.body, /method: GET/);
});

test('slowloris: a client trickling headers is cut with 408 after the headers timeout; a normal client is served meanwhile', async () => {
  const { port } = await gateway({ headersTimeoutMs: 500, requestTimeoutMs: 5000 });
  const slow = rawConnection(port);
  slow.socket.write('GET /echo/slow HTTP/1.1\r\nHost: x\r\n');
  let n = 0;
  const trickle = setInterval(() => {
    if (!slow.socket.destroyed) slow.socket.write(`X-Slow-${n++}: y\r\n`);
  }, 100);
  try {
    const normal = await get(port);
    assert.equal(normal.status, 200);
    const ms = await slow.closed;
    assert.match(slow.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.ok(ms < 5000, `cut after ${Math.round(ms)} ms, promptly after the 500 ms headers timeout`);
    assert.ok(n >= 3, 'it was trickling for a while first');
  } finally {
    clearInterval(trickle);
  }
});

test('a body sent too slowly is cut with 408 after the request timeout; a guest slower than it after a whole body is not', async () => {
  const { port } = await gateway({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
  const slow = rawConnection(port);
  slow.socket.write('POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
  const ms = await slow.closed;
  assert.match(slow.received(), /^HTTP\/1\.1 408 /);
  assert.ok(ms < 5000);
  const ok = await get(port, '/echo/x', 'whole body');
  assert.equal(ok.status, 200);
  assert.match(ok.body, /whole body/);
  // The timeout covers receiving the request, not the guest's time to answer it.
  const late = await get(port, '/wait?sleep=1200');
  assert.equal(late.status, 200, late.body);
});

test('a request head over maxHeaderBytes gets 431', async () => {
  const { port } = await gateway({ maxHeaderBytes: 2048 });
  const c = rawConnection(port);
  c.socket.write(`GET /echo/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
  await c.closed;
  assert.match(c.received(), /^HTTP\/1\.1 431 /);
});

test('body budget: unfinished bodies beyond it get 503 + Retry-After and are freed; a small request still succeeds', async () => {
  const records: RequestRecord[] = [];
  const BUDGET = 1024 * 1024;
  const PART = 300 * 1024;
  const { gw, port } = await gateway({ maxBufferedBodyBytes: BUDGET, requestTimeoutMs: 60_000 }, records);
  // Eight clients each announce 400 KiB and send 300 KiB of it, then wait: 2.4 MB wanted.
  const clients = Array.from({ length: 8 }, () => {
    const c = rawConnection(port);
    c.socket.write(`POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: ${400 * 1024}\r\n\r\n`);
    c.socket.write(Buffer.alloc(PART, 0x61));
    return c;
  });
  const refused = () => records.filter((r) => r.errorCode === 'NV_GATEWAY_BUSY').length;
  // Settled: every client is either refused or has all of its 300 KiB held.
  await waitFor('the budget to settle', () => refused() >= 1 && gw.admission.stats().bufferedBodyBytes === PART * (8 - refused()));
  const held = gw.admission.stats().bufferedBodyBytes;
  assert.ok(held <= BUDGET, `${held} bytes held, within the budget`);
  assert.ok(refused() >= 5, `${refused()} of 8 refused (at most 3 x 300 KiB fit in 1 MiB)`);
  const record = records.find((r) => r.errorCode === 'NV_GATEWAY_BUSY')!;
  assert.equal(record.status, 503);
  await Promise.all(clients.filter((c) => c.received() !== '').map((c) => c.closed));
  const answered = clients.filter((c) => c.received().startsWith('HTTP/1.1 503 '));
  for (const c of answered) assert.match(c.received(), /retry-after: 1\r\n/i);
  assert.ok(answered.length >= 1, 'refused clients read their 503');

  const small = await get(port, '/echo/x', 'small body');
  assert.equal(small.status, 200);
  assert.match(small.body, /small body/);
  for (const c of clients) c.socket.destroy();
  await waitFor('every byte to be freed', () => gw.admission.stats().bufferedBodyBytes === 0);
});
