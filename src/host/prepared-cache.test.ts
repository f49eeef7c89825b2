import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { guestWasm, loadWasm, makeScratch } from '../../test/helpers.ts';
import { NanoVm } from './vm.ts';
import { prepareModule } from './prepare.ts';
import { PreparedCache, identityOf } from './prepared-cache.ts';

const scratch = makeScratch('nv-prepared-cache-');
const hello = loadWasm(guestWasm('c', 'hello'));
const LIMIT = 64 * 1024 * 1024;

function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

function runs(prepared: ReturnType<typeof prepareModule>): string {
  const r = NanoVm.create(prepared, { args: ['hello'] }).run();
  assert.equal(r.exitCode, 0, r.error?.message);
  return new TextDecoder().decode(r.stdout);
}

test('a prepared module is stored once and read back: same snapshot, interrupt checks and output, no temporary file left', () => {
  const dir = join(scratch, 'roundtrip');
  const cache = new PreparedCache(dir);
  const first = prepareModule(hello, LIMIT, { cache });
  assert.deepEqual(entries(dir).length, 1);
  assert.ok(entries(dir)[0]!.endsWith('.nvprep'), entries(dir).join(' '));
  const second = prepareModule(hello, LIMIT, { cache });
  assert.equal(second.interruptible, first.interruptible);
  assert.equal(second.hasStart, first.hasStart);
  assert.deepEqual(second.snapshot?.segments.map((s) => s.bytes.byteLength), first.snapshot?.segments.map((s) => s.bytes.byteLength));
  assert.equal(runs(second), runs(first));
  assert.ok(second.interruptible === true, 'the C hello world is instrumented');
  assert.deepEqual(entries(dir).length, 1);
});

test('the key names the bytes, the memory limit and the snapshot option', () => {
  const dir = join(scratch, 'keys');
  const cache = new PreparedCache(dir);
  prepareModule(hello, LIMIT, { cache });
  prepareModule(hello, LIMIT * 2, { cache });
  prepareModule(hello, LIMIT, { cache, snapshot: 'off' });
  prepareModule(hello, LIMIT, { cache, identity: 'sha256:' + '0'.repeat(64) });
  assert.equal(entries(dir).length, 4);
  const k = (identity: string) => PreparedCache.key({ identity, memoryLimitBytes: LIMIT, snapshot: 'auto', interrupts: true });
  assert.equal(k(identityOf(hello)), k(identityOf(hello)));
  assert.notEqual(k(identityOf(hello)), PreparedCache.key({ identity: identityOf(hello), memoryLimitBytes: LIMIT, snapshot: 'auto', interrupts: false }));
});

test('a corrupt entry (a flipped byte, a cut file, garbage) is reported, deleted and rebuilt', () => {
  const dir = join(scratch, 'corrupt');
  const corrupt: string[] = [];
  const cache = new PreparedCache(dir, { onCorrupt: (_path, why) => corrupt.push(why) });
  prepareModule(hello, LIMIT, { cache });
  const file = join(dir, entries(dir)[0]!);
  const good = readFileSync(file);
  const damage: [string, (b: Buffer) => Buffer][] = [
    ['flipped', (b) => { const c = Buffer.from(b); c[c.length - 100]! ^= 0x40; return c; }],
    ['cut', (b) => b.subarray(0, b.length - 10)],
    ['garbage', () => Buffer.from('not an entry')],
  ];
  for (const [what, f] of damage) {
    writeFileSync(file, f(good));
    const before = corrupt.length;
    const p = prepareModule(hello, LIMIT, { cache });
    assert.equal(corrupt.length, before + 1, `${what}: reported`);
    assert.match(runs(p), /hello from C/, `${what}: still runs`);
    assert.deepEqual(readFileSync(file), good, `${what}: rebuilt whole`);
  }
  assert.match(corrupt.join('\n'), /SHA-256|length|magic/);
});

test('the directory stays under its bound: the least recently used entries go first', () => {
  const dir = join(scratch, 'bound');
  const probe = new PreparedCache(join(scratch, 'probe'));
  prepareModule(hello, LIMIT, { cache: probe });
  const size = statSync(join(probe.dir, entries(probe.dir)[0]!)).size;
  const cache = new PreparedCache(dir, { maxBytes: size * 2 + 10 });
  const ids = [1, 2, 3].map((n) => `sha256:${String(n).repeat(64)}`);
  prepareModule(hello, LIMIT, { cache, identity: ids[0]! });
  prepareModule(hello, LIMIT, { cache, identity: ids[1]! });
  // The first is used again: the second is now the least recently used.
  const old = new Date(Date.now() - 60_000);
  const keyOf = (identity: string) => join(dir, PreparedCache.key({ identity, memoryLimitBytes: LIMIT, snapshot: 'auto', interrupts: process.env['NANOVISOR_INTERRUPTS'] !== 'off' }) + '.nvprep');
  utimesSync(keyOf(ids[0]!), old, old);
  utimesSync(keyOf(ids[1]!), old, old);
  prepareModule(hello, LIMIT, { cache, identity: ids[0]! });
  prepareModule(hello, LIMIT, { cache, identity: ids[2]! });
  assert.equal(entries(dir).length, 2);
  assert.ok(existsSync(keyOf(ids[0]!)) && existsSync(keyOf(ids[2]!)) && !existsSync(keyOf(ids[1]!)));
});

test('a cache that cannot be written is skipped: the module is still prepared', () => {
  const blocker = join(scratch, 'a-file');
  writeFileSync(blocker, '');
  const cache = new PreparedCache(join(blocker, 'below'));
  assert.match(runs(prepareModule(hello, LIMIT, { cache })), /hello from C/);
});

test('the package exports the cache for embedders, and loadRunnable takes it', async () => {
  const lib = await import('../index.ts');
  assert.equal(lib.PreparedCache, PreparedCache);
  const dir = join(scratch, 'library');
  const home = join(scratch, 'library-home');
  const store = lib.ImageStore.openHome(home);
  const built = lib.buildImage({ dir: guestWasm('c', 'hello'), store });
  const image = lib.loadRunnable(store, built.tag, { cache: new PreparedCache(dir) });
  assert.match(runs(image.prepared), /hello from C/);
  assert.equal(entries(dir).length, 1);
});
