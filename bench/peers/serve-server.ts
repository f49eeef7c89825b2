/**
 * The whole daemon under benchmark: `nanovisor serve` (control plane on SQLite, request log,
 * metrics, JSON logs) with the CGI echo deployed as an app through its control plane, its
 * gateway's handler served on the listening socket inherited as fd 3 (as the other peers).
 *
 * Usage: node bench/peers/serve-server.ts ECHO.wasm
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../../src/cli/commands/serve.ts';
import { ImageStore, buildImage } from '../../src/image/index.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'nv-bench-serve-'));
const appDir = join(dataDir, 'app');
const store = ImageStore.openHome(dataDir);
mkdirSync(appDir);
copyFileSync(process.argv[2]!, join(appDir, 'echo.wasm'));
writeFileSync(join(appDir, 'nanovisor.json'), JSON.stringify({ name: 'echo', module: 'echo.wasm', limits: { timeoutMs: 10_000 } }));
const { tag } = buildImage({ dir: appDir, store });
const daemon = await startDaemon({ dataDir, api: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 }, examples: false });
daemon.control.execute({ kind: 'CreateApp', input: { name: 'echo', routes: [{ path: '/echo' }] } });
daemon.control.execute({ kind: 'DeployVersion', app: 'echo', image: tag });
const server = createServer(daemon.gateway.handle);
server.keepAliveTimeout = 60_000;
server.listen({ fd: 3 });

const stop = async () => {
  server.close();
  await daemon.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
