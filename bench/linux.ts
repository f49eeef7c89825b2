/**
 * The linux driver (gVisor, ptrace platform) against its peers in the same run: a CGI
 * request in a fresh sandbox (`runsc run` per request), the cold start of a server sandbox
 * until ready, and requests through an awake server instance (relay + proxy) against the
 * same static server run natively on the host, and wake from zero: an idle instance
 * checkpointed (`runsc checkpoint`), then restored (`runsc restore`) by a request, timed to
 * that request's full response, against the cold start. Needs root, runsc, gcc and
 * busybox-static.
 *
 * `node bench/linux.ts [--rounds N] [--json FILE]` (default bench/results/linux.json).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LinuxHost, probeRunsc, startServer } from '../src/drivers/linux/index.ts';
import { proxy } from '../src/gateway/proxy.ts';
import { ImageStore, buildImage } from '../src/image/index.ts';
import { formatTable, summarize, type Row } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const rounds = Number(flag('--rounds') ?? 5);
const requests = 300;
const work = mkdtempSync(join(tmpdir(), 'nv-bench-linux-'));

try {
  const status = await probeRunsc({ stateDir: join(work, 'state') });
  if (!status.available) throw new Error(`linux driver unavailable: ${status.reason}`);
  execFileSync('gcc', ['-static', '-O2', '-o', join(work, 'counter'), join(root, 'test', 'support', 'counter-server.c')]);
  const app = join(work, 'app');
  mkdirSync(join(app, 'root', 'bin'), { recursive: true });
  writeFileSync(join(app, 'root', 'bin', 'busybox'), readFileSync('/bin/busybox'));
  chmodSync(join(app, 'root', 'bin', 'busybox'), 0o755);
  writeFileSync(join(app, 'root', 'counter'), readFileSync(join(work, 'counter')));
  chmodSync(join(app, 'root', 'counter'), 0o755);
  writeFileSync(join(app, 'nanovisor.json'), JSON.stringify({ name: 'bench', driver: 'linux', rootfs: { dir: 'root' }, args: ['/bin/busybox', 'echo', 'Content-Type: text/plain\n'] }));
  const store = ImageStore.open(join(work, 'store'));
  const { digest } = buildImage({ dir: app, store });
  const img = store.load(digest);
  const host = new LinuxHost({ stateDir: join(work, 'state'), workDir: join(work, 'linux'), status });
  const handle = await host.load({ digest, module: img.module, driver: 'linux' });
  const rows: Row[] = [];

  const cgi: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const r = await host.run(handle, { args: img.manifest.args });
    if (r.exitCode !== 0) throw new Error(`cgi run failed: ${Buffer.from(r.stderr).toString()}`);
    cgi.push(performance.now() - t);
  }
  rows.push({ group: 'linux cgi', name: 'request in a fresh sandbox (runsc run, busybox echo)', unit: 'ms', summary: summarize(cgi) });

  const cold: number[] = [];
  let instance;
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const inst = await startServer(host, handle, { args: ['/counter', '9000'], env: {}, server: { port: 9000, ready: { tcp: true }, readyTimeoutMs: 30_000 } });
    cold.push(performance.now() - t);
    if (i === rounds - 1) instance = inst;
    else await inst.stop();
  }
  rows.push({ group: 'linux server', name: 'cold start: runsc run until the port accepts', unit: 'ms', summary: summarize(cold) });

  const through = async (n: number, one: () => Promise<void>): Promise<number[]> => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await one();
      samples.push(performance.now() - t);
    }
    return samples;
  };
  const inst = instance!;
  const get = () => proxy(inst, { method: 'GET', url: '/', headers: {}, body: new Uint8Array(0), requestId: 'b', remoteAddress: '127.0.0.1', timeoutMs: 5000, maxResponseBytes: 1 << 20 });
  const awake = await through(requests, async () => {
    await get();
  });

  // Not built, measured as the option it is: a frozen tier (cgroup v1 freezer: no CPU, memory
  // kept) thawed by the request, against the restore below.
  const freezer = `/sys/fs/cgroup/freezer/${inst.id}/freezer.state`;
  const thaws: number[] = [];
  if (existsSync(freezer)) {
    for (let i = 0; i < rounds; i++) {
      writeFileSync(freezer, 'FROZEN');
      while (readFileSync(freezer, 'utf8').trim() !== 'FROZEN') await new Promise((r) => setTimeout(r, 1));
      await new Promise((r) => setTimeout(r, 100));
      const t = performance.now();
      writeFileSync(freezer, 'THAWED');
      const res = await get();
      thaws.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`thawed instance answered ${res.status}`);
    }
  }

  // Scale to zero: checkpoint, then a request wakes it (restore) and is answered.
  const sleeps: number[] = [];
  const restores: number[] = [];
  const wakes: number[] = [];
  const runscStart: number[] = [];
  let imageBytes = 0;
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    await inst.sleep();
    sleeps.push(performance.now() - t);
    const dir = join(work, 'linux', 'checkpoints', inst.id);
    imageBytes = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    await new Promise((r) => setTimeout(r, 100));
    t = performance.now();
    await inst.wake();
    restores.push(performance.now() - t);
    const res = await get();
    wakes.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`woken instance answered ${res.status}`);
    // What a runsc command costs before it does anything (Go runtime start, flags, state dir).
    t = performance.now();
    execFileSync('runsc', ['--root', join(work, 'state'), 'list'], { stdio: 'ignore' });
    runscStart.push(performance.now() - t);
  }
  await inst.stop();
  const coldS = summarize(cold);
  const wakeS = summarize(wakes);
  rows.push({ group: 'linux wake', name: 'sleep: relay closes its socket + runsc checkpoint', unit: 'ms', summary: summarize(sleeps), note: `image ${(imageBytes / 1024).toFixed(0)} KiB` });
  rows.push({ group: 'linux wake', name: 'runsc restore until the relay listens again', unit: 'ms', summary: summarize(restores) });
  rows.push({ group: 'linux wake', name: 'wake from zero to the first full response', unit: 'ms', summary: wakeS, ratio: coldS.median / wakeS.median, note: `vs cold start ${coldS.median.toFixed(0)} ms` });
  rows.push({ group: 'linux wake', name: 'runsc list (a runsc command\'s own start)', unit: 'ms', summary: summarize(runscStart) });
  if (thaws.length > 0) rows.push({ group: 'linux wake', name: 'not built: thaw a frozen sandbox (cgroup freezer) + first response', unit: 'ms', summary: summarize(thaws), ratio: coldS.median / summarize(thaws).median });
  const native = spawn(join(work, 'counter'), ['9123'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 200));
  const nativeSamples = await through(requests, () => new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: 9123, path: '/', agent: false }, (res) => { res.resume(); res.on('end', () => resolve()); });
    req.on('error', reject);
    req.end();
  }));
  native.kill();
  const awakeS = summarize(awake);
  const nativeS = summarize(nativeSamples);
  rows.push({ group: 'linux server', name: 'native: same server on the host (one request at a time)', unit: 'ms', summary: nativeS, note: `${(1000 / nativeS.median).toFixed(0)} req/s` });
  rows.push({ group: 'linux server', name: 'awake instance: relay + proxy (one request at a time)', unit: 'ms', summary: awakeS, ratio: nativeS.median / awakeS.median, note: `${(1000 / awakeS.median).toFixed(0)} req/s` });
  process.stdout.write(`${formatTable(rows)}\n`);
  const out = flag('--json') ?? join(root, 'bench', 'results', 'linux.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version, loadAverage: loadavg(), runsc: status.version, platform: status.platform }, rows }, null, 2)}\n`);
  await host.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
