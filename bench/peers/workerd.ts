/**
 * Peer: Cloudflare's workerd (npm package `workerd`, its own binary) serving
 * bench/peers/echo-worker.js. The config names one socket, `http`, which the benchmark
 * hands over as fd 3 (`--socket-fd http=3`).
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDir, peersDir, root } from './common.ts';

export const workerdBin = join(root, 'node_modules', '.bin', 'workerd');

/** Writes the workerd config next to a copy of the worker (a file of bench/peers); returns the config path. */
export function workerdConfig(worker = 'echo-worker.js'): string {
  const dir = join(buildDir, 'workerd');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(peersDir, worker), join(dir, worker));
  const config = join(dir, `${worker.replace(/\.js$/, '')}.capnp`);
  writeFileSync(config, `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .echoWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const echoWorker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "${worker}") ],
  compatibilityDate = "2024-09-23",
);
`);
  return config;
}

export function workerdArgs(config: string): string[] {
  return ['serve', config, '--socket-fd', 'http=3'];
}
