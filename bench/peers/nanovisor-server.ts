/**
 * nanovisor under benchmark: the gateway (src/gateway) serving the CGI echo app with a
 * fresh Nano-VM per request, on the listening socket inherited as fd 3.
 *
 * Usage: node bench/peers/nanovisor-server.ts ECHO.wasm
 * With an IPC channel (cold-start trials), a message `{ register: n }` registers a new app
 * `cold-n` on `/cold-n` from the same code with a distinct custom section, so its bytes are
 * new to the engine (no compiled-code cache hit), and replies `{ registered: n }`.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createGateway, type GatewayApp } from '../../src/gateway/index.ts';
import { InProcessHost, enableEagerCompilation, type RunResult, type VmHost } from '../../src/host/index.ts';

// As `nanovisor serve` does: compile at registration, not on an app's first request.
enableEagerCompilation();

const wasm = readFileSync(process.argv[2]!);
// NV_BENCH_TIMEOUT=none serves without a per-request time limit (to show what the limit costs).
const timeoutMs = process.env['NV_BENCH_TIMEOUT'] === 'none' ? Infinity : 10_000;
const inProcess = new InProcessHost();
const apps: GatewayApp[] = [{ name: 'echo', routes: [{ path: '/echo' }], handle: await inProcess.load({ module: wasm }), options: { timeoutMs } }];
// Time the gateway spends on a request outside the VM (from the handler's start until the
// response is queued): what the gateway adds over the raw boot path. Reported on request.
const outsideVmUs: number[] = [];
// NV_BENCH_RUNNER=stub answers every request with the echo's output without booting a VM:
// the ceiling of the gateway's HTTP + CGI work on one core.
const stubOutput = new TextEncoder().encode('Content-Type: text/plain\n\nPOST /hello?name=world\nThe quick brown fox jumps over the lazy dog.\n');
const stubResult: RunResult = { outcome: 'exit', exitCode: 0, stdout: stubOutput, stderr: new Uint8Array(), durationMs: 0 };
const stub: VmHost = { load: (i) => inProcess.load(i), run: async () => stubResult, unload: async () => {}, stats: () => inProcess.stats(), close: async () => {} };
const gateway = createGateway({
  apps,
  host: process.env['NV_BENCH_RUNNER'] === 'stub' ? stub : inProcess,
  onRequest: (r) => {
    if (r.vmMs !== undefined && outsideVmUs.length < 1_000_000) outsideVmUs.push((r.durationMs - r.vmMs) * 1000);
  },
});
const server = createServer(gateway.handle);
server.keepAliveTimeout = 60_000;
server.listen({ fd: 3 });

/** `bytes` plus a custom section named `name`: same code, different wire bytes. */
function withCustomSection(bytes: Uint8Array, name: string): Uint8Array {
  const n = new TextEncoder().encode(name);
  const payload = [n.length, ...n];
  const out = new Uint8Array(bytes.length + 2 + payload.length);
  out.set(bytes);
  out.set([0, payload.length, ...payload], bytes.length);
  return out;
}

process.on('message', (m: { register?: number; stats?: boolean }) => {
  if (m.stats === true) {
    process.send!({ outsideVmUs: outsideVmUs.splice(0) });
    return;
  }
  if (typeof m.register !== 'number') return;
  const name = `cold-${m.register}`;
  void inProcess.load({ module: withCustomSection(wasm, `nv-bench-${m.register}-${process.pid}`) }).then((handle) => {
    apps.push({ name, routes: [{ path: `/${name}` }], handle, options: { timeoutMs } });
    gateway.setApps(apps);
    process.send!({ registered: m.register });
  });
});

// A clean exit on SIGINT lets `--cpu-prof` write its profile when profiling this server.
process.on('SIGINT', () => process.exit(0));
