/** args_get, args_sizes_get, environ_get, environ_sizes_get: argv and environment out to the guest. */
import type { Kernel, StringBlock } from '../kernel.ts';

/** Writes a NUL-terminated string list: pointer array at `ptrs`, the strings at `buf`. */
function writeStrings(k: Kernel, list: StringBlock, ptrs: number, buf: number): void {
  const m = k.memory;
  m.checkAligned(ptrs, list.starts.length * 4, 4);
  m.write(buf, list.bytes);
  const base = buf >>> 0;
  for (let i = 0; i < list.starts.length; i++) m.setU32(ptrs + i * 4, base + list.starts[i]!);
}

function writeSizes(k: Kernel, list: StringBlock, countPtr: number, sizePtr: number): void {
  k.memory.checkAligned(countPtr, 4, 4);
  k.memory.checkAligned(sizePtr, 4, 4);
  k.memory.setU32(countPtr, list.starts.length);
  k.memory.setU32(sizePtr, list.bytes.byteLength);
}

export const argsCalls = {
  args_get: (k: Kernel, argv: number, buf: number) => writeStrings(k, k.args, argv, buf),
  args_sizes_get: (k: Kernel, count: number, size: number) => writeSizes(k, k.args, count, size),
  environ_get: (k: Kernel, env: number, buf: number) => writeStrings(k, k.env, env, buf),
  environ_sizes_get: (k: Kernel, count: number, size: number) => writeSizes(k, k.env, count, size),
};
