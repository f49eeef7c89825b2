// The data directory lock: refused while held, free after release, stale locks (dead pid,
// reused pid, garbage) taken over, a lock being written waited for, and — as real processes racing — exactly one
// winner, with or without a stale lock in the way.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isNanovisorError } from '../shared/errors.ts';
import { DataDirLock, LOCK_FILE, readDataDirLock } from './daemon-lock.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'nv-lock-'));
  dirs.push(d);
  return d;
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('a held lock refuses a second taker, naming pid and addresses; released, it can be taken again', () => {
  const d = dir();
  const a = DataDirLock.acquire(d);
  a.update({ api: 'http://127.0.0.1:7070', gateway: 'http://127.0.0.1:8080' });
  assert.deepEqual({ pid: readDataDirLock(d)?.pid, api: readDataDirLock(d)?.api }, { pid: process.pid, api: 'http://127.0.0.1:7070' });
  assert.throws(() => DataDirLock.acquire(d), (e: unknown) => {
    assert.ok(isNanovisorError(e, 'NV_SERVE_DATA_DIR_IN_USE'));
    assert.match(e.message, new RegExp(`pid ${process.pid}, API http://127\\.0\\.0\\.1:7070, gateway http://127\\.0\\.0\\.1:8080`));
    assert.equal(e.details['pid'], process.pid);
    return true;
  });
  a.release();
  assert.equal(existsSync(join(d, LOCK_FILE)), false);
  const b = DataDirLock.acquire(d);
  b.release();
  a.release(); // idempotent, and does not remove b's (already gone) or anyone else's lock
  assert.deepEqual(readdirSync(d), [], 'no temporary files left');
});

test('a lock still starting (no addresses yet) says so', () => {
  const d = dir();
  const a = DataDirLock.acquire(d);
  assert.throws(() => DataDirLock.acquire(d), /still starting/);
  a.release();
});

test('stale locks are taken over: dead pid, pid reused by another process, our pid from a past life, garbage', () => {
  const d = dir();
  const path = join(d, LOCK_FILE);
  const stale = [
    { pid: deadPid(), startedAt: 'x', nonce: 'n', api: 'http://127.0.0.1:1' },
    { pid: process.ppid, startTime: 1, startedAt: 'x', nonce: 'n' }, // alive, but started at another time
    { pid: process.pid, startedAt: 'x', nonce: 'n' }, // our pid, but not a lock we hold
  ];
  for (const info of stale) {
    writeFileSync(path, JSON.stringify(info));
    const lock = DataDirLock.acquire(d);
    assert.equal(readDataDirLock(d)?.pid, process.pid, JSON.stringify(info));
    lock.release();
  }
  writeFileSync(path, 'not json');
  utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  DataDirLock.acquire(d).release();
  assert.deepEqual(readdirSync(d), []);
});

test('a lock that does not parse yet (being written) is waited for, then taken over once old', () => {
  const d = dir();
  writeFileSync(join(d, LOCK_FILE), '');
  const t0 = Date.now();
  DataDirLock.acquire(d).release();
  assert.ok(Date.now() - t0 >= 1500, 'waited for the writer');
});

test('a live lock of another process is not taken over', () => {
  const d = dir();
  writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: process.ppid, startedAt: 'x', nonce: 'n' }));
  assert.throws(() => DataDirLock.acquire(d), (e: unknown) => isNanovisorError(e, 'NV_SERVE_DATA_DIR_IN_USE') && e.message.includes(`pid ${process.ppid}`));
  assert.equal(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')).pid, process.ppid, 'left as it was');
});

const moduleUrl = new URL('./daemon-lock.ts', import.meta.url).href;

/** `n` processes try to take the lock of `d` at the same instant; each prints won or its code. */
async function race(d: string, n: number): Promise<string[]> {
  const at = Date.now() + 1500;
  const script = `
    const { DataDirLock } = await import(${JSON.stringify(moduleUrl)});
    while (Date.now() < ${at}) {}
    let out;
    try { const l = DataDirLock.acquire(${JSON.stringify(d)}); out = 'won'; setTimeout(() => l.release(), 1000); }
    catch (e) { out = e.code ?? String(e); }
    process.stdout.write(out);`;
  const runs = Array.from({ length: n }, () => new Promise<string>((resolve) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.once('exit', () => resolve(out));
  }));
  return Promise.all(runs);
}

test('processes racing for a free lock: exactly one wins', async () => {
  const results = await race(dir(), 6);
  assert.equal(results.filter((r) => r === 'won').length, 1, results.join(' '));
  assert.ok(results.every((r) => r === 'won' || r === 'NV_SERVE_DATA_DIR_IN_USE'), results.join(' '));
});

test('processes racing over a stale lock: exactly one wins', async () => {
  for (let round = 0; round < 2; round++) {
    const d = dir();
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: deadPid(), startedAt: 'x', nonce: 'n' }));
    const results = await race(d, 6);
    assert.equal(results.filter((r) => r === 'won').length, 1, results.join(' '));
    assert.ok(results.every((r) => r === 'won' || r === 'NV_SERVE_DATA_DIR_IN_USE'), results.join(' '));
  }
});
