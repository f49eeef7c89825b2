// Admission control of the whole daemon over real sockets: a flood of idle connections on the
// gateway, beyond its cap, leaves the API answering and the gateway answering again once
// some close; the API has caps of its own (connections, slowloris).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { runCli } from '../src/cli/main.ts';

const data = mkdtempSync(join(tmpdir(), 'nv-serve-admission-'));
let d: Daemon;
const sockets: Socket[] = [];
const local = { host: '127.0.0.1', port: 0 };

before(async () => {
  d = await startDaemon({
    dataDir: data, api: local, listen: local, examples: false, shards: 0, graceMs: 500,
    admission: { maxConnections: 50, headersTimeoutMs: 30_000 },
    apiAdmission: { maxConnections: 20, headersTimeoutMs: 500 },
  });
});
after(async () => {
  for (const s of sockets) s.destroy();
  await d.close();
  rmSync(data, { recursive: true, force: true });
});

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function idle(port: number): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let got = '';
  socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
  socket.on('error', () => {});
  return { socket, received: () => got, closed: new Promise((r) => socket.once('close', () => r())) };
}

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a flood of idle gateway connections beyond the cap: the API keeps answering, the gateway answers again once some close', async () => {
  const gwPort = portOf(d.gatewayUrl);
  const held = Array.from({ length: 50 }, () => idle(gwPort));
  await waitFor('the gateway cap to fill', () => d.gateway.admission.stats().connections === 50);
  const flood = Array.from({ length: 400 }, () => idle(gwPort));
  await Promise.all(flood.map((c) => c.closed));
  assert.equal(d.gateway.admission.stats().refusedConnections, 400);
  assert.ok(flood.filter((c) => c.received().startsWith('HTTP/1.1 503 ')).length >= 300);
  const health = await fetch(`${d.apiUrl}/healthz`);
  assert.equal(health.status, 200, 'the API answers while the gateway is full');
  for (const c of held.slice(0, 10)) c.socket.destroy();
  await waitFor('room on the gateway', () => d.gateway.admission.stats().connections <= 40);
  const r = await fetch(`${d.gatewayUrl}/nothing-here`);
  assert.equal(r.status, 404, 'the gateway answers again');
  for (const c of held) c.socket.destroy();
  const token = readFileSync(d.tokenFile, 'utf8').trim();
  const metrics = await (await fetch(`${d.apiUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  assert.match(metrics, /nanovisor_admission_refused_total\{server="gateway",reason="connections"\} 400\n/);
  assert.match(metrics, /nanovisor_connections_open\{server="api"\} \d+\n/);
});

test('the API has its own connection cap and headers timeout', async () => {
  const apiPort = portOf(d.apiUrl);
  const held = Array.from({ length: 20 }, () => idle(apiPort));
  await new Promise((r) => setTimeout(r, 100));
  const over = idle(apiPort);
  await over.closed;
  assert.match(over.received(), /^HTTP\/1\.1 503 /);
  // The idle ones never sent a head: the 500 ms headers timeout closes them with 408.
  await Promise.all(held.map((c) => c.closed));
  assert.match(held[0]!.received(), /^HTTP\/1\.1 408 /);
  assert.equal((await fetch(`${d.apiUrl}/healthz`)).status, 200);
});

test('serve --max-connections takes a whole number of at least 1', async () => {
  let err = '';
  const io = { stdout: () => {}, stderr: (t: string) => (err += t), cwd: data, env: {}, stderrIsTTY: false };
  for (const bad of ['0', 'many', '1.5']) {
    err = '';
    assert.equal(await runCli(['serve', '--data', join(data, 'unused'), '--max-connections', bad], io), 2);
    assert.match(err, /NV_USAGE: --max-connections/);
  }
});
