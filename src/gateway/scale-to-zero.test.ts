// ScaleToZero's own rules, over a real TCP server standing for an instance whose sleep
// closes its listener and whose wake opens it again (the linux driver's checkpoint and
// restore are tested end to end in test/linux-wake.test.ts): it sleeps only once idle, a
// connection while asleep wakes it and waits, a wake past its timeout or failing gets
// NV_INSTANCE_UNAVAILABLE and the next connection tries again.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { ScaleToZero, type SleepableInstance } from './scale-to-zero.ts';

/** A TCP echo "instance"; `wakeGate` holds wakes until released, `failWakes` makes them fail. */
function instance(): SleepableInstance & { listening: () => boolean; wakeGate: Promise<void> | undefined; failWakes: number; wakesAsked: number } {
  let server: Server | undefined;
  let port = 0;
  const listen = (): Promise<void> => new Promise((resolve) => {
    server = createServer((s) => s.pipe(s));
    server.listen(port, '127.0.0.1', () => {
      port = (server!.address() as { port: number }).port;
      resolve();
    });
  });
  const self = {
    wakeGate: undefined as Promise<void> | undefined,
    failWakes: 0,
    wakesAsked: 0,
    listening: () => server !== undefined,
    connect: () => new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    }),
    sleep: async () => {
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    },
    wake: async () => {
      self.wakesAsked++;
      await self.wakeGate;
      if (self.failWakes > 0) {
        self.failWakes--;
        throw new Error('restore failed');
      }
      await listen();
    },
    stop: async () => {
      if (server !== undefined) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
  return Object.assign(self, { ready: listen() });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

async function echo(z: ScaleToZero, text: string): Promise<string> {
  const s = await z.connect();
  s.end(text);
  let got = '';
  for await (const d of s) got += String(d);
  return got;
}

test('sleeps only when no connection is open for the idle timeout; a connection wakes it', async () => {
  const inst = instance();
  await (inst as unknown as { ready: Promise<void> }).ready;
  const z = new ScaleToZero(inst, { idleTimeoutMs: 30 });
  const held = await z.connect();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(z.view.state, 'awake', 'an open connection keeps it awake');
  held.destroy();
  await until(() => z.view.state === 'asleep');
  assert.equal(inst.listening(), false);
  assert.equal(z.view.sleeps, 1);
  const answers = await Promise.all(['a', 'b', 'c'].map((t) => echo(z, t)));
  assert.deepEqual(answers, ['a', 'b', 'c']);
  assert.equal(inst.wakesAsked, 1, 'one wake for the three waiting connections');
  assert.equal(z.view.wakes, 1);
  assert.equal(typeof z.view.lastWakeMs, 'number');
  await z.stop();
});

test('without an idle timeout it stays awake', async () => {
  const inst = instance();
  await (inst as unknown as { ready: Promise<void> }).ready;
  const z = new ScaleToZero(inst, {});
  assert.equal(await echo(z, 'x'), 'x');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(z.view.state, 'awake');
  assert.ok(z.view.lastRequest !== null);
  await z.stop();
});

test('a wake past its timeout, or failing, is NV_INSTANCE_UNAVAILABLE; the next connection wakes it again', async () => {
  const inst = instance();
  await (inst as unknown as { ready: Promise<void> }).ready;
  const events: string[] = [];
  const z = new ScaleToZero(inst, { idleTimeoutMs: 10, wakeTimeoutMs: 50, onEvent: (e) => events.push(`${e.event}${e.error === undefined ? '' : ' failed'}`) });
  await until(() => z.view.state === 'asleep');
  let release!: () => void;
  inst.wakeGate = new Promise((r) => (release = r));
  await assert.rejects(z.connect(), (e: { code?: string; message: string }) => e.code === 'NV_INSTANCE_UNAVAILABLE' && /did not wake within 50 ms/.test(e.message));
  assert.equal(z.view.state, 'waking');
  release();
  await until(() => z.view.state === 'awake');
  inst.wakeGate = undefined;
  await until(() => z.view.state === 'asleep');
  inst.failWakes = 1;
  await assert.rejects(z.connect(), (e: { code?: string; message: string }) => e.code === 'NV_INSTANCE_UNAVAILABLE' && /could not be woken: restore failed/.test(e.message));
  assert.equal(z.view.state, 'asleep');
  assert.equal(await echo(z, 'again'), 'again');
  assert.deepEqual(events, ['sleep', 'wake', 'sleep', 'wake failed', 'wake']);
  await z.stop();
});
