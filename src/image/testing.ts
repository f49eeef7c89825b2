/**
 * Helpers for this folder's tests: real guest modules compiled from C with clang, hand-made
 * app directories, and throw-away stores. Not part of the public surface.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';

const compiled = new Map<string, Uint8Array>();

/** Compiles a C program for wasm32-wasi (cached per source within a test process). */
export function compileC(source: string): Uint8Array {
  const hit = compiled.get(source);
  if (hit !== undefined) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'nv-cc-'));
  try {
    writeFileSync(join(dir, 'main.c'), source);
    execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-Wl,--strip-all', 'main.c', '-o', 'main.wasm'], { cwd: dir, stdio: 'pipe' });
    const bytes = new Uint8Array(readFileSync(join(dir, 'main.wasm')));
    compiled.set(source, bytes);
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const HELLO_C = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n';

/** A temporary directory removed when the test process's `using` scope ends. */
export function tempDir(prefix = 'nv-image-'): { path: string } & Disposable {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes a tree of files: `{ 'a/b.txt': 'text', 'm.wasm': bytes }`. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, data] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
}
