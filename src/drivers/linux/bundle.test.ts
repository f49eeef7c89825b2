import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundleConfig, RELAY_GUEST_PATH, SANDBOX_PIDS, SOCKET_GUEST_DIR } from './bundle.ts';

test('a sandbox spec: read-only root, bounded /tmp, no capabilities, no_new_privs, memory and process limits, only the env given', () => {
  const c = bundleConfig({ rootfs: '/r', args: ['/app', 'x'], env: { A: 'b' }, memoryBytes: 1 << 26, processes: 10, writableLayerBytes: 1 << 20 }) as any;
  assert.deepEqual(c.root, { path: '/r', readonly: true });
  assert.deepEqual(c.process.args, ['/app', 'x']);
  assert.ok(c.process.env.includes('A=b'));
  assert.equal(c.process.env.filter((e: string) => !e.startsWith('PATH=')).length, 1);
  assert.equal(c.process.noNewPrivileges, true);
  assert.deepEqual(c.process.capabilities.bounding, []);
  assert.equal(c.linux.resources.memory.limit, 1 << 26);
  assert.equal(c.linux.resources.pids.limit, 10 + SANDBOX_PIDS);
  assert.ok(c.linux.namespaces.some((n: { type: string }) => n.type === 'network'));
  const tmp = c.mounts.find((m: { destination: string }) => m.destination === '/tmp');
  assert.ok(tmp.options.includes(`size=${1 << 20}`));
  assert.equal(c.mounts.some((m: { destination: string }) => m.destination === RELAY_GUEST_PATH), false);
});

test('a server sandbox also gets the relay (read-only) and its socket directory', () => {
  const c = bundleConfig({ rootfs: '/r', args: ['/app'], env: {}, memoryBytes: 1 << 26, processes: 10, writableLayerBytes: 1 << 20, relay: '/bin/relay', socketDir: '/s' }) as any;
  assert.deepEqual(c.mounts.find((m: { destination: string }) => m.destination === RELAY_GUEST_PATH).options, ['ro', 'bind']);
  assert.equal(c.mounts.find((m: { destination: string }) => m.destination === SOCKET_GUEST_DIR).source, '/s');
});
