/**
 * Long-running server instances of the linux driver. An instance is one gVisor sandbox whose
 * first process is the relay (relay.c): it starts the app's program, listens on a Unix
 * socket in a host directory bind-mounted at /run/nv (runsc --host-uds=create), and joins
 * each connection to 127.0.0.1:PORT inside the sandbox, whose network stays `none`. The
 * relay answers one byte first — `R` the app accepted, `E` it is not listening (yet) — which
 * is both the TCP readiness probe and the proxy's check. `start` resolves once the instance
 * is ready (TCP accept, or an HTTP GET of the ready path answered below 500).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_WRITABLE_LAYER } from '../../host/options.ts';
import type { VmHandle } from '../../host/vm-host.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { RELAY_GUEST_PATH, SOCKET_GUEST_DIR } from './bundle.ts';
import type { LinuxHost } from './linux-host.ts';
import { runCommand, runscFlags } from './runsc.ts';

export interface ServerSpec {
  port: number;
  ready: { http?: string | undefined; tcp?: true | undefined };
  readyTimeoutMs: number;
}

export interface ServerStartOptions {
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  server: ServerSpec;
  writableLayerBytes?: number;
  /** The instance's own output (stdout and stderr of the program), line by line. */
  onOutput?: (line: string) => void;
}

/** A running server instance: connect to it, stop it. */
export interface ServerInstance {
  readonly id: string;
  /** A connection to the app's port (rejects when the app does not accept). */
  connect(): Promise<Socket>;
  /** Resolves when the sandbox has ended (crash or stop), with its exit code. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
  /** Checkpoints the instance (`runsc checkpoint`; no connection may be open): its sandbox ends, its state is kept on disk. */
  sleep(): Promise<void>;
  /** Restores it from that checkpoint (`runsc restore`); resolves once the relay listens again. */
  wake(): Promise<void>;
}

/** Opens a connection through the relay; resolves once the app accepted it. */
function relayConnect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    const fail = (e: Error): void => {
      s.destroy();
      reject(e);
    };
    s.once('error', fail);
    s.once('readable', function first() {
      const b = s.read(1) as Buffer | null;
      if (b === null) {
        s.once('readable', first);
        return;
      }
      s.off('error', fail);
      if (b[0] === 0x52) resolve(s);
      else fail(new Error('the app is not accepting connections on its port'));
    });
    s.once('end', () => fail(new Error('the relay closed the connection')));
  });
}

/** One HTTP GET over a relay connection; resolves with the status. */
async function probeHttp(path: string, target: string): Promise<number> {
  const s = await relayConnect(path);
  return new Promise((resolve, reject) => {
    let head = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      head += d;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m !== null) {
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('closed before a status line')));
    s.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  });
}

/**
 * Starts a server instance of a loaded linux image and waits until it is ready; rejects
 * with NV_LINUX_UNAVAILABLE, or with the program's exit when it ends or is not ready within
 * `readyTimeoutMs` (the sandbox is then destroyed).
 */
