// ServerVm in process, on the C test server (test/guests/c/http_server.c) built as a server
// image is: asyncify, snapshot transform, interrupt checks. Ready when it first waits in
// sock_accept; state in memory across exchanges; a sleep drops the VM and a restore gives
// back exactly the memory and globals it had; a wake by exchange serves with that state;
// a spinning server is stopped at the request's deadline; an exit ends it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { prepareSnapshot } from '../prepare.ts';
import { extractSnapshot } from '../snapshot/transform.ts';
import { asyncifyServer, loadServerTools } from './asyncify.ts';
import { ServerTable, serverModule } from './server-table.ts';
import { ServerVm } from './server-vm.ts';

await loadServerTools();
const sealed = extractSnapshot(asyncifyServer(new Uint8Array(readFileSync(new URL('../../../build/guests/c/http_server.wasm', import.meta.url)))));
const prepared = prepareSnapshot(sealed.module, sealed.snapshot, 64 * 1024 * 1024);
const enc = new TextEncoder();
const dec = new TextDecoder();
const req = (path: string, id = 'r') => enc.encode(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${id}\r\n\r\n`);
const body = (b: Uint8Array) => dec.decode(b).split('\r\n\r\n')[1];
const limits = { timeoutMs: 5000, maxResponseBytes: 1 << 20 };

function vm(): ServerVm {
  return new ServerVm(serverModule(prepared), { args: ['srv'], readyTimeoutMs: 5000 });
}

test('ready at the first sock_accept; state in memory lasts across exchanges; each answer is whole', async () => {
  const s = vm();
  await s.start();
  assert.equal(s.state, 'parked');
  assert.equal(body(await s.exchange(req('/count'), limits)), 'count=1 served=1 last=/count\n');
  const second = dec.decode(await s.exchange(req('/count', 'abc'), limits));
  assert.match(second, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(second, /X-Seen-Request-Id: abc\r\n/);
  assert.equal(second.split('\r\n\r\n')[1], 'count=2 served=2 last=/count\n');
  s.stop();
  assert.equal((await s.ended).reason, 'stopped');
});

test('a sleep drops the VM; a restore gives back exactly its memory and globals; a wake by exchange serves with that state', async () => {
  const s = vm();
  await s.start();
  for (let i = 0; i < 3; i++) await s.exchange(req('/count'), limits);
  const before = s.stateImage()!;
  assert.equal(s.sleep(), true);
  assert.equal(s.state, 'sleeping');
  assert.equal(s.memoryBytes, 0);
  assert.equal(s.stateImage(), undefined);
  assert.equal(s.restore(), true);
  assert.equal(s.state, 'parked');
  const after = s.stateImage()!;
  assert.deepEqual(after.globals, before.globals);
  assert.equal(after.memory.byteLength, before.memory.byteLength);
  assert.ok(Buffer.from(after.memory).equals(Buffer.from(before.memory)), 'memory after the wake differs from the checkpoint');
  // Asleep again, woken by the request itself.
  assert.equal(s.sleep(), true);
  assert.equal(body(await s.exchange(req('/count'), limits)), 'count=4 served=4 last=/count\n');
  assert.deepEqual(s.counters.wakes, 2);
  s.stop();
});

test('sleep is refused unless parked with nothing waiting; exchanges queue while it serves', async () => {
  const s = vm();
  await s.start();
  const slow = s.exchange(req('/nap?ms=50'), limits);
  const next = s.exchange(req('/count'), limits);
  assert.equal(s.sleep(), false);
  assert.equal(body(await slow), 'napped\n');
  assert.equal(body(await next), 'count=1 served=1 last=/count\n');
  s.stop();
});

test('a server that spins is stopped at the request deadline; one that exits ends with its code; the table forgets both', async () => {
  const table = new ServerTable();
  await table.start(prepared, undefined, 'spin', { args: ['srv'], readyTimeoutMs: 5000 });
  const spinEnd = table.ended('spin');
  await assert.rejects(table.exchange('spin', req('/spin'), { ...limits, timeoutMs: 200 }), { code: 'NV_GUEST_TIMEOUT' });
  assert.equal((await spinEnd).reason, 'timeout');
  await table.start(prepared, undefined, 'exit', { args: ['srv'], readyTimeoutMs: 5000 });
  const exitEnd = table.ended('exit');
  await assert.rejects(table.exchange('exit', req('/crash'), limits), { code: 'NV_INSTANCE_UNAVAILABLE' });
  const end = await exitEnd;
  assert.deepEqual([end.reason, end.exitCode], ['exit', 3]);
  assert.equal(table.size, 0);
  await assert.rejects(table.exchange('exit', req('/count'), limits), { code: 'NV_INSTANCE_UNAVAILABLE' });
});

test('a server not waiting in sock_accept within readyTimeoutMs is stopped and start rejects', async () => {
  const s = new ServerVm(serverModule(prepared), { args: ['srv', '5000'], readyTimeoutMs: 100 });
  await assert.rejects(s.start(), { code: 'NV_GUEST_TIMEOUT', message: /not ready within 100 ms/ });
  assert.equal((await s.ended).reason, 'timeout');
});

test('a response larger than the limit is refused; the server serves on', async () => {
  const s = vm();
  await s.start();
  await assert.rejects(s.exchange(req('/count'), { ...limits, maxResponseBytes: 10 }), { code: 'NV_GUEST_OUTPUT_LIMIT' });
  assert.equal(body(await s.exchange(req('/peek'), limits)), 'count=1 served=2 last=/peek\n');
  s.stop();
});

test('an image not built as a server is refused by name', () => {
  const plain = extractSnapshot(new Uint8Array(readFileSync(new URL('../../../build/guests/c/http_server.wasm', import.meta.url))));
  assert.throws(() => serverModule(prepareSnapshot(plain.module, plain.snapshot)), { code: 'NV_MODULE_INVALID', message: /not built as a wasi server/ });
});
