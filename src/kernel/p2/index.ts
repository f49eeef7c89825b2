/**
 * The WASI 0.2 kernel: the interfaces of wasi:io, wasi:clocks, wasi:random, wasi:cli and
 * wasi:filesystem as the jco glue imports them (keyed by interface name without version,
 * resources as classes), built over one preview1 Kernel's state: its argv and env, its fd
 * table's stdio and preopens, its clocks and its deadline. One implementation of the
 * semantics (the VFS, output budget, clocks) serves both ABIs. This file is the folder's
 * whole public surface.
 */
import type { Kernel } from '../kernel.ts';
import { cliInterfaces } from './cli.ts';
import { clockInterfaces, randomInterfaces } from './clocks.ts';
import { filesystemInterfaces } from './filesystem.ts';
import { ioInterfaces, type Blocking } from './io.ts';

export { IoError, InputStream, OutputStream, Pollable, readyOf, type Blocking, type SuspendState } from './io.ts';
export { httpInterfaces, requestFromCgi, serveIncoming, type RequestHead } from './http.ts';

/** Every interface the 0.2 kernel provides (versions 0.2.x), for build-time checks. */
export const PROVIDED_INTERFACES: readonly string[] = [
  'wasi:io/error', 'wasi:io/poll', 'wasi:io/streams',
  'wasi:clocks/monotonic-clock', 'wasi:clocks/wall-clock',
  'wasi:random/random', 'wasi:random/insecure', 'wasi:random/insecure-seed',
  'wasi:cli/environment', 'wasi:cli/exit', 'wasi:cli/stdin', 'wasi:cli/stdout', 'wasi:cli/stderr',
  'wasi:cli/terminal-input', 'wasi:cli/terminal-output', 'wasi:cli/terminal-stdin', 'wasi:cli/terminal-stdout', 'wasi:cli/terminal-stderr',
  'wasi:filesystem/types', 'wasi:filesystem/preopens',
];

const blocking = new WeakMap<Kernel, Blocking>();

/**
 * The one Blocking of a kernel's component VM: its deadline, and on the asynchronous path
 * (the kernel has a waiter) the state through which its waits suspend the guest.
 */
export function blockingOf(k: Kernel): Blocking {
  let b = blocking.get(k);
  if (b === undefined) {
    b = { deadlineNs: k.deadlineNs, ...(k.waiter === undefined ? {} : { suspend: { armed: false, pending: undefined } }) };
    blocking.set(k, b);
  }
  return b;
}

/** An import name without its version: `wasi:cli/stdout@0.2.3` -> `wasi:cli/stdout`. */
export function interfaceName(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}

/**
 * The import object of one component VM, over its kernel.
 *
 * @example
 * const kernel = new Kernel({ args, env, stdio, preopens });
 * const root = instantiate(getCoreModule, componentImports(kernel));
 * root.run.run();
 */
export function componentImports(k: Kernel): Record<string, object> {
  const vm = blockingOf(k);
  return {
    ...ioInterfaces(vm),
    ...clockInterfaces(k, vm),
    ...randomInterfaces(),
    ...cliInterfaces(k, vm),
    ...filesystemInterfaces(k, vm),
  };
}
