/**
 * Unpacks a linux image's rootfs layer (a tar, verified by digest when the store read it)
 * into a directory once per image, shared read-only by every sandbox of that image. Unpacked
 * into a scratch directory and renamed into place, so a crash never leaves half a tree
 * under the image's name. The mount points the driver needs are added.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readTar } from '../../image/tar.ts';
import { MOUNT_POINTS } from './bundle.ts';

/** The directory of an image's unpacked rootfs (unpacking it if needed). */
export function unpackRootfs(cacheDir: string, digest: string, tar: Uint8Array): string {
  const hex = digest.replace(/^sha256:/, '');
  const dir = join(cacheDir, hex);
  if (existsSync(dir)) return dir;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${dir}.${process.pid}.${Date.now().toString(36)}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    for (const e of readTar(tar)) {
      const target = join(tmp, e.path);
      mkdirSync(dirname(target), { recursive: true });
      if (e.kind === 'dir') mkdirSync(target, { recursive: true, mode: 0o755 });
      else if (e.kind === 'symlink') symlinkSync(e.target ?? '', target);
      else {
        writeFileSync(target, e.data ?? new Uint8Array(0));
        chmodSync(target, e.mode & 0o755);
      }
    }
    for (const m of MOUNT_POINTS) mkdirSync(join(tmp, m), { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another load unpacked it first: keep theirs.
      if (!existsSync(dir)) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return dir;
}
