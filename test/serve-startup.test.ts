// What `serve` refuses at start instead of carrying on: a state database that exists but is
// empty (it used to be taken as a fresh start, dropping every app and pin), and a data
// directory or token file that every user may write.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startDaemon } from '../src/cli/commands/serve.ts';
import { isNanovisorError } from '../src/shared/errors.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'nv-serve-start-'));
  dirs.push(d);
  return d;
}
const local = { host: '127.0.0.1', port: 0 };

test('an empty nanovisor.db stops the start with NV_STATE_DAMAGED; the file is left alone; the next start after moving it aside works', async () => {
  const data = dataDir();
  const first = await startDaemon({ dataDir: data, api: local, listen: local, examples: false, shards: 0 });
  await first.close();
  const db = join(data, 'nanovisor.db');
  writeFileSync(db, '');
  await assert.rejects(startDaemon({ dataDir: data, api: local, listen: local, examples: false, shards: 0 }), (e: unknown) => {
    assert.ok(isNanovisorError(e, 'NV_STATE_DAMAGED'), String(e));
    assert.match((e as Error).message, /nanovisor\.db is empty \(0 bytes\)/);
    return true;
  });
  assert.equal(statSync(db).size, 0);
  rmSync(db);
  const again = await startDaemon({ dataDir: data, api: local, listen: local, examples: false, shards: 0 });
  await again.close();
});

test('a world-writable data directory or token file is refused naming the path and the chmod; a token file readable by others is narrowed to 0600 and logged', async () => {
  const data = dataDir();
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const log = (level: string, msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, ...(fields === undefined ? {} : { fields }) });
  const first = await startDaemon({ dataDir: data, api: local, listen: local, examples: false, shards: 0 });
  await first.close();
  const unsafe = (path: string, fix: RegExp) => (e: unknown) => {
    assert.ok(isNanovisorError(e, 'NV_SERVE_UNSAFE_MODE'), String(e));
    assert.ok((e as Error).message.includes(path), (e as Error).message);
    assert.match((e as Error).message, /writable by every user \(mode 0(?:777|666)\)/);
    assert.match((e as Error).message, fix);
    return true;
  };
  chmodSync(data, 0o777);
  await assert.rejects(startDaemon({ dataDir: data, api: local, listen: local, examples: false, shards: 0 }), unsafe(data, /chmod 700 /));
  assert.equal(statSync(data).mode & 0o777, 0o777, 'refused, not changed');
  chmodSync(data, 0o700);
  const token = join(data, 'token');
  chmodSync(token, 0o666);
  await assert.rejects(startDaemon({ dataDir: data, api: local, listen: local, examples: false, shards: 0 }), unsafe(token, /chmod 600 /));
  chmodSync(token, 0o644);
  const d = await startDaemon({ dataDir: data, api: local, listen: local, examples: false, shards: 0, log });
  await d.close();
  assert.equal(statSync(token).mode & 0o777, 0o600);
  assert.ok(lines.some((l) => l.level === 'warn' && /token file was readable by others/.test(l.msg) && l.fields?.['mode'] === '0644'), JSON.stringify(lines));
});
