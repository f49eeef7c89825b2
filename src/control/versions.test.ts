// A version is an image and its config: each version records the routes, env, secrets (by
// reference), limits, concurrency and volumes it serves with; a rollback restores them (an
// app rolled back to 1 answered with version 3's env); a PATCH of a deployed app is a new
// version; `versions` says what changed; schema 4 fills in the config of older versions.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { wat } from '../../test/support/wat.ts';
import type { AppSpec } from '../gateway/index.ts';
import { ImageStore } from '../image/index.ts';
import { writeTar, type TarEntry } from '../image/tar.ts';
import { tempDir } from '../image/testing.ts';
import { ControlPlane } from './control.ts';
import { MIGRATIONS, StateDb } from './db.ts';

const enc = new TextEncoder();

function appTar(version: string): Uint8Array {
  const module = wat(`(module (memory (export "memory") 1) (data (i32.const 0) "${version}") (func (export "_start")))`);
  const entries: TarEntry[] = [
    { path: 'nanovisor.json', kind: 'file', mode: 0o644, data: enc.encode(JSON.stringify({ name: 'hello', version, module: 'm.wasm' })) },
    { path: 'm.wasm', kind: 'file', mode: 0o644, data: module },
  ];
  return writeTar(entries);
}

function open(dir: string): { control: ControlPlane; served: () => AppSpec | undefined; db: StateDb } {
  const db = StateDb.open(join(dir, 'nanovisor.db'));
  const store = ImageStore.open(join(dir, 'images'));
  let specs: AppSpec[] = [];
  const control = ControlPlane.open({ db, store, tokenFile: join(dir, 'token'), tmpDir: join(dir, 'tmp'), version: '0', onAppsChanged: (s) => { specs = s; } });
  return { control, db, served: () => specs.find((s) => s.name === 'hello') };
}

test('rollback restores the env, secrets, limits, concurrency and routes a version was deployed with; versions shows what changed', () => {
  using dir = tempDir('nv-versions-');
  const { control, served, db } = open(dir.path);
  try {
    for (const v of ['1', '2', '3']) control.execute({ kind: 'BuildImage', tar: appTar(v), tag: `hello:${v}` });
    control.execute({ kind: 'CreateApp', input: { name: 'hello', routes: [{ path: '/h' }], env: { MSG: 'v1-from-env' }, secrets: { KEY: 'k1-secret' }, limits: { timeoutMs: 1000 } } });
    assert.equal(control.execute({ kind: 'DeployVersion', app: 'hello', image: 'hello:1' }).version, 1);
    // Before the next deploy the app's config changes: a PATCH of a deployed app is version 2 (same image).
    const patched = control.execute({ kind: 'UpdateApp', name: 'hello', input: { env: { MSG: 'v2-from-env' }, secrets: { KEY: 'k2-secret' }, limits: { concurrency: 3, timeoutMs: null }, routes: [{ path: '/h' }, { path: '/h2', methods: ['GET'] }] } });
    assert.equal(patched.currentVersion, 2);
    assert.equal(control.execute({ kind: 'UpdateApp', name: 'hello', input: { env: { MSG: 'v2-from-env' } } }).currentVersion, 2, 'a PATCH that changes nothing is no new version');
    control.execute({ kind: 'UpdateApp', name: 'hello', input: { env: { MSG: 'v3-from-env' } } });
    assert.equal(control.execute({ kind: 'DeployVersion', app: 'hello', image: 'hello:3' }).version, 4);
    assert.equal(served()?.options.env?.['MSG'], 'v3-from-env');

    // Back to 1: its image and its config.
    const rb = control.execute({ kind: 'Rollback', app: 'hello', version: 1 });
    assert.equal(rb.version, 1);
    const spec = served()!;
    assert.equal(spec.version, 1);
    assert.equal(spec.options.env?.['MSG'], 'v1-from-env');
    assert.equal(spec.options.env?.['KEY'], 'k1-secret');
    assert.equal(spec.options.timeoutMs, 1000);
    assert.deepEqual(spec.routes, [{ path: '/h' }]);
    assert.deepEqual(control.secretValues('hello'), ['k1-secret'], 'request logs redact the secret in force');
    const app = control.execute({ kind: 'GetApp', name: 'hello' });
    assert.deepEqual([app.env, app.secrets, app.limits.timeoutMs, app.limits.concurrency], [{ MSG: 'v1-from-env' }, ['KEY'], 1000, 64]);
    // Forward again to 2: its secret value comes back from its revision.
    control.execute({ kind: 'Rollback', app: 'hello', version: 2 });
    assert.equal(served()!.options.env?.['KEY'], 'k2-secret');
    assert.equal(served()!.concurrency, 3);
    assert.deepEqual(served()!.routes.map((r) => r.path), ['/h', '/h2']);

    const versions = control.execute({ kind: 'ListVersions', app: 'hello' });
    assert.deepEqual(versions.map((v) => v.version), [4, 3, 2, 1]);
    const by = Object.fromEntries(versions.map((v) => [v.version, v]));
    assert.deepEqual(by[1]!.changes, []);
    assert.deepEqual(by[2]!.changes, [
      'routes: /h -> /h, /h2 [GET]',
      'env.MSG: "v1-from-env" -> "v2-from-env"',
      'secrets.KEY: changed',
      'limits.concurrency: default -> 3',
      'limits.timeoutMs: 1000 -> default',
    ]);
    assert.deepEqual(by[3]!.changes, ['env.MSG: "v2-from-env" -> "v3-from-env"']);
    assert.equal(by[4]!.changes.length, 1);
    assert.match(by[4]!.changes[0]!, /^image: [0-9a-f]{12} -> [0-9a-f]{12}$/);
    assert.deepEqual(by[1]!.config, { routes: [{ path: '/h' }], env: { MSG: 'v1-from-env' }, secrets: ['KEY'], limits: { timeoutMs: 1000 }, volumes: [], outbound: null });
    assert.equal(by[2]!.current, true);
    const text = JSON.stringify(versions);
    assert.ok(!text.includes('k1-secret') && !text.includes('k2-secret'), 'secret values are never shown');
    assert.ok(!db.all('SELECT config FROM versions').some((r) => String(r['config']).includes('-secret')), 'a version refers to its secrets, it does not copy them');
  } finally {
    db.close();
  }
});

