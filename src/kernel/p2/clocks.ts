/**
 * wasi:clocks and wasi:random: the preview1 kernel's clocks (one monotonic origin per VM)
 * and the host CSPRNG. A clock pollable is ready at an hrtime instant; blocking on it
 * sleeps, bounded by the VM's deadline (io.ts).
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { ClockId } from '../abi.ts';
import type { Kernel } from '../kernel.ts';
import { now, resolution } from '../syscalls/clock.ts';
import { MAX_IO_CHUNK, Pollable, type Blocking } from './io.ts';

function clockPollable(atHr: bigint, vm: Blocking): Pollable {
  return new Pollable({ ready: () => process.hrtime.bigint() >= atHr, at: atHr }, vm);
}

export function clockInterfaces(k: Kernel, vm: Blocking): Record<string, object> {
  return {
    'wasi:clocks/monotonic-clock': {
      now: () => now(k, ClockId.MONOTONIC),
      resolution: () => resolution(ClockId.MONOTONIC),
      // Guest instants are monotonic-clock values: hrtime - startNs + 1.
      subscribeInstant: (when: bigint) => clockPollable(when + k.startNs - 1n, vm),
      subscribeDuration: (d: bigint) => clockPollable(process.hrtime.bigint() + d, vm),
    },
    'wasi:clocks/wall-clock': {
      now: () => {
        const ns = now(k, ClockId.REALTIME);
        return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: Number(resolution(ClockId.REALTIME)) }),
    },
  };
}

function bytes(len: bigint): Uint8Array {
  // A guest may ask for 2^64 bytes; it gets at most one chunk, as a short read.
  const n = Number(len > BigInt(MAX_IO_CHUNK) ? BigInt(MAX_IO_CHUNK) : len);
  return randomFillSync(new Uint8Array(n));
}

function u64(): bigint {
  return randomBytes(8).readBigUInt64LE(0);
}

export function randomInterfaces(): Record<string, object> {
  return {
    'wasi:random/random': { getRandomBytes: bytes, getRandomU64: u64 },
    'wasi:random/insecure': { getInsecureRandomBytes: bytes, getInsecureRandomU64: u64 },
    'wasi:random/insecure-seed': { insecureSeed: () => [u64(), u64()] },
  };
}
