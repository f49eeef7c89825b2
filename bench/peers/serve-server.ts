/**
 * The whole daemon under benchmark: `nanovisor serve` (control plane on SQLite, request log,
 * metrics, JSON logs, guests on host shards) with one module deployed as the app `echo` on
 * `/echo` through its control plane, its gateway's handler served on the listening socket
 * inherited as fd 3 (as the other peers).
 *
 * Usage: node bench/peers/serve-server.ts MODULE.wasm (a preview1 module or a wasi:http component)
 * Environment: NV_BENCH_SHARDS host shards (default: one per core; 0: guests in the daemon's
 * process), NV_BENCH_TIMEOUT_MS the app's time limit (default 10 s). With an IPC channel it
 * sends `{ api: URL }` once the app is served.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../../src/cli/commands/serve.ts';
import { ImageStore, buildImageAsync } from '../../src/image/index.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'nv-bench-serve-'));
const appDir = join(dataDir, 'app');
const store = ImageStore.openHome(dataDir);
mkdirSync(appDir);
copyFileSync(process.argv[2]!, join(appDir, 'echo.wasm'));
const timeoutMs = Number(process.env['NV_BENCH_TIMEOUT_MS'] ?? 10_000);
writeFileSync(join(appDir, 'nanovisor.json'), JSON.stringify({ name: 'echo', module: 'echo.wasm', limits: { timeoutMs } }));
// Async: the module may be a WASI 0.2 component (the JS hello), which needs the component tools.
const { tag } = await buildImageAsync({ dir: appDir, store });
// The bench times a deploy of a built image from here.
process.send?.({ built: true });
const shardsEnv = process.env['NV_BENCH_SHARDS'];
const daemon = await startDaemon({
  dataDir, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false,
  ...(shardsEnv === undefined ? {} : { shards: Number(shardsEnv) }),
});
await daemon.control.perform({ kind: 'CreateApp', input: { name: 'echo', routes: [{ path: '/echo' }], limits: { concurrency: 100_000, queue: 100_000 } } });
await daemon.control.perform({ kind: 'DeployVersion', app: 'echo', image: tag });
const server = createServer(daemon.gateway.handle);
server.keepAliveTimeout = 60_000;
server.listen({ fd: 3 });
process.send?.({ api: daemon.apiUrl });

const stop = async () => {
  server.close();
  await daemon.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
