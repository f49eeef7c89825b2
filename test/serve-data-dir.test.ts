// A data directory serve cannot create or write is the user's to fix: NV_SERVE_DATA_DIR_UNWRITABLE
// naming the path and why, not NV_HOST_FAULT "report it" (mkdir's EACCES) or a lock file's
// error. Permissions do not bind root, so as root the daemon runs as uid 65534 (nobody).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { prepareDataDir } from '../src/control/index.ts';
import { isNanovisorError } from '../src/shared/errors.ts';
import { root } from './helpers.ts';

const scratch = mkdtempSync(join(tmpdir(), 'nv-data-dir-'));
chmodSync(scratch, 0o755);
after(() => {
  for (const d of readdirSync(scratch)) chmodSync(join(scratch, d), 0o700);
  rmSync(scratch, { recursive: true, force: true });
});
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const as = asRoot ? { uid: NOBODY, gid: NOBODY } : {};

function serve(data: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'nanovisor.js'), 'serve', '--data', data, '--api', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--no-examples'], {
    encoding: 'utf8', timeout: 60_000, ...as, env: { ...process.env, HOME: scratch },
  });
  return { status: r.status, stderr: r.stderr };
}

/** Whether the daemon's user can run the CLI at all here (as root: can nobody read the checkout?). */
const runnable = !asRoot || spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(join(root, 'src', 'cli', 'main.ts'))})`], { ...as }).status === 0;

test('a data directory under a parent this user cannot write: NV_SERVE_DATA_DIR_UNWRITABLE naming both', { skip: runnable ? false : 'uid 65534 cannot read this checkout' }, () => {
  const parent = join(scratch, 'parent');
  mkdirSync(parent);
  chmodSync(parent, 0o555);
  const r = serve(join(parent, 'data'));
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /NV_SERVE_DATA_DIR_UNWRITABLE/);
  assert.ok(r.stderr.includes(`cannot create the data directory ${join(parent, 'data')}: its parent ${parent} cannot be written`), r.stderr);
  assert.match(r.stderr, /EACCES/);
  assert.doesNotMatch(r.stderr, /NV_HOST_FAULT|report it/);
});

test('an empty data directory that is read-only for this user says read-only, not ENOENT or a lock file', { skip: runnable ? false : 'uid 65534 cannot read this checkout' }, () => {
  const ro = join(scratch, 'ro');
  mkdirSync(ro);
  if (asRoot) chownSync(ro, NOBODY, NOBODY);
  chmodSync(ro, 0o500);
  const r = serve(ro);
  assert.equal(r.status, 1, r.stderr);
  assert.ok(r.stderr.includes(`NV_SERVE_DATA_DIR_UNWRITABLE: the data directory ${ro} is read-only`), r.stderr);
  assert.doesNotMatch(r.stderr, /ENOENT|serve\.lock|NV_HOST_FAULT/);
  assert.deepEqual(readdirSync(ro), [], 'nothing written');
});

test('a data directory whose parent is a file: NV_SERVE_DATA_DIR_UNWRITABLE saying it is not a directory', () => {
  const file = join(scratch, 'file');
  writeFileSync(file, '');
  assert.throws(() => prepareDataDir(join(file, 'data')), (e: unknown) => {
    assert.ok(isNanovisorError(e, 'NV_SERVE_DATA_DIR_UNWRITABLE'), String(e));
    assert.match((e as Error).message, /file is not a directory/);
    return true;
  });
  assert.throws(() => prepareDataDir(file), (e: unknown) => isNanovisorError(e, 'NV_SERVE_DATA_DIR_UNWRITABLE') && /^the data directory \S+ is not a directory$/.test((e as Error).message));
});
