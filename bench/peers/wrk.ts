/**
 * The load generator: wrk (Debian package `wrk`, installed by scripts/install.sh), run as
 * its own process pinned to its own CPU, posting the echo request over keep-alive
 * connections. Parses wrk's report (requests/s, latency distribution, errors).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDir, ECHO_BODY, ECHO_PATH, hasCommand, pinned } from './common.ts';

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Latency percentiles in ms. */
  p50: number;
  p90: number;
  p99: number;
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx answers. */
  errors: number;
  non2xx: number;
  socketErrors: number;
  raw: string;
}

export function wrkAvailable(): boolean {
  return hasCommand('wrk');
}

function script(): string {
  mkdirSync(buildDir, { recursive: true });
  const path = join(buildDir, 'wrk-post.lua');
  writeFileSync(path, `wrk.method = "POST"
wrk.body = ${JSON.stringify(ECHO_BODY)}
wrk.headers["Content-Type"] = "text/plain"
`);
  return path;
}

function toMs(value: string, unit: string): number {
  const v = Number(value);
  switch (unit) {
    case 'us': return v / 1000;
    case 'ms': return v;
    case 's': return v * 1000;
    case 'm': return v * 60_000;
    default: throw new Error(`wrk: unknown time unit ${unit}`);
  }
}

export function parseWrk(out: string): WrkResult {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    if (m === null) throw new Error(`wrk: no ${p}% latency in its output:\n${out}`);
    return toMs(m[1]!, m[2]!);
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (total === null || rps === null) throw new Error(`wrk: unexpected output:\n${out}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock === null ? 0 : sock.slice(1, 5).reduce((a, b) => a + Number(b), 0);
  const non = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const non2xx = non === null ? 0 : Number(non[1]);
  return {
    requests: Number(total[1]),
    seconds: toMs(total[2]!, total[3]!) / 1000,
    rps: Number(rps[1]),
    p50: pct('50'),
    p90: pct('90'),
    p99: pct('99'),
    errors: socketErrors + non2xx,
    non2xx,
    socketErrors,
    raw: out,
  };
}

/** One wrk run against the echo path on 127.0.0.1:port (POST of the echo body), or GET `path`. */
export function runWrk(port: number, o: { seconds: number; connections: number; cpu: number; path?: string }): Promise<WrkResult> {
  const target = o.path === undefined ? ['-s', script(), `http://127.0.0.1:${port}${ECHO_PATH}`] : [`http://127.0.0.1:${port}${o.path}`];
  const [cmd, args] = pinned(o.cpu, 'wrk', [
    '-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '10s', '--latency', ...target,
  ]);
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: (o.seconds + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${err.message} ${stderr}`));
      try {
        resolve(parseWrk(stdout));
      } catch (e) {
        reject(e);
      }
    });
  });
}