export async function startServer(host: LinuxHost, handle: VmHandle, o: ServerStartOptions): Promise<ServerInstance> {
  const status = await host.status();
  if (!status.available) throw host.unavailable();
  const img = host.image(handle);
  const id = host.nextId('srv');
  const socketDir = join(host.workDir, 'uds', id);
  mkdirSync(socketDir, { recursive: true });
  const socket = join(socketDir, 's');
  const bundle = host.writeBundle(id, {
    rootfs: img.rootfs, args: [RELAY_GUEST_PATH, `${SOCKET_GUEST_DIR}/s`, String(o.server.port), ...o.args], env: o.env,
    memoryBytes: img.memoryBytes, processes: img.processes, writableLayerBytes: o.writableLayerBytes ?? DEFAULT_WRITABLE_LAYER,
    relay: status.relay, socketDir,
  });
  const flags = runscFlags(host.runsc, ['--host-uds=create']);
  const imagePath = join(host.workDir, 'checkpoints', id);
  let buffered = '';
  const line = (d: Buffer): void => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) o.onOutput?.(l);
  };
  // The instance ends when its sandbox ends, except when it ends by being checkpointed.
  let ended = false;
  let checkpointing = false;
  /** Whether the current runsc process has ended (and how). */
  let closed: { code: number | null } | undefined;
  const end = (code: number | null): void => {
    if (ended) return;
    ended = true;
    resolveExit(code);
  };
  let resolveExit!: (code: number | null) => void;
  const exited = new Promise<number | null>((resolve) => (resolveExit = resolve));
  let child: ChildProcess;
  /** `runsc run` (or `runsc restore`) as the sandbox's parent, for as long as it lives. */
  const launch = (command: readonly string[]): Promise<number | null> => {
    closed = undefined;
    child = spawn(host.runsc.binary ?? 'runsc', [...flags, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', line);
    child.stderr?.on('data', line);
    return new Promise((resolve) => {
      child.on('close', (code) => {
        if (buffered !== '') o.onOutput?.(buffered);
        buffered = '';
        closed = { code };
        resolve(code);
        if (!checkpointing) end(code);
      });
      child.on('error', () => {
        closed = { code: null };
        resolve(null);
        end(null);
      });
    });
  };
  let sandbox = launch(['run', '--bundle', bundle, id]);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= (async () => {
    await host.destroy(id);
    child.kill('SIGKILL');
    // Asleep (or checkpointed): no sandbox is left to end.
    if (closed !== undefined) end(closed.code);
    await exited;
    rmSync(socketDir, { recursive: true, force: true });
    rmSync(bundle, { recursive: true, force: true });
    rmSync(imagePath, { recursive: true, force: true });
  })());
  const sleep = async (): Promise<void> => {
    // The relay closes its host socket on SIGUSR1 (gVisor cannot save a bound one); then checkpoint.
    const bin = host.runsc.binary ?? 'runsc';
    const k = await runCommand(bin, [...flags, 'kill', id, 'USR1'], 10_000);
    if (k.code !== 0) throw new NanovisorError('NV_HOST_FAULT', `runsc kill USR1 failed: ${k.stderr.trim()}`);
    const slept = join(socketDir, 'slept');
    const until = performance.now() + 5000;
    while (!existsSync(slept)) {
      if (performance.now() > until) throw new NanovisorError('NV_HOST_FAULT', 'the relay did not close its socket for the checkpoint');
      await new Promise((r) => setTimeout(r, 1));
    }
    rmSync(slept);
    rmSync(imagePath, { recursive: true, force: true });
    // The image holds the app's memory (its secrets too): only root reads it.
    mkdirSync(imagePath, { recursive: true, mode: 0o700 });
    checkpointing = true;
    const c = await runCommand(bin, [...flags, 'checkpoint', '--image-path', imagePath, id], 60_000);
    if (c.code !== 0) {
      checkpointing = false;
      if (closed !== undefined) end(closed.code);
      if (ended) throw new NanovisorError('NV_HOST_FAULT', `runsc checkpoint failed and the sandbox ended: ${c.stderr.trim()}`);
      // Still running: the relay waits for its wake file; let it listen again.
      writeFileSync(join(socketDir, 'wake'), '');
      throw new NanovisorError('NV_HOST_FAULT', `runsc checkpoint failed: ${c.stderr.trim().split('\n').pop() ?? `exit ${c.code}`}`);
    }
    await sandbox;
    checkpointing = false;
    asleep = true;
  };
  let asleep = false;
  const wake = async (): Promise<void> => {
    if (!asleep) return; // running already (a fresh start after a crash)
    asleep = false;
    // The restored relay listens again once it finds the wake file.
    rmSync(socket, { force: true });
    const wakeFile = join(socketDir, 'wake');
    writeFileSync(wakeFile, '');
    sandbox = launch(['restore', '--image-path', imagePath, '--bundle', bundle, id]);
    const until = performance.now() + Math.max(o.server.readyTimeoutMs, 1000);
    while (existsSync(wakeFile)) {
      if (ended) throw new NanovisorError('NV_GUEST_EXIT', `the restored sandbox ended (exit ${await exited})`);
      if (performance.now() > until) {
        await stop();
        throw new NanovisorError('NV_GUEST_TIMEOUT', `the instance was not back within ${o.server.readyTimeoutMs} ms of its restore`);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    rmSync(imagePath, { recursive: true, force: true });
  };
  const deadline = performance.now() + o.server.readyTimeoutMs;
  for (;;) {
    if (ended) {
      await stop();
      throw new NanovisorError('NV_GUEST_EXIT', `the server program ended before it was ready (exit ${await exited})`);
    }
    try {
      if (o.server.ready.http !== undefined) {
        if ((await probeHttp(socket, o.server.ready.http)) < 500) break;
      } else {
        (await relayConnect(socket)).destroy();
        break;
      }
    } catch {
      // not ready yet
    }
    if (performance.now() > deadline) {
      await stop();
      throw new NanovisorError('NV_GUEST_TIMEOUT', `the server was not ready within ${o.server.readyTimeoutMs} ms (probe: ${o.server.ready.http === undefined ? `tcp port ${o.server.port}` : `GET ${o.server.ready.http}`})`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { id, connect: () => relayConnect(socket), exited, stop, sleep, wake };
}

export interface SupervisorOptions {
  /** First restart delay; doubles on each crash in a row, up to `maxBackoffMs`. Default 250. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Told of each crash (exit code, the delay before the restart) and of each restart's failure. */
  onCrash?: (info: { exitCode: number | null; restarts: number; backoffMs: number; error?: string }) => void;
}

/**
 * Keeps a server instance running: when its sandbox ends without being stopped, it is
 * started again after a backoff (doubling while it keeps crashing, reset once a restart is
 * ready). Meanwhile connections are refused with NV_INSTANCE_UNAVAILABLE (the gateway's
 * 503). State held in memory does not survive a crash.
 */
export function supervise(first: ServerInstance, start: () => Promise<ServerInstance>, o: SupervisorOptions = {}): { connect(): Promise<Socket>; sleep(): Promise<void>; wake(): Promise<void>; stop(): Promise<void>; readonly restarts: number } {
  const base = o.backoffMs ?? 250;
  const max = o.maxBackoffMs ?? 10_000;
  let current: ServerInstance | undefined = first;
  let stopped = false;
  let restarts = 0;
  let delay = base;
  let timer: NodeJS.Timeout | undefined;
  const watch = (inst: ServerInstance): void => {
    void inst.exited.then((code) => {
      if (stopped || current !== inst) return;
      current = undefined;
      void inst.stop();
      o.onCrash?.({ exitCode: code, restarts, backoffMs: delay });
      schedule();
    });
  };
  const schedule = (): void => {
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      restarts++;
      start().then((inst) => {
        if (stopped) {
          void inst.stop();
          return;
        }
        current = inst;
        delay = base;
        watch(inst);
      }, (e: unknown) => {
        delay = Math.min(delay * 2, max);
        o.onCrash?.({ exitCode: null, restarts, backoffMs: delay, error: (e as Error).message });
        schedule();
      });
    }, delay);
    delay = Math.min(delay * 2, max);
  };
  watch(first);
  return {
    connect() {
      if (current === undefined) return Promise.reject(new NanovisorError('NV_INSTANCE_UNAVAILABLE', `the server instance crashed and is being restarted (restart ${restarts + 1})`));
      return current.connect();
    },
    sleep() {
      if (current === undefined) return Promise.reject(new NanovisorError('NV_INSTANCE_UNAVAILABLE', 'the server instance is being restarted'));
      return current.sleep();
    },
    wake() {
      if (current === undefined) return Promise.reject(new NanovisorError('NV_INSTANCE_UNAVAILABLE', `the server instance crashed and is being restarted (restart ${restarts + 1})`));
      return current.wake();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await current?.stop();
    },
    get restarts() {
      return restarts;
    },
  };
}
