// What `serve` refuses at start instead of carrying on: a state database that exists but is
// empty (it used to be taken as a fresh start, dropping every app and pin).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
