// A component's derivation kept once (docs/components.md, "Prepared once"): `nanovisor build`
// into a home's store transpiles and instruments the JS engine and keeps the result in the
// prepared cache keyed by the module layer's digest; a later preparation (a process, a shard
// sent the entry) only compiles and answers the same; a corrupt entry is said, deleted and
// rebuilt, a corrupt shipped one ignored.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NanoVm, prepareModule, type PreparedModule } from '../src/host/index.ts';
import { InProcessHost } from '../src/host/in-process-host.ts';
import { componentKey, loadComponentTools } from '../src/host/component/index.ts';
import { PreparedCache, type DerivedStore, type EntryPayload } from '../src/host/prepared-cache.ts';
import { ImageStore, buildImageAsync } from '../src/image/index.ts';
import { tempDir, writeTree } from '../src/image/testing.ts';
import { guestWasm } from './helpers.ts';

const HTTP_ECHO = guestWasm('component', 'http_echo');
const LIMIT = 256 * 1024 * 1024;
const home = tempDir('nv-comp-prepared-');
let store: ImageStore;
let digest: string;

const ENV = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/hello', X_RAW_PATH_INFO: '/hello', QUERY_STRING: 'name=x', X_FULL_URL: 'http://h/hello?name=x', HTTP_HOST: 'h', CONTENT_LENGTH: '0', SERVER_PROTOCOL: 'HTTP/1.1' };
const ANSWER = 'hello from js GET /hello?name=x\n';

function body(p: PreparedModule): string {
  const r = NanoVm.create(p, { env: ENV }).run();
  const text = Buffer.from(r.stdout).toString('utf8');
  assert.equal(r.outcome, 'exit', Buffer.from(r.stderr).toString());
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

/** A store that counts what goes through it. */
function counting(inner: DerivedStore): DerivedStore & { gets: number; hits: number; puts: number } {
  const c = {
    gets: 0, hits: 0, puts: 0,
    getPayload(key: string): EntryPayload | undefined {
      c.gets++;
      const p = inner.getPayload(key);
      if (p !== undefined) c.hits++;
      return p;
    },
    putPayload(key: string, p: EntryPayload): void {
      c.puts++;
      inner.putPayload(key, p);
    },
  };
  return c;
}

function entryFile(cache: PreparedCache, identity: string): string {
  return join(cache.dir, componentKey(identity, LIMIT) + '.nvprep');
}

before(async () => {
  await loadComponentTools();
  store = ImageStore.openHome(home.path);
  writeTree(join(home.path, 'app'), { 'nanovisor.json': JSON.stringify({ name: 'jsecho', module: 'app.wasm', limits: { memoryBytes: LIMIT } }) });
  copyFileSync(HTTP_ECHO, join(home.path, 'app', 'app.wasm'));
  digest = (await buildImageAsync({ dir: join(home.path, 'app'), store })).digest;
});

test('nanovisor build keeps the component derivation, keyed by the module layer digest', () => {
  const loaded = store.load(digest);
  const cache = store.preparedCache!;
  assert.deepEqual(readdirSync(cache.dir).filter((n) => n.endsWith('.nvprep')), [componentKey(loaded.moduleIdentity, LIMIT) + '.nvprep']);
});

test('a cache hit only compiles (nothing derived or written) and answers the same, pooled', () => {
  const loaded = store.load(digest);
  const cache = counting(store.preparedCache!);
  const p = prepareModule(loaded.module, LIMIT, { shipped: cache, identity: loaded.moduleIdentity });
  assert.deepEqual([cache.gets, cache.hits, cache.puts], [1, 1, 0]);
  assert.ok(p.component?.pool !== undefined, 'the engine instance is pooled from the cached derivation');
  assert.equal(p.component.interruptible, true);
  assert.equal(body(p), ANSWER);
  assert.equal(body(p), ANSWER, 'a second VM from the pool');
  assert.equal(p.component.pool.stats.reused, 1);
});

test('a corrupt entry is said, deleted and rebuilt whole; the component still answers', () => {
  const loaded = store.load(digest);
  const corrupt: string[] = [];
  const cache = new PreparedCache(store.preparedCache!.dir, { onCorrupt: (_path, why) => corrupt.push(why) });
  const file = entryFile(cache, loaded.moduleIdentity);
  const good = readFileSync(file);
  const bad = Buffer.from(good);
  bad[bad.length - 1000]! ^= 0x10; // in a core module
  writeFileSync(file, bad);
  const counted = counting(cache);
  const p = prepareModule(loaded.module, LIMIT, { shipped: counted, identity: loaded.moduleIdentity });
  assert.equal(corrupt.length, 1);
  assert.match(corrupt[0]!, /SHA-256/);
  assert.deepEqual([counted.hits, counted.puts], [0, 1], 'derived afresh and stored again');
  assert.equal(body(p), ANSWER);
  assert.deepEqual(readFileSync(file), good, 'the rebuilt entry is the same derivation');
});

test('a shard sent the entry with the image only compiles; a corrupt one is ignored', async () => {
  const loaded = store.load(digest);
  const entry = store.preparedCache!.readEntry(componentKey(loaded.moduleIdentity, LIMIT))!;
  const host = new InProcessHost();
  try {
    const run = async (e: Uint8Array): Promise<string> => {
      const h = await host.load({ digest: `${digest}-${e === entry ? 'good' : 'bad'}`, module: loaded.module, memoryLimitBytes: LIMIT, prepared: { identity: loaded.moduleIdentity, entry: e } });
      const r = await host.run(h, { env: ENV });
      const text = Buffer.from(r.stdout).toString('utf8');
      return text.slice(text.indexOf('\r\n\r\n') + 4);
    };
    assert.equal(await run(entry), ANSWER);
    const bad = Buffer.from(entry);
    bad[100]! ^= 0x01;
    assert.equal(await run(bad), ANSWER, 'prepared afresh from the module');
  } finally {
    await host.close();
  }
});

after(() => home[Symbol.dispose]());
