// The control plane's state: migrations, transactions that commit all or nothing, token
// adoption after a crash between the token file and the database, strict upload extraction.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { ImageStore } from '../image/index.ts';
import { writeTar } from '../image/tar.ts';
import { tempDir, writeTree } from '../image/testing.ts';
import { isNanovisorError } from '../shared/errors.ts';
import { ControlPlane } from './control.ts';
import { MIGRATIONS, StateDb } from './db.ts';
import { hashToken, writeTokenFile } from './tokens.ts';
import { extractAppTar, normaliseUploadPath } from './upload-tar.ts';

test('the database: WAL, schema version, owner-only file, created once', () => {
  using dir = tempDir('nv-db-');
  const path = join(dir.path, 'nanovisor.db');
  const db = StateDb.open(path);
  assert.equal(db.created, true);
  assert.equal(db.schemaVersion, MIGRATIONS.length);
  assert.equal(db.get('PRAGMA journal_mode')?.['journal_mode'], 'wal');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  db.close();
  const again = StateDb.open(path);
  assert.equal(again.created, false);
  again.close();
});

test('a transaction commits all of its writes or none', () => {
  const db = StateDb.open(':memory:');
  const now = new Date().toISOString();
  assert.throws(() => db.tx(() => {
    db.run("INSERT INTO apps (name, routes, env, limits, created, updated) VALUES ('a', '[]', '{}', '{}', ?, ?)", now, now);
    db.run("INSERT INTO secrets (app, name, value) VALUES ('a', 'K', 'v')");
    throw new Error('boom');
  }), /boom/);
  assert.equal(db.all('SELECT * FROM apps').length, 0);
  assert.equal(db.all('SELECT * FROM secrets').length, 0);
  db.tx(() => {
    db.run("INSERT INTO apps (name, routes, env, limits, created, updated) VALUES ('a', '[]', '{}', '{}', ?, ?)", now, now);
    db.tx(() => db.run("INSERT INTO secrets (app, name, value) VALUES ('a', 'K', 'v')"));
  });
  assert.equal(db.all('SELECT * FROM secrets').length, 1);
  // Deleting an app takes its secrets with it (foreign keys are on).
  db.run("DELETE FROM apps WHERE name = 'a'");
  assert.equal(db.all('SELECT * FROM secrets').length, 0);
  db.close();
});

test('a newer schema than this nanovisor knows is refused with NV_STATE_IO', () => {
  using dir = tempDir('nv-db-');
  const path = join(dir.path, 'n.db');
  const db = StateDb.open(path);
  db.run('UPDATE schema_version SET version = 99');
  db.close();
  assert.throws(() => StateDb.open(path), (e) => isNanovisorError(e, 'NV_STATE_IO') && /newer/.test(e.message));
});

function open(dir: string, db = StateDb.open(join(dir, 'nanovisor.db'))): { cp: ControlPlane; db: StateDb } {
  const cp = ControlPlane.open({ db, store: ImageStore.open(join(dir, 'images')), tokenFile: join(dir, 'token'), tmpDir: join(dir, 'tmp'), version: '0' });
  return { cp, db };
}

test('tokens: created on first start; a token file written before a crash is adopted at the next start', () => {
  using dir = tempDir('nv-tok-');
  const { cp, db } = open(dir.path);
  const first = readFileSync(join(dir.path, 'token'), 'utf8').trim();
  assert.ok(cp.authenticate(`Bearer ${first}`));
  assert.ok(!cp.authenticate(`Bearer ${first}x`));
  assert.ok(!cp.authenticate(first));
  assert.ok(!cp.authenticate(undefined));
  db.close();
  // A rotation that wrote the file and died before its commit.
  writeTokenFile(join(dir.path, 'token'), 'nvt_newer');
  const again = open(dir.path);
  assert.ok(again.cp.authenticate('Bearer nvt_newer'));
  assert.ok(!again.cp.authenticate(`Bearer ${first}`));
  const rows = again.db.all('SELECT sha256, rotated FROM tokens ORDER BY id');
  assert.deepEqual(rows.map((r) => [r['sha256'], r['rotated'] === null]), [[hashToken(first), false], [hashToken('nvt_newer'), true]]);
  again.db.close();
});

test('upload paths: ./ is dropped, escapes are refused by name', () => {
  assert.equal(normaliseUploadPath('./a/./b/'), 'a/b');
  assert.equal(normaliseUploadPath('./'), '');
  assert.throws(() => normaliseUploadPath('../x'), /climbs out/);
  assert.throws(() => normaliseUploadPath('a/../../x'), /climbs out/);
  assert.throws(() => normaliseUploadPath('/etc/passwd'), /absolute/);
});

