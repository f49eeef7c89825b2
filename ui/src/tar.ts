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
