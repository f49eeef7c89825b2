// Pooled component VMs (docs/components.md, "Fast fresh VMs"): a JS guest's engine instance
// serves VM after VM, reset in between to its snapshot by copying back only the pages a VM
// dirtied. No VM may see another's bytes: a request stores a secret in a JS global, a module
// variable and a typed array (the engine's heap in guest memory); the next request, in the
// same pooled instance, finds none of it. Time limits go through the interrupt checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { NanoVm, prepareModule, type PreparedModule } from '../src/host/index.ts';
import { loadComponentTools } from '../src/host/component/index.ts';
import { guestWasm } from './helpers.ts';

let state: PreparedModule;

function request(path: string, query = ''): Record<string, string> {
  return {
    REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: path, X_RAW_PATH_INFO: path, QUERY_STRING: query,
    X_FULL_URL: `http://localhost:8080${path}${query === '' ? '' : `?${query}`}`, HTTP_HOST: 'localhost', CONTENT_LENGTH: '0', SERVER_PROTOCOL: 'HTTP/1.1',
  };
}

function get(prepared: PreparedModule, path: string, query = '', timeoutMs?: number): { outcome: string; body: string } {
  const r = NanoVm.create(prepared, { env: request(path, query), ...(timeoutMs === undefined ? {} : { timeoutMs }) }).run();
  const text = Buffer.from(r.stdout).toString('utf8');
  const at = text.indexOf('\r\n\r\n');
  return { outcome: r.outcome, body: at < 0 ? text : text.slice(at + 4) };
}

before(async () => {
  await loadComponentTools();
  state = prepareModule(readFileSync(guestWasm('component', 'http_state')));
});

test('the JS engine instance is pooled: later VMs reuse it', () => {
  const pool = state.component?.pool;
  assert.ok(pool !== undefined, 'the componentize-js guest is poolable');
  assert.equal(state.component?.interruptible, true);
  get(state, '/peek');
  const before = { ...pool.stats };
  for (let i = 0; i < 3; i++) assert.match(get(state, '/peek').body, /^count=1 /);
  assert.equal(pool.stats.created, before.created, 'no new instance for sequential VMs');
  assert.equal(pool.stats.reused, before.reused + 3);
});

test('a pooled VM never sees what the previous one stored, in JS globals or the engine heap', () => {
  assert.equal(get(state, '/put', 's=TOPSECRET-1').body, 'stored\n');
  const next = get(state, '/peek').body;
  assert.equal(next, 'count=1 global=none module=none bytes=none\n');
  assert.doesNotMatch(next, /TOPSECRET/);
  // And in the bytes: nothing of the secret is left anywhere in the reset memory.
  get(state, '/put', 's=TOPSECRET-2');
  const pool = state.component!.pool!;
  assert.equal(pool.stats.idle, 1);
  const core = pool.acquire(undefined);
  try {
    const memory = Buffer.from(core.memory.buffer);
    assert.equal(memory.indexOf('TOPSECRET'), -1, 'the secret is gone from the pooled memory');
    assert.equal(memory.indexOf(Buffer.from('TOPSECRET', 'utf16le')), -1);
  } finally {
    pool.release(core, true);
  }
});

test('a reset copies back what the request dirtied, not the whole snapshot', () => {
  get(state, '/peek');
  const pool = state.component!.pool!;
  const resetBytes = pool.stats.lastResetBytes;
  const core = pool.acquire(undefined);
  const memoryBytes = core.memory.buffer.byteLength;
  pool.release(core, true);
  assert.ok(resetBytes > 0);
  assert.ok(resetBytes < memoryBytes / 4, `reset ${resetBytes} of ${memoryBytes} bytes`);
  assert.equal(pool.stats.lastResetBytes, 0, 'an instance nothing ran in has nothing to copy back');
});

test('a JS guest that never answers is stopped by its time limit through interrupt checks, and the next VM is clean', () => {
  const r = get(state, '/spin', '', 300);
  assert.equal(r.outcome, 'timeout');
  assert.equal(get(state, '/peek').body, 'count=1 global=none module=none bytes=none\n');
});

test('with NANOVISOR_SNAPSHOT=off the component instantiates afresh and answers the same', () => {
  const saved = process.env['NANOVISOR_SNAPSHOT'];
  process.env['NANOVISOR_SNAPSHOT'] = 'off';
  try {
    const fresh = prepareModule(readFileSync(guestWasm('component', 'http_state')));
    assert.equal(fresh.component?.pool, undefined);
    get(fresh, '/put', 's=x');
    assert.equal(get(fresh, '/peek').body, 'count=1 global=none module=none bytes=none\n');
  } finally {
    if (saved === undefined) delete process.env['NANOVISOR_SNAPSHOT'];
    else process.env['NANOVISOR_SNAPSHOT'] = saved;
  }
});