test('upload extraction: GNU tar output is accepted; links and escapes are refused', () => {
  using src = tempDir('nv-up-');
  using dst = tempDir('nv-up-');
  writeTree(src.path, { 'nanovisor.json': '{}', 'dir/deep/file.txt': 'deep', [`${'long-name-'.repeat(12)}.txt`]: 'long' });
  const tar = new Uint8Array(execFileSync('tar', ['-C', src.path, '-cf', '-', '.']));
  assert.equal(extractAppTar(tar, dst.path), 3);
  assert.equal(readFileSync(join(dst.path, 'dir/deep/file.txt'), 'utf8'), 'deep');
  assert.ok(existsSync(join(dst.path, `${'long-name-'.repeat(12)}.txt`)));
  using dst2 = tempDir('nv-up-');
  const link = writeTar([{ path: 'evil', kind: 'symlink', mode: 0o777, target: 'x' }]);
  assert.throws(() => extractAppTar(link, dst2.path), (e) => isNanovisorError(e, 'NV_IMAGE_FILES_INVALID') && /symlink/.test(e.message));
  assert.throws(() => extractAppTar(new Uint8Array(100), dst2.path), /truncated/);
  assert.deepEqual(readdirSync(dst2.path), []);
});

test('an empty, garbage or unreadable database is an error at start, never a fresh start', () => {
  using dir = tempDir('nv-db-');
  const path = join(dir.path, 'nanovisor.db');
  const expectCode = (code: 'NV_STATE_DAMAGED' | 'NV_STATE_IO', pattern: RegExp) =>
    assert.throws(() => StateDb.open(path), (e) => isNanovisorError(e, code) && pattern.test(e.message) && e.message.includes(path));
  writeFileSync(path, '');
  expectCode('NV_STATE_DAMAGED', /is empty \(0 bytes\).*restore it from a backup/);
  assert.equal(statSync(path).size, 0, 'left as it was');
  writeFileSync(path, 'not a database '.repeat(100));
  expectCode('NV_STATE_DAMAGED', /not a database/);
  rmSync(path);
  mkdirSync(path);
  expectCode('NV_STATE_DAMAGED', /not a regular file/);
  rmSync(path, { recursive: true });
  writeFileSync(`${path}-wal`, 'x');
  expectCode('NV_STATE_DAMAGED', /missing while its write-ahead log/);
  rmSync(`${path}-wal`);
  // Missing: a first start, created whole (no temporary left behind), owner-only.
  const db = StateDb.open(path);
  assert.equal(db.created, true);
  db.close();
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.ok(!existsSync(`${path}.new`));
  const again = StateDb.open(path);
  assert.equal(again.created, false);
  again.close();
});

test('the control plane does not open over an empty database', () => {
  using dir = tempDir('nv-db-');
  writeFileSync(join(dir.path, 'nanovisor.db'), '');
  assert.throws(() => open(dir.path), (e) => isNanovisorError(e, 'NV_STATE_DAMAGED'));
});

test('token rotation whose commit fails keeps a token that is both on disk and in force', () => {
  using dir = tempDir('nv-tok-');
  const { cp, db } = open(dir.path);
  const tokenFile = join(dir.path, 'token');
  const before = readFileSync(tokenFile, 'utf8').trim();
  // A real failure: another connection holds the write lock, and this one does not wait.
  db.run('PRAGMA busy_timeout = 0');
  const other = new DatabaseSync(join(dir.path, 'nanovisor.db'));
  other.exec('BEGIN IMMEDIATE');
  assert.throws(() => cp.execute({ kind: 'RotateToken' }), (e) => isNanovisorError(e, 'NV_STATE_IO'));
  other.exec('ROLLBACK');
  other.close();
  const onDisk = readFileSync(tokenFile, 'utf8').trim();
  assert.equal(onDisk, before, 'the old token was written back');
  assert.ok(cp.authenticate(`Bearer ${onDisk}`), 'the token on disk is in force');
  assert.equal(db.all('SELECT sha256 FROM tokens WHERE rotated IS NULL')[0]?.['sha256'], hashToken(before));
  // The next rotation works, and file, memory and database agree.
  const { token } = cp.execute({ kind: 'RotateToken' });
  assert.equal(readFileSync(tokenFile, 'utf8').trim(), token);
  assert.ok(cp.authenticate(`Bearer ${token}`));
  assert.ok(!cp.authenticate(`Bearer ${before}`));
  assert.equal(db.all('SELECT sha256 FROM tokens WHERE rotated IS NULL')[0]?.['sha256'], hashToken(token));
  db.close();
});