test('a secret value no version refers to is deleted; deleting the app deletes them all', () => {
  using dir = tempDir('nv-versions-');
  const { control, db } = open(dir.path);
  try {
    control.execute({ kind: 'BuildImage', tar: appTar('1'), tag: 'hello:1' });
    control.execute({ kind: 'CreateApp', input: { name: 'hello', routes: [{ path: '/h' }], secrets: { KEY: 'a' } } });
    control.execute({ kind: 'UpdateApp', name: 'hello', input: { secrets: { KEY: 'never-deployed' } } });
    control.execute({ kind: 'UpdateApp', name: 'hello', input: { secrets: { KEY: 'first' } } });
    control.execute({ kind: 'DeployVersion', app: 'hello', image: 'hello:1' });
    control.execute({ kind: 'UpdateApp', name: 'hello', input: { secrets: { KEY: 'second' } } });
    const values = () => db.all('SELECT value FROM secret_revisions ORDER BY id').map((r) => r['value']);
    assert.deepEqual(values(), ['first', 'second']);
    control.execute({ kind: 'DeleteApp', name: 'hello' });
    assert.deepEqual(values(), []);
  } finally {
    db.close();
  }
});

test('schema 4 gives the versions of an older database their app\'s config, losing nothing', () => {
  using dir = tempDir('nv-versions-');
  const path = join(dir.path, 'nanovisor.db');
  // A database as schema 3 left it: an app with env, a secret, limits and two versions.
  const raw = new DatabaseSync(path);
  raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT');
  for (const m of MIGRATIONS.slice(0, 3)) raw.exec(m);
  raw.exec('INSERT INTO schema_version VALUES (3)');
  raw.exec(`INSERT INTO apps (name, routes, env, limits, concurrency, current_version, created, updated, volumes)
    VALUES ('old', '[{"path":"/old"}]', '{"A":"1"}', '{"timeoutMs":500}', 7, 2, 't', 't', '[]')`);
  raw.exec("INSERT INTO secrets VALUES ('old', 'S', 'shh')");
  raw.exec(`INSERT INTO versions (app, number, digest, created, manifest) VALUES
    ('old', 1, 'sha256:${'a'.repeat(64)}', 't1', '{"name":"old"}'), ('old', 2, 'sha256:${'b'.repeat(64)}', 't2', '{"name":"old","version":"2"}')`);
  raw.close();
  const db = StateDb.open(path);
  try {
    assert.equal(db.schemaVersion, MIGRATIONS.length);
    assert.equal(db.all('SELECT * FROM versions').length, 2);
    assert.deepEqual(db.get('SELECT value FROM secrets')?.['value'], 'shh');
    const config = JSON.parse(db.get("SELECT config FROM versions WHERE number = 1")!['config'] as string);
    const id = db.get("SELECT id FROM secret_revisions WHERE app = 'old' AND name = 'S' AND value = 'shh'")!['id'];
    assert.deepEqual(config, { routes: [{ path: '/old' }], env: { A: '1' }, limits: { timeoutMs: 500 }, concurrency: 7, volumes: [], secrets: { S: id }, recorded: 'migration' });
  } finally {
    db.close();
  }
});
