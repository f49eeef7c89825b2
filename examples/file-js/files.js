// Reading the image's files through wasi:filesystem, imported as a JS module (the world of
// nanovisor's JS apps includes it). The image root is the first preopened directory, "/".
import { getDirectories } from 'wasi:filesystem/preopens@0.2.10';

/** The bytes of the file at an absolute path of the image, or undefined when there is none. */
export function readFile(path) {
  const root = getDirectories().find(([, name]) => name === '/');
  if (root === undefined) throw new Error('no image root is preopened');
  let file;
  try {
    file = root[0].openAt({}, path.replace(/^\/+/, ''), {}, { read: true });
  } catch (e) {
    if (e?.payload === 'no-entry' || e === 'no-entry') return undefined;
    throw e;
  }
  const chunks = [];
  let offset = 0n;
  for (;;) {
    const [bytes, end] = file.read(65536n, offset);
    chunks.push(bytes);
    offset += BigInt(bytes.length);
    if (end || bytes.length === 0) break;
  }
  return concat(chunks);
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
