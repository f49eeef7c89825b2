/**
 * Tells an app directory tar (nanovisor.json at its top: the daemon builds it) from an
 * image export (oci-layout and index.json: stored as is) by reading the tar's headers in
 * the browser, before anything is uploaded.
 */

function text(bytes: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(start, end));
}

/** Names of the first entries of a tar (up to `max`, within its first 4 MiB). */
export async function tarNames(file: Blob, max = 256): Promise<string[]> {
  const bytes = new Uint8Array(await file.slice(0, 4 * 1024 * 1024).arrayBuffer());
  const names: string[] = [];
  let off = 0;
  let paxName: string | undefined;
  while (off + 512 <= bytes.length && names.length < max) {
    if (bytes[off] === 0) break;
    const size = parseInt(text(bytes, off + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(bytes[off + 156]!);
    const prefix = text(bytes, off + 345, 155);
    let name = text(bytes, off, 100);
    if (prefix !== '' && text(bytes, off + 257, 5) === 'ustar') name = `${prefix}/${name}`;
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(text(bytes, off + 512, size));
      paxName = m?.[1];
    } else if (type !== 'g' && type !== 'L') {
      names.push((paxName ?? name).replace(/^\.\//, ''));
      paxName = undefined;
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

export async function tarKind(file: Blob): Promise<'app' | 'image' | undefined> {
  const names = await tarNames(file);
  if (names.includes('oci-layout') || names.includes('index.json')) return 'image';
  if (names.includes('nanovisor.json')) return 'app';
  return undefined;
}

/** A file of an app directory chosen or dropped in the browser, by its path inside the directory. */
export interface DirFile {
  path: string;
  file: Blob;
}

const enc = new TextEncoder();

function field(h: Uint8Array, offset: number, width: number, value: string): void {
  h.set(enc.encode(value).subarray(0, width), offset);
}

function octalField(h: Uint8Array, offset: number, width: number, value: number): void {
  field(h, offset, width, `${value.toString(8).padStart(width - 1, '0')}\0`);
}

function header(name: string, size: number, type: '0' | 'x'): Uint8Array<ArrayBuffer> {
  const h = new Uint8Array(512);
  field(h, 0, 100, name);
  octalField(h, 100, 8, 0o644);
  octalField(h, 108, 8, 0);
  octalField(h, 116, 8, 0);
  octalField(h, 124, 12, size);
  octalField(h, 136, 12, 0);
  h.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  field(h, 156, 1, type);
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

function padding(size: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array((512 - (size % 512)) % 512);
}

/**
 * A POSIX (ustar) tar of `files`, as `tar -C dir -cf - .` would make it for the daemon's
 * build (`POST /v1/images/build`): regular files only (directories are implied by their
 * paths), a PAX record for a path longer than 100 bytes. The files' bytes are not read
 * here: the Blob refers to them, and the upload streams them.
 */
export function writeTar(files: DirFile[]): Blob {
  const parts: BlobPart[] = [];
  for (const { path, file } of files) {
    const bytes = enc.encode(path);
    if (bytes.length > 100) {
      // "<len> path=<path>\n", where <len> counts its own digits.
      const body = ` path=${path}\n`;
      let len = enc.encode(body).length;
      len += String(len + String(len).length).length;
      const record = enc.encode(`${len}${body}`);
      parts.push(header('././@PaxHeader', record.length, 'x'), record, padding(record.length));
    }
    parts.push(header(bytes.length > 100 ? path.slice(-100).replace(/^[^/]*\//, '') : path, file.size, '0'), file, padding(file.size));
  }
  parts.push(new Uint8Array(1024));
  return new Blob(parts, { type: 'application/x-tar' });
}

/**
 * The files of a directory the browser was given, paths relative to that directory: from
 * `<input webkitdirectory>` (each file's `webkitRelativePath` starts with the directory's
 * own name, which is dropped) or from a dropped folder (`FileSystemDirectoryEntry`).
 */
export function filesOfInput(list: FileList): DirFile[] {
  return [...list].map((f) => ({ path: f.webkitRelativePath.split('/').slice(1).join('/'), file: f })).filter((f) => f.path !== '');
}

export async function filesOfEntry(dir: FileSystemDirectoryEntry): Promise<DirFile[]> {
  const out: DirFile[] = [];
  const walk = async (d: FileSystemDirectoryEntry, prefix: string): Promise<void> => {
    const reader = d.createReader();
    // readEntries answers in batches until it answers none.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const e of batch) {
        if (e.isDirectory) await walk(e as FileSystemDirectoryEntry, `${prefix}${e.name}/`);
        else if (e.isFile) out.push({ path: `${prefix}${e.name}`, file: await new Promise<File>((resolve, reject) => (e as FileSystemFileEntry).file(resolve, reject)) });
      }
    }
  };
  await walk(dir, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
