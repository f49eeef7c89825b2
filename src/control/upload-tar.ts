/**
 * Extracts an uploaded app directory (a tar: `nanovisor.json`, the module, its files) into a
 * fresh directory, strictly: only regular files and directories, every path relative and
 * normalised (a leading `./` is dropped), no `..`, no absolute paths, no links or devices, a
 * bounded number of entries. What `tar -C app -cf - .` (GNU or POSIX format) and the CLI
 * write is accepted; anything that could land outside the directory is refused by name.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, isAbsolute, sep } from 'node:path';
import { NanovisorError } from '../shared/errors.ts';

const BLOCK = 512;
/** Most entries an uploaded app directory may hold. */
export const MAX_UPLOAD_ENTRIES = 10_000;
const dec = new TextDecoder('utf-8', { fatal: true });

function bad(message: string): never {
  throw new NanovisorError('NV_API_BAD_REQUEST', `upload: ${message}`);
}

function escape(message: string, path: string): never {
  throw new NanovisorError('NV_IMAGE_FILES_INVALID', `upload: ${message}`, { details: { path } });
}

function text(raw: Uint8Array): string {
  const nul = raw.indexOf(0);
  try {
    return dec.decode(nul < 0 ? raw : raw.subarray(0, nul));
  } catch {
    return bad('an entry name is not UTF-8');
  }
}

function octal(h: Uint8Array, offset: number, width: number, what: string): number {
  const t = text(h.subarray(offset, offset + width)).trim();
  if (!/^[0-7]*$/.test(t)) bad(`bad ${what} field in a tar header`);
  return t === '' ? 0 : parseInt(t, 8);
}

function paxPath(body: Uint8Array): string | undefined {
  let at = 0;
  let path: string | undefined;
  while (at < body.length) {
    const sp = body.indexOf(0x20, at);
    const len = sp < 0 ? NaN : Number(text(body.subarray(at, sp)));
    if (!Number.isSafeInteger(len) || len <= 0 || at + len > body.length) bad('bad PAX record');
    const kv = dec.decode(body.subarray(sp + 1, at + len - 1));
    const eq = kv.indexOf('=');
    if (eq > 0 && kv.slice(0, eq) === 'path') path = kv.slice(eq + 1);
    at += len;
  }
  return path;
}

/** `./a/b/` -> `a/b`; '' for the root itself; throws for anything that escapes. */
export function normaliseUploadPath(raw: string): string {
  if (raw.includes('\0') || raw.includes('\\')) escape(`bad entry name ${JSON.stringify(raw)}`, raw);
  if (raw.startsWith('/')) escape(`entry ${JSON.stringify(raw)} is an absolute path`, raw);
  const parts = raw.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) escape(`entry ${JSON.stringify(raw)} climbs out of the directory with ".."`, raw);
  return parts.join('/');
}

/**
 * Extracts `tar` into `dest` (an existing, empty directory). Returns the number of files.
 *
 * @example
 * const dir = mkdtempSync(join(tmp, 'build-'));
 * extractAppTar(body, dir);
 * buildImage({ dir, store });
 */
export function extractAppTar(tar: Uint8Array, dest: string): number {
  // Two passes: every header is read and checked (count, names, types) before anything is
  // written, so a tar with one entry too many, or a bad one at its end, writes nothing.
  const entries = scanAppTar(tar);
  let files = 0;
  for (const { name, rel, type, data, mode } of entries) {
    const target = join(dest, rel);
    const back = relative(dest, target);
    if (back.startsWith(`..${sep}`) || back === '..' || isAbsolute(back)) escape(`entry ${JSON.stringify(name)} leads outside the directory`, name);
    try {
      if (type === '5') {
        if (rel !== '') mkdirSync(target, { recursive: true, mode: 0o755 });
      } else {
        mkdirSync(join(target, '..'), { recursive: true, mode: 0o755 });
        writeFileSync(target, data, { flag: 'wx', mode: (mode & 0o111) !== 0 ? 0o755 : 0o644 });
        files++;
      }
    } catch (e) {
      if (e instanceof NanovisorError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') bad(`entry ${JSON.stringify(name)} is given twice or clashes with another`);
      throw new NanovisorError('NV_STORE_IO', `upload: cannot write ${rel}: ${(e as Error).message}`, { cause: e });
    }
  }
  return files;
}

interface AppTarEntry {
  name: string;
  rel: string;
  type: string;
  data: Uint8Array;
  mode: number;
}

/** Reads and checks every header of an app tar; writes nothing. */
function scanAppTar(tar: Uint8Array): AppTarEntry[] {
  const out: AppTarEntry[] = [];
  let at = 0;
  let longName: string | undefined;
  for (;;) {
    if (at + BLOCK > tar.length) bad('the tar is truncated (no end-of-archive marker)');
    const h = tar.subarray(at, at + BLOCK);
    at += BLOCK;
    if (h.every((b) => b === 0)) return out;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (octal(h, 148, 8, 'checksum') !== sum) bad(`bad tar header checksum at offset ${at - BLOCK} (is the body a tar?)`);
    const magic = text(h.subarray(257, 263));
    if (magic !== 'ustar' && magic !== 'ustar ') bad('not a ustar/GNU tar archive');
    const type = String.fromCharCode(h[156]!);
    const size = octal(h, 124, 12, 'size');
    if (at + size > tar.length) bad('the tar is truncated inside an entry');
    const data = tar.subarray(at, at + size);
    at += Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L') {
      longName = text(data);
      continue;
    }
    const prefix = magic === 'ustar' ? text(h.subarray(345, 500)) : '';
    const name = longName ?? (prefix === '' ? text(h.subarray(0, 100)) : `${prefix}/${text(h.subarray(0, 100))}`);
    longName = undefined;
    if (out.length + 1 > MAX_UPLOAD_ENTRIES) bad(`more than ${MAX_UPLOAD_ENTRIES} entries (nothing was written)`);
    const rel = normaliseUploadPath(name);
    const mode = octal(h, 100, 8, 'mode');
    if (type === '0' || type === '\0' || type === '7') {
      if (rel === '') bad(`entry ${JSON.stringify(name)} is a file without a name`);
    } else if (type !== '5') {
      const kind = type === '1' ? 'a hard link' : type === '2' ? 'a symlink' : `of type "${type}"`;
      escape(`entry ${JSON.stringify(name)} is ${kind}; only files and directories may be uploaded`, name);
    }
    out.push({ name, rel, type: type === '5' ? '5' : '0', data, mode });
  }
}
