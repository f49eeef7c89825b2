/** args_get, args_sizes_get, environ_get, environ_sizes_get: argv and environment out to the guest. */
import type { Kernel } from '../kernel.ts';

/** Writes a NUL-terminated string list: pointer array at `ptrs`, bytes at `buf`. */
function writeStrings(k: Kernel, list: readonly Uint8Array[], ptrs: number, buf: number): void {
  const m = k.memory;
  m.checkAligned(ptrs, list.length * 4, 4);
  let size = 0;
  for (const s of list) size += s.byteLength + 1;
  m.check(buf, size);
  let at = buf >>> 0;
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    m.setU32(ptrs + i * 4, at);
    m.write(at, s);
    m.setU8(at + s.byteLength, 0);
    at += s.byteLength + 1;
  }
}

function writeSizes(k: Kernel, list: readonly Uint8Array[], countPtr: number, sizePtr: number): void {
  let size = 0;
  for (const s of list) size += s.byteLength + 1;
  k.memory.checkAligned(countPtr, 4, 4);
  k.memory.checkAligned(sizePtr, 4, 4);
  k.memory.setU32(countPtr, list.length);
  k.memory.setU32(sizePtr, size);
}

export const argsCalls = {
  args_get: (k: Kernel, argv: number, buf: number) => writeStrings(k, k.args, argv, buf),
  args_sizes_get: (k: Kernel, count: number, size: number) => writeSizes(k, k.args, count, size),
  environ_get: (k: Kernel, env: number, buf: number) => writeStrings(k, k.env, env, buf),
  environ_sizes_get: (k: Kernel, count: number, size: number) => writeSizes(k, k.env, count, size),
};
