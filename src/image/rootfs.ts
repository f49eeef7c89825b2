/**
 * The root filesystem of a linux-driver image, collected at build time from what the manifest's
 * `rootfs` names: a directory (taken as it is: files, directories and symlinks, absolute
 * targets kept, since they resolve inside the sandbox's root), a static binary (placed at
 * `/app`), or an OCI image (not yet: refused by name). Sealed into the image as one tar layer
 * (media type `application/vnd.nanovisor.rootfs.v1.tar`), so a linux image is content-
 * addressed like every other: the same tree gives the same digest.
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { NanovisorError } from '../shared/errors.ts';
import type { Manifest } from './manifest.ts';
import type { ImageFile } from './types.ts';

/** Where a `rootfs.binary` lands in the sandbox, and so the default `args[0]`. */
export const BINARY_PATH = '/app';

/** Most entries a rootfs may hold. */
export const MAX_ROOTFS_ENTRIES = 100_000;

function invalid(message: string, path: string): never {
  throw new NanovisorError('NV_IMAGE_FILES_INVALID', message, { details: { path } });
}

function mode(m: number): number {
  return (m & 0o111) !== 0 ? 0o755 : 0o644;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function source(appDir: string, from: string, what: string): string {
  const host = resolve(appDir, from);
  let real: string;
  try {
    real = realpathSync(host);
  } catch {
    throw new NanovisorError('NV_FILE_NOT_FOUND', `${what}: no such file or directory: ${from}`, { details: { path: from } });
  }
  if (!inside(realpathSync(appDir), real)) invalid(`${what}: ${from} leads outside the app directory`, from);
  return real;
}

/** A directory tree as image files: symlinks are kept as symlinks, whatever they point at. */
function walkTree(root: string): ImageFile[] {
  const out: ImageFile[] = [];
  const walk = (hostDir: string, guestDir: string): void => {
    for (const name of readdirSync(hostDir).sort()) {
      const host = join(hostDir, name);
      const guest = guestDir === '/' ? `/${name}` : `${guestDir}/${name}`;
      if (out.length >= MAX_ROOTFS_ENTRIES) invalid(`rootfs.dir: more than ${MAX_ROOTFS_ENTRIES} entries`, host);
      const st = lstatSync(host);
      if (st.isDirectory()) {
        out.push({ path: guest, kind: 'dir', mode: 0o755 });
        walk(host, guest);
      } else if (st.isFile()) {
        out.push({ path: guest, kind: 'file', mode: mode(st.mode), data: new Uint8Array(readFileSync(host)) });
      } else if (st.isSymbolicLink()) {
        out.push({ path: guest, kind: 'symlink', mode: 0o777, target: readlinkSync(host) });
      } else {
        invalid(`rootfs.dir: ${host} is not a regular file, directory or symlink (devices, sockets and fifos are not carried)`, host);
      }
    }
  };
  walk(root, '/');
  return out;
}

/**
 * Collects a linux manifest's root filesystem from the app directory.
 *
 * @example
 * collectRootfs('examples/hello-linux', manifest); // [{ path: '/app', kind: 'file', mode: 0o755, data }]
 */
export function collectRootfs(appDir: string, manifest: Manifest): ImageFile[] {
  const r = manifest.rootfs;
  if (r === undefined) invalid('rootfs: the linux driver needs a rootfs', appDir);
  if (r.dir !== undefined) {
    const real = source(appDir, r.dir, 'rootfs.dir');
    if (!statSync(real).isDirectory()) invalid(`rootfs.dir: ${r.dir} is not a directory`, r.dir);
    return walkTree(real);
  }
  if (r.binary !== undefined) {
    const real = source(appDir, r.binary, 'rootfs.binary');
    if (!statSync(real).isFile()) invalid(`rootfs.binary: ${r.binary} is not a regular file`, r.binary);
    const data = new Uint8Array(readFileSync(real));
    if (!(data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46)) {
      invalid(`rootfs.binary: ${r.binary} is not an ELF executable (a static Linux binary)`, r.binary);
    }
    return [{ path: BINARY_PATH, kind: 'file', mode: 0o755, data }];
  }
  throw new NanovisorError('NV_MANIFEST_INVALID', 'rootfs.oci: OCI image roots are not implemented yet; unpack the image into a directory and use rootfs.dir');
}
