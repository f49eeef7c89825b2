/**
 * One suite, both VmHost implementations (in process and sharded): what the gateway and the
 * daemon rely on — load, run, guests that wait overlap, time limits, bad images refused,
 * unload, stats.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { guestWasm, loadWasm } from '../../test/helpers.ts';
import { InProcessHost } from './in-process-host.ts';
import { ShardedHost } from './shards/index.ts';
import type { VmHost } from './vm-host.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const HELLO = () => loadWasm(guestWasm('c', 'hello'));
const WAIT = () => loadWasm(guestWasm('c', 'cgi_wait'));

/** Start and end (ns, realtime) a cgi_wait guest reports. */
function span(stdout: Uint8Array): [number, number] {
  const body = text(stdout).split('\r\n\r\n')[1]!.trim().split(' ');
  return [Number(body[0]), Number(body[1])];
}

const implementations: Array<[string, () => Promise<VmHost>]> = [
  ['InProcessHost', async () => new InProcessHost()],
  ['ShardedHost', () => ShardedHost.start({ shards: 2 })],
];

for (const [name, make] of implementations) {
  describe(`VmHost: ${name}`, () => {
    let host: VmHost;
    before(async () => { host = await make(); });
    after(() => host.close());

    test('load an image, run it: output, exit code, a fresh VM each run', async () => {
      const h = await host.load({ module: HELLO() });
      const [a, b] = await Promise.all([host.run(h, { args: ['hello'] }), host.run(h, { args: ['hello'] })]);
      for (const r of [a, b]) {
        assert.equal(r.outcome, 'exit');
        assert.equal(r.exitCode, 0);
        assert.equal(text(r.stdout), 'hello from C\n');
      }
      await host.unload(h);
    });

    test('loading the same image twice gives the same key; unloading both references frees it', async () => {
      const a = await host.load({ module: HELLO(), memoryLimitBytes: 8 << 20 });
      const b = await host.load({ module: HELLO(), memoryLimitBytes: 8 << 20 });
      assert.equal(a.key, b.key);
      await host.unload(a);
      assert.equal((await host.run(b)).exitCode, 0, 'one reference left: still runs');
      await host.unload(b);
      await assert.rejects(host.run(b), { code: 'NV_HOST_FAULT' });
    });

    test('guests that sleep overlap: 8 runs of a 300 ms sleep all wait at the same time', async () => {
      const h = await host.load({ module: WAIT() });
      const results = await Promise.all(Array.from({ length: 8 }, () => host.run(h, { args: ['w', 'sleep=300'], timeoutMs: 10_000 })));
      const spans = results.map((r) => {
        assert.equal(r.outcome, 'exit', text(r.stderr));
        return span(r.stdout);
      });
      const lastStart = Math.max(...spans.map((s) => s[0]));
      const firstEnd = Math.min(...spans.map((s) => s[1]));
      assert.ok(lastStart < firstEnd, 'every guest started before any finished its sleep');
      await host.unload(h);
    });

    test('a spinning guest is stopped at its time limit; the host keeps serving', async () => {
      const h = await host.load({ module: WAIT() });
      const r = await host.run(h, { args: ['w', 'spin=1'], timeoutMs: 100 });
      assert.equal(r.outcome, 'timeout');
      assert.equal(r.exitCode, 124);
      assert.equal(r.error?.code, 'NV_GUEST_TIMEOUT');
      const ok = await host.run(h, { args: ['w', 'sleep=1'] });
      assert.equal(ok.outcome, 'exit');
      await host.unload(h);
    });

    test('several spinning guests at once: each ends as a timeout, none as a trap', async () => {
      const h = await host.load({ module: WAIT() });
      const results = await Promise.all(Array.from({ length: 4 }, () => host.run(h, { args: ['w', 'spin=1'], timeoutMs: 150 })));
      for (const r of results) {
        assert.equal(r.outcome, 'timeout', r.error?.message);
        assert.equal(r.error?.code, 'NV_GUEST_TIMEOUT');
      }
      await host.unload(h);
    });

    test('a quick guest completes while spinning guests (one per shard) run to their limit', async () => {
      const h = await host.load({ module: WAIT() });
      let spinning = 2;
      const spinners = Array.from({ length: 2 }, () => host.run(h, { args: ['w', 'spin=1'], timeoutMs: 2000 }).finally(() => { spinning--; }));
      const quick = await host.run(h, { args: ['w', 'sleep=1'], timeoutMs: 2000 });
      assert.equal(quick.outcome, 'exit');
      assert.equal(spinning, 2, 'both spinners were still running when the quick guest finished');
      for (const r of await Promise.all(spinners)) assert.equal(r.outcome, 'timeout');
      await host.unload(h);
    });

    test('env, stdin and image files reach the guest', async () => {
      const h = await host.load({
        module: loadWasm(guestWasm('rust', 'stdin_upper')),
        files: [{ path: '/etc/motd', kind: 'file', mode: 0o644, data: new TextEncoder().encode('hi') }],
      });
      const r = await host.run(h, { args: ['up'], stdin: 'abc\n' });
      assert.equal(r.outcome, 'exit', text(r.stderr));
      assert.match(text(r.stdout), /ABC/);
      await host.unload(h);
    });

    test('a malformed module is refused at load with its error code', async () => {
      await assert.rejects(host.load({ module: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff]) }), { code: 'NV_MODULE_MALFORMED' });
    });

    test('stats count loaded images, finished runs and live VMs', async () => {
      const h = await host.load({ module: WAIT() });
      const before = await host.stats();
      const running = host.run(h, { args: ['w', 'sleep=200'] });
      await new Promise((r) => setTimeout(r, 50));
      const during = await host.stats();
      assert.ok(during.liveVms >= 1, `live VMs during a run: ${during.liveVms}`);
      await running;
      const after = await host.stats();
      assert.ok(after.runs >= before.runs + 1);
      assert.ok(after.loaded >= 1);
      assert.ok(after.processes >= 1);
      await host.unload(h);
    });
  });
}
