/**
 * Shared plumbing of the HTTP benchmarks: building the echo app for every peer, starting a
 * server process on a listening socket the benchmark made (so the clock can start at spawn
 * and the first request waits in the kernel's accept queue rather than in a retry loop),
 * and one-off HTTP requests.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const peersDir = fileURLToPath(new URL('.', import.meta.url));
export const buildDir = join(root, 'build', 'bench');
/** Node 24 from node_modules (the system node may be older). */
export const nodeBin = process.execPath;

/** The request every peer answers: POST with a small body; path and query are echoed. */
export const ECHO_PATH = '/echo/hello?name=world';
export const ECHO_BODY = 'The quick brown fox jumps over the lazy dog.\n';
export const ECHO_ANSWER = `POST /hello?name=world\n${ECHO_BODY}`;

function stale(output: string, input: string): boolean {
  return !existsSync(output) || statSync(output).mtimeMs < statSync(input).mtimeMs;
}

/** Compiles bench/peers/cgi-echo.c for wasm32-wasi (clang) and natively (gcc), when stale. */
export function buildEcho(): { wasm: string; native: string } {
  mkdirSync(buildDir, { recursive: true });
  const src = join(peersDir, 'cgi-echo.c');
  const wasm = join(buildDir, 'cgi-echo.wasm');
  const native = join(buildDir, 'cgi-echo');
  if (stale(wasm, src)) execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-Wl,--strip-all', '-o', wasm, src]);
  if (stale(native, src)) execFileSync('gcc', ['-O2', '-s', '-o', native, src]);
  return { wasm, native };
}

const found = new Map<string, boolean>();

/** True when `cmd` can be run (found on PATH or as a path). */
export function hasCommand(cmd: string): boolean {
  let ok = found.get(cmd);
  if (ok === undefined) {
    try {
      execFileSync('sh', ['-c', `command -v "$0"`, cmd], { stdio: 'ignore' });
      ok = true;
    } catch {
      ok = false;
    }
    found.set(cmd, ok);
  }
  return ok;
}

/** Prefix that pins a command to one CPU with taskset, when there are CPUs to spare. */
export function pinned(cpu: number, cmd: string, args: readonly string[]): [string, string[]] {
  return hasCommand('taskset') ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, [...args]];
}

/**
 * Binds a listening socket on 127.0.0.1 (any free port) and returns its descriptor for a
 * child to inherit as fd 3. `release` closes the benchmark's own copy once the child has it.
 */
export async function listeningSocket(): Promise<{ port: number; fd: number; release: () => void }> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen({ port: 0, host: '127.0.0.1', backlog: 511 }, resolve));
  const port = (srv.address() as { port: number }).port;
  const fd = (srv as unknown as { _handle: { fd: number } })._handle.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('cannot get the listening socket descriptor');
  return { port, fd, release: () => srv.close() };
}

export interface Spawned {
  child: ChildProcess;
  port: number;
  /** Stderr so far (for error reports). */
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Spawns `cmd` with a fresh listening socket as its fd 3. */
export async function spawnOnSocket(cmd: string, args: readonly string[], options: SpawnOptions & { ipc?: boolean } = {}): Promise<Spawned & { spawnedAt: number }> {
  const sock = await listeningSocket();
  const { ipc, ...rest } = options;
  const spawnedAt = performance.now();
  // With ipc, fd 4 is a Node IPC channel (process.send in a Node child, through taskset too).
  const child = spawn(cmd, args, { ...rest, stdio: ['ignore', 'ignore', 'pipe', sock.fd, ...(ipc ? ['ipc' as const] : [])] });
  sock.release();
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 8192) err += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    port: sock.port,
    spawnedAt,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Answer { status: number; body: string }

/** One HTTP request on a new connection (no keep-alive agent). */
export function httpOnce(port: number, path = ECHO_PATH, body = ECHO_BODY, timeoutMs = 20_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port, path, method: 'POST', agent: false,
      headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) },
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Checks that a peer gives the echo answer (so every peer does the same work). */
export async function checkEcho(name: string, port: number): Promise<void> {
  const a = await httpOnce(port);
  if (a.status !== 200 || a.body !== ECHO_ANSWER) {
    throw new Error(`${name} does not echo: status ${a.status}, body ${JSON.stringify(a.body.slice(0, 200))}`);
  }
}

/** Polls until the server answers the echo, for servers that bind after start. */
export async function waitForEcho(name: string, port: number, s: Spawned, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      await checkEcho(name, port);
      return;
    } catch (e) {
      if (s.child.exitCode !== null || performance.now() > deadline) {
        throw new Error(`${name} did not start: ${(e as Error).message}; stderr: ${s.stderr().slice(0, 500)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
