/**
 * A deterministic ustar writer and a strict reader, for the image's files layer. The writer
 * sorts entries by path and zeroes every mtime, uid and gid, so the same files always give
 * the same bytes (and the same digest). The reader accepts only what the writer produces:
 * regular files, directories and symlinks under relative, normalised paths (PAX headers for
 * long names); anything else is refused, so a crafted layer cannot escape the guest root.
 */
import { NanovisorError } from '../shared/errors.ts';

/** One entry of a files layer; `path` is relative to the guest root (`etc/app.conf`). */
export interface TarEntry {
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  mode: number;
  data?: Uint8Array;
  target?: string;
}

const BLOCK = 512;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function filesInvalid(message: string, path: string): never {
  throw new NanovisorError('NV_IMAGE_FILES_INVALID', message, { details: { path } });
}

function malformed(message: string): never {
  throw new NanovisorError('NV_IMAGE_MALFORMED', `files layer: ${message}`);
}

/** Throws unless `path` is relative, non-empty, without `.`/`..`/empty components or NUL. */
export function checkEntryPath(path: string): void {
  if (path === '' || path.startsWith('/') || path.includes('\0') || path.includes('\\')) {
    filesInvalid(`files layer: bad path ${JSON.stringify(path)}`, path);
  }
  for (const c of path.split('/')) {
    if (c === '' || c === '.' || c === '..') filesInvalid(`files layer: path escapes or is not normalised: ${JSON.stringify(path)}`, path);
  }
}

/** Throws when a symlink target is empty or, read relative to the link, climbs above the root. */
export function checkLinkTarget(path: string, target: string): void {
  if (target === '' || target.includes('\0')) filesInvalid(`files layer: symlink ${path} has a bad target`, path);
  if (target.startsWith('/')) {
    // An absolute target is a guest path; it must not name "..".
    if (target.split('/').includes('..')) filesInvalid(`files layer: symlink ${path} -> ${target} escapes the root`, path);
    return;
  }
  let depth = path.split('/').length - 1;
  for (const c of target.split('/')) {
    if (c === '..') depth--;
    else if (c !== '' && c !== '.') depth++;
    if (depth < 0) filesInvalid(`files layer: symlink ${path} -> ${target} points outside the image`, path);
  }
}

function octal(value: number, width: number): string {
  const s = value.toString(8);
  if (s.length > width - 1) throw new RangeError(`${value} does not fit in a ${width}-byte tar field`);
  return s.padStart(width - 1, '0');
}

function putString(block: Uint8Array, offset: number, width: number, text: string): void {
  const bytes = enc.encode(text);
  if (bytes.length > width) throw new RangeError(`"${text}" does not fit in a ${width}-byte tar field`);
  block.set(bytes, offset);
}

/** Splits a path into ustar `prefix` and `name`, or returns undefined when it does not fit. */
function splitName(path: string): [string, string] | undefined {
  const len = enc.encode(path).length;
  if (len <= 100) return ['', path];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (enc.encode(prefix).length <= 155 && enc.encode(name).length <= 100 && name !== '') return [prefix, name];
  }
  return undefined;
}

