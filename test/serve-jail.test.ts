// `nanovisor serve` runs its guests on jailed shards: the daemon logs the jail's layers at
// start, and seen from the host, the shard has namespaces other than the daemon's, NoNewPrivs,
// the filter, and a filesystem in which the daemon's data directory (its API token, its
// database, its images) does not exist. Skipped where no sandbox can start.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDaemon, type Daemon } from '../src/cli/commands/serve.ts';
import { ShardedHost } from '../src/host/index.ts';
import { jailedPid, probeJail } from '../src/host/shards/jail.ts';
import { tempDir } from '../src/image/testing.ts';

const probe = await probeJail();
const skip = probe.sandbox ? false : `no sandbox on this machine: ${probe.why['net-ns'] ?? ''}`;
const data = tempDir('nv-serve-jail-');
const logs: Array<{ level: string; msg: string; fields: Record<string, unknown> | undefined }> = [];
let d: Daemon | undefined;

before(async () => {
  if (skip !== false) return;
  d = await startDaemon({
    dataDir: data.path, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false, graceMs: 1000, shards: 1,
    log: (level, msg, fields) => logs.push({ level, msg, fields }),
  });
});

after(async () => {
  await d?.close();
  data[Symbol.dispose]();
});

test('serve logs the jail at start, and its shard cannot see the data directory', { skip }, async () => {
  const line = logs.find((l) => l.msg.startsWith('host shards jailed'));
  assert.ok(line !== undefined, `a jail line among ${logs.map((l) => l.msg).join(' | ')}`);
  const on = line.fields?.['on'] as string[];
  for (const l of ['mount-ns', 'pid-ns', 'net-ns', 'no-new-privs', 'filesystem']) assert.ok(on.includes(l), `${l} on: ${JSON.stringify(line.fields)}`);
  for (const off of line.fields?.['off'] as Array<{ layer: string; why: string }>) assert.ok(off.why.length > 0, off.layer);

  assert.ok(d!.host instanceof ShardedHost);
  const pid = jailedPid(d!.host.supervisor.shards[0]!.pid!);
  for (const ns of ['mnt', 'pid', 'net', 'ipc', 'uts']) {
    assert.notEqual(readlinkSync(`/proc/${pid}/ns/${ns}`), readlinkSync(`/proc/self/ns/${ns}`), `${ns} namespace differs from the daemon's`);
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  assert.match(status, /^NoNewPrivs:\s+1$/m);
  assert.match(status, /^Seccomp:\s+2$/m);
  // The shard's own view of the filesystem, through /proc/PID/root.
  assert.ok(existsSync(d!.tokenFile), 'the token exists on the host');
  assert.ok(!existsSync(`/proc/${pid}/root${d!.tokenFile}`), 'the shard has no token file');
  // Of the data directory the shard sees at most the volumes it serves (bound read-write at
  // their own paths, docs/volumes.md): never the database, the token or the image store.
  const dataInJail = `/proc/${pid}/root${data.path}`;
  if (existsSync(dataInJail)) assert.deepEqual(readdirSync(dataInJail).filter((n) => n !== 'volumes'), [], 'nor the rest of the data directory');
  const code = fileURLToPath(new URL('../src/host/shards/worker.ts', import.meta.url));
  assert.ok(existsSync(`/proc/${pid}/root${code}`), 'but it has its code');
});
