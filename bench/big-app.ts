/**
 * A ~1 MB app for the boot benchmark: a C program with 1 MiB of initialised, non-zero data
 * (a lookup table, as real apps carry), compiled with clang into build/bench/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(fileURLToPath(new URL('..', import.meta.url)), 'build', 'bench');

export function bigApp(): Uint8Array {
  const out = join(dir, 'big-app.wasm');
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    // A deterministic pseudo-random table, so the data cannot be compressed away as zeros.
    const bytes: number[] = [];
    let x = 2463534242;
    for (let i = 0; i < 1 << 20; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      bytes.push((x & 0xff) | 1);
    }
    const source = `#include <stdio.h>
static const unsigned char table[${bytes.length}] = {${bytes.join(',')}};
int main(int argc, char **argv) {
  unsigned sum = 0;
  for (int i = 0; i < ${bytes.length}; i += 4096) sum += table[i];
  printf("checksum %u\\n", sum + (unsigned)argc);
  return 0;
}
`;
    writeFileSync(join(dir, 'big-app.c'), source);
    execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-Wl,--strip-all', 'big-app.c', '-o', 'big-app.wasm'], { cwd: dir, stdio: 'pipe' });
  }
  return readFileSync(out);
}