function header(name: string, prefix: string, mode: number, size: number, type: string, link: string): Uint8Array {
  const h = new Uint8Array(BLOCK);
  putString(h, 0, 100, name);
  putString(h, 100, 8, octal(mode, 8));
  putString(h, 108, 8, octal(0, 8));
  putString(h, 116, 8, octal(0, 8));
  putString(h, 124, 12, octal(size, 12));
  putString(h, 136, 12, octal(0, 12));
  h.fill(0x20, 148, 156);
  putString(h, 156, 1, type);
  putString(h, 157, 100, link);
  putString(h, 257, 6, 'ustar\0');
  putString(h, 263, 2, '00');
  putString(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  putString(h, 148, 8, `${octal(sum, 7)}\0 `.slice(0, 8));
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = enc.encode(body).length + 1;
  while (String(len).length + enc.encode(body).length !== len) len = String(len).length + enc.encode(body).length;
  return `${len}${body}`;
}

function padded(data: Uint8Array): Uint8Array[] {
  const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return pad === 0 ? [data] : [data, new Uint8Array(pad)];
}

function compareBytes(a: string, b: string): number {
  const x = enc.encode(a);
  const y = enc.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/**
 * Writes entries as a deterministic tar (sorted by path, zero mtimes, uid/gid 0).
 *
 * @example
 * writeTar([{ path: 'etc/motd', kind: 'file', mode: 0o644, data: enc.encode('hi\n') }]);
 */
export function writeTar(entries: readonly TarEntry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => compareBytes(a.path, b.path));
  const chunks: Uint8Array[] = [];
  let prev: string | undefined;
  for (const e of sorted) {
    checkEntryPath(e.path);
    if (e.path === prev) filesInvalid(`files layer: duplicate path ${e.path}`, e.path);
    prev = e.path;
    const name = e.kind === 'dir' ? `${e.path}/` : e.path;
    const data = e.kind === 'file' ? (e.data ?? new Uint8Array(0)) : new Uint8Array(0);
    const link = e.kind === 'symlink' ? (e.target ?? '') : '';
    if (e.kind === 'symlink') checkLinkTarget(e.path, link);
    const split = splitName(name);
    const linkFits = enc.encode(link).length <= 100;
    if (split === undefined || !linkFits) {
      let pax = '';
      if (split === undefined) pax += paxRecord('path', name);
      if (!linkFits) pax += paxRecord('linkpath', link);
      const body = enc.encode(pax);
      chunks.push(header('././@PaxHeader', '', 0o644, body.length, 'x', ''), ...padded(body));
    }
    // With a PAX path the ustar name is only a placeholder for readers without PAX.
    const [prefix, short] = split ?? ['', 'pax-long-name'];
    const type = e.kind === 'file' ? '0' : e.kind === 'dir' ? '5' : '2';
    chunks.push(header(short, prefix, e.mode & 0o7777, data.length, type, linkFits ? link : ''));
    if (data.length > 0) chunks.push(...padded(data));
  }
  chunks.push(new Uint8Array(BLOCK * 2));
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function utf8(raw: Uint8Array): string {
  try {
    return dec.decode(raw);
  } catch {
    return malformed('a name is not UTF-8');
  }
}

/** A NUL-terminated header field. */
function field(h: Uint8Array, offset: number, width: number): string {
  const raw = h.subarray(offset, offset + width);
  const nul = raw.indexOf(0);
  return utf8(nul < 0 ? raw : raw.subarray(0, nul));
}

function readOctal(h: Uint8Array, offset: number, width: number, what: string): number {
  const text = field(h, offset, width).trim();
  if (!/^[0-7]*$/.test(text)) malformed(`bad ${what} field "${text}"`);
  return text === '' ? 0 : parseInt(text, 8);
}

function parsePax(body: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const sp = body.indexOf(0x20, at);
    const len = sp < 0 ? NaN : Number(utf8(body.subarray(at, sp)));
    if (!Number.isSafeInteger(len) || len <= sp - at + 1 || at + len > body.length || body[at + len - 1] !== 0x0a) {
      malformed('bad PAX record');
    }
    const kv = utf8(body.subarray(sp + 1, at + len - 1));
    const eq = kv.indexOf('=');
    if (eq <= 0) malformed('bad PAX record');
    out.set(kv.slice(0, eq), kv.slice(eq + 1));
    at += len;
  }
  return out;
}

/**
 * Reads a files layer strictly: only files, dirs and symlinks with safe relative paths and
 * targets; duplicates, hard links, devices, bad checksums and truncation are refused.
 */
export function readTar(bytes: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  let at = 0;
  let pax: Map<string, string> | undefined;
  for (;;) {
    if (at + BLOCK > bytes.length) malformed('truncated (no end-of-archive marker)');
    const h = bytes.subarray(at, at + BLOCK);
    at += BLOCK;
    if (h.every((b) => b === 0)) {
      if (pax !== undefined) malformed('PAX header without an entry');
      const next = bytes.subarray(at, at + BLOCK);
      if (next.length < BLOCK || !next.every((b) => b === 0)) malformed('truncated (end-of-archive marker is two zero blocks)');
      return entries;
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (readOctal(h, 148, 8, 'checksum') !== sum) malformed(`bad header checksum at offset ${at - BLOCK}`);
    if (field(h, 257, 6) !== 'ustar') malformed('not a ustar archive');
    const type = String.fromCharCode(h[156]!);
    const size = readOctal(h, 124, 12, 'size');
    if (at + size > bytes.length) malformed('truncated entry data');
    const data = bytes.subarray(at, at + size);
    at += Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      if (pax !== undefined) malformed('two PAX headers in a row');
      pax = parsePax(data);
      for (const key of pax.keys()) {
        if (key !== 'path' && key !== 'linkpath' && key !== 'mtime') malformed(`unsupported PAX key "${key}"`);
      }
      continue;
    }
    const prefix = field(h, 345, 155);
    let name = pax?.get('path') ?? (prefix === '' ? field(h, 0, 100) : `${prefix}/${field(h, 0, 100)}`);
    const link = pax?.get('linkpath') ?? field(h, 157, 100);
    pax = undefined;
    const mode = readOctal(h, 100, 8, 'mode') & 0o7777;
    let kind: TarEntry['kind'];
    if (type === '0' || type === '\0') kind = 'file';
    else if (type === '5') kind = 'dir';
    else if (type === '2') kind = 'symlink';
    else filesInvalid(`files layer: entry ${JSON.stringify(name)} has type "${type}"; only files, directories and symlinks are allowed`, name);
    if (kind === 'dir' && name.endsWith('/')) name = name.slice(0, -1);
    checkEntryPath(name);
    if (seen.has(name)) filesInvalid(`files layer: duplicate path ${name}`, name);
    seen.add(name);
    if (kind === 'file') entries.push({ path: name, kind, mode, data: data.slice() });
    else if (kind === 'dir') {
      if (size !== 0) malformed(`directory ${name} has data`);
      entries.push({ path: name, kind, mode });
    } else {
      if (size !== 0) malformed(`symlink ${name} has data`);
      checkLinkTarget(name, link);
      entries.push({ path: name, kind, mode, target: link });
    }
  }
}
