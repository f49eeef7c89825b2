// Preopened TCP sockets end to end: the CLI binds a real listener (--tcplisten), the guest
// test program net_echo_server accepts, receives, sends and shuts down over sock_* calls,
// and a real client on loopback talks to it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = `${root}bin/nanovisor.js`;
const wasm = `${root}build/guests/c/net_echo_server.wasm`;

function request(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(line));
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

test('sock_accept / sock_recv / sock_send / sock_shutdown on a preopened TCP listener', async () => {
  const child = spawn(process.execPath, [cli, 'run', '--tcplisten', '127.0.0.1:0', '--timeout', '20s', wasm, '2'], { cwd: root });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  assert.equal(await request(port, 'first\n'), 'echo: first\n');
  assert.equal(await request(port, 'second\n'), 'echo: second\n');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(stdout, 'served 2\n');
});

test('--tcplisten on an address in use is one clear error', async () => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const child = spawn(process.execPath, [cli, 'run', '--tcplisten', `127.0.0.1:${port}`, wasm], { cwd: root });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  blocker.close();
  assert.equal(code, 1);
  assert.match(stderr, /^nanovisor: error NV_NET_LISTEN: cannot listen on 127\.0\.0\.1:\d+: address in use\n/);
});
