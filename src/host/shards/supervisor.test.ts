// The shard supervisor with real host processes: runs spread over two shards, a shard
// killed with SIGKILL mid-run fails only its own request and comes back, held VMs respect
// the per-shard cap, and close() leaves no child process behind. Guests are hand-assembled.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { isNanovisorError, type NanovisorError } from '../../shared/errors.ts';
import { wat } from '../../../test/support/wat.ts';
import { Supervisor, type ShardExitEvent, type ShardStartEvent } from './index.ts';

const HELLO = wat(`(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`);

/** Exits with its argument count: shows that options reach the shard. */
const ARGC = wat(`(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (call $exit (i32.load (i32.const 0)))))`);

/** Spins forever: keeps its shard busy until killed. */
const SPIN = wat(`(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))`);

const NO_ENTRY = wat(`(module (memory (export "memory") 1) (func (export "main")))`);

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Pids of this process's children (every thread's), from /proc. */
function children(): number[] {
  const tasks = readdirSync(`/proc/${process.pid}/task`);
  return tasks.flatMap((t) => readFileSync(`/proc/${process.pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

async function waitExit(pid: number): Promise<void> {
  await until(() => !alive(pid), `pid ${pid} to exit`, 5000);
}

test('runs spread over two shards; options, output and guest errors cross the process boundary', async () => {
  const sup = await Supervisor.start({ shards: 2 });
  try {
    assert.equal(sup.shards.length, 2);
    const pids = sup.shards.map((s) => s.pid!);
    assert.notEqual(pids[0], pids[1]);
    assert.ok(pids.every((p) => p !== process.pid && alive(p)));

    const hello = await sup.load(HELLO);
    assert.match(hello, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await sup.load(HELLO), hello, 'same bytes, same key');
    const results = await Promise.all(Array.from({ length: 40 }, () => sup.run(hello)));
    for (const r of results) {
      assert.equal(r.outcome, 'exit');
      assert.equal(r.exitCode, 0);
      assert.equal(text(r.stdout), 'hi\n');
    }
    const runs = sup.shards.map((s) => s.runs);
    assert.ok(runs.every((n) => n > 0), `both shards ran VMs: ${runs}`);
    assert.equal(runs[0]! + runs[1]!, 40);

    const viaJspi = await sup.run(hello, { async: true });
    assert.equal(viaJspi.outcome, 'exit');
    assert.equal(text(viaJspi.stdout), 'hi\n');

    const argc = await sup.load(ARGC);
    const r = await sup.run(argc, { args: ['a', 'b', 'c'], env: { X: '1' }, stdin: new Uint8Array([1, 2]) });
    assert.equal(r.outcome, 'exit');
    assert.equal(r.exitCode, 3);

    const noEntry = await sup.load(NO_ENTRY);
    const bad = await sup.run(noEntry);
    assert.equal(bad.outcome, 'trap');
    assert.ok(isNanovisorError(bad.error, 'NV_MODULE_NO_ENTRY'), String(bad.error?.code));

    await assert.rejects(sup.load(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8])), (e) => isNanovisorError(e, 'NV_MODULE_MALFORMED'));
    await assert.rejects(sup.run('0'.repeat(64)), (e) => isNanovisorError(e, 'NV_USAGE'));

    // Requests of one tick travel together; one that cannot be serialised fails alone.
    const unsendable = { env: { F: (() => 'x') as unknown as string } };
    const [lone, ok1, ok2] = await Promise.allSettled([sup.run(hello, unsendable), sup.run(hello), sup.run(hello)]);
    assert.ok(lone.status === 'rejected' && isNanovisorError(lone.reason, 'NV_HOST_FAULT'), String(lone.status));
    assert.ok(ok1.status === 'fulfilled' && ok2.status === 'fulfilled');

    const stats = await sup.stats();
    assert.equal(stats.modules, 3);
    for (const s of stats.shards) {
      assert.equal(s.process?.modules, 3);
      assert.ok((s.process?.rss ?? 0) > 0);
    }
  } finally {
    await sup.close();
  }
});

test('a shard killed mid-run fails only its own request, is restarted with its modules and serves again', async () => {
  const starts: ShardStartEvent[] = [];
  const exits: ShardExitEvent[] = [];
  const onStart = (m: unknown) => { starts.push(m as ShardStartEvent); };
  const onExit = (m: unknown) => { exits.push(m as ShardExitEvent); };
  subscribe('nanovisor:host:shard-start', onStart);
  subscribe('nanovisor:host:shard-exit', onExit);
  const sup = await Supervisor.start({ shards: 2 });
  try {
    assert.equal(starts.length, 2);
    const hello = await sup.load(HELLO);
    const spin = await sup.load(SPIN);
    const stuck = sup.run(spin);
    const victim = sup.shards.find((s) => s.outstanding === 1)!;
    assert.ok(victim !== undefined, 'the spinning run occupies one shard');
    const other = sup.shards.find((s) => s.shard !== victim.shard)!;

    // The other shard keeps serving while the victim spins, and while it dies and restarts.
    for (let i = 0; i < 5; i++) assert.equal(text((await sup.run(hello)).stdout), 'hi\n');
    process.kill(victim.pid!, 'SIGKILL');
    await assert.rejects(stuck, (e) => {
      assert.ok(isNanovisorError(e, 'NV_HOST_SHARD_CRASHED'), String(e));
      assert.equal((e as NanovisorError).details['shard'], victim.shard);
      return true;
    });
    const during = await Promise.all(Array.from({ length: 10 }, () => sup.run(hello)));
    assert.ok(during.every((r) => r.outcome === 'exit'));

    await until(() => sup.shards[victim.shard]!.state === 'ready', 'the killed shard to be restarted');
    const restarted = sup.shards[victim.shard]!;
    assert.equal(restarted.restarts, 1);
    assert.notEqual(restarted.pid, victim.pid);
    assert.ok(!alive(victim.pid!));
    const exit = exits.find((e) => e.pid === victim.pid)!;
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(exit.expected, false);
    assert.equal(exit.failedRequests, 1);
    assert.ok(starts.some((s) => s.shard === victim.shard && s.restarts === 1 && s.pid === restarted.pid));

    // Its module cache was re-sent: the restarted shard runs the module by its key.
    const before = restarted.runs;
    const after = await Promise.all(Array.from({ length: 20 }, () => sup.run(hello)));
    assert.ok(after.every((r) => text(r.stdout) === 'hi\n'));
    assert.ok(sup.shards[victim.shard]!.runs > before, 'the restarted shard serves again');
    assert.equal((await sup.stats()).shards[victim.shard]!.process?.modules, 2);

    // The other shard never noticed.
    const same = sup.shards[other.shard]!;
    assert.equal(same.pid, other.pid);
    assert.equal(same.restarts, 0);
  } finally {
    await sup.close();
    unsubscribe('nanovisor:host:shard-start', onStart);
    unsubscribe('nanovisor:host:shard-exit', onExit);
  }
});

test('held VMs are spread and capped per shard; a full host fails with NV_HOST_CAPACITY, never crashes', async () => {
  const sup = await Supervisor.start({ shards: 2, maxVmsPerShard: 3 });
  try {
    const hello = await sup.load(HELLO);
    assert.deepEqual(await sup.hold(hello, 4), { held: 4, perShard: [2, 2] });
    await assert.rejects(sup.hold(hello, 3), (e) => {
      assert.ok(isNanovisorError(e, 'NV_HOST_CAPACITY'), String(e));
      assert.equal((e as NanovisorError).details['free'], 2);
      return true;
    });
    assert.deepEqual(await sup.hold(hello, 2), { held: 2, perShard: [1, 1] });
    await assert.rejects(sup.hold(hello, 1), (e) => isNanovisorError(e, 'NV_HOST_CAPACITY'));
    const stats = await sup.stats();
    assert.equal(stats.heldVms, 6);
    assert.deepEqual(stats.shards.map((s) => s.process?.liveVms), [3, 3]);

    // A full host still runs VMs to completion: the cap is on held VMs.
    assert.equal((await sup.run(hello)).outcome, 'exit');

    assert.equal(await sup.release(), 6);
    assert.deepEqual(sup.shards.map((s) => s.heldVms), [0, 0]);
    assert.deepEqual(await sup.hold(hello, 6), { held: 6, perShard: [3, 3] });

    // Held VMs die with their shard; the restarted shard has room again.
    const victim = sup.shards[0]!;
    process.kill(victim.pid!, 'SIGKILL');
    await until(() => sup.shards[0]!.state === 'ready' && sup.shards[0]!.pid !== victim.pid, 'the shard to restart');
    assert.equal(sup.shards[0]!.heldVms, 0);
    assert.deepEqual(await sup.hold(hello, 3), { held: 3, perShard: [3, 0] });
  } finally {
    await sup.close();
  }
});

test('close() ends every shard process, even one stuck in a guest, and refuses new work', async () => {
  const sup = await Supervisor.start({ shards: 2 });
  const pids = sup.shards.map((s) => s.pid!);
  assert.deepEqual(children().sort(), [...pids].sort());
  const spin = await sup.load(SPIN);
  const stuck = assert.rejects(sup.run(spin), (e) => isNanovisorError(e, 'NV_HOST_CLOSED'));
  await sup.close({ graceMs: 50 });
  await stuck;
  for (const pid of pids) await waitExit(pid);
  assert.deepEqual(children(), [], 'no child process is left');
  assert.ok(sup.shards.every((s) => s.state === 'closed'));
  await assert.rejects(sup.run(spin), (e) => isNanovisorError(e, 'NV_HOST_CLOSED'));
  await sup.close();
});
