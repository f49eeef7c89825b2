/** random_get: bytes from the host's CSPRNG, written straight into guest memory. */
import { randomFillSync } from 'node:crypto';
import type { Kernel } from '../kernel.ts';

export const randomCalls = {
  random_get: (k: Kernel, buf: number, len: number) => {
    randomFillSync(k.memory.bytes(buf, len));
  },
};
