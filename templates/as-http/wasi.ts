// The WASI preview1 imports this app needs, declared by hand: the environment, stdin,
// stdout, and proc_exit for `abort`. The build step passes `--use abort=wasi/abort` so failed
// assertions land here.

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovs_len: u32, nwritten: usize): u16;
@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, iovs_len: u32, nread: usize): u16;
@external("wasi_snapshot_preview1", "environ_sizes_get")
declare function environ_sizes_get(count: usize, size: usize): u16;
@external("wasi_snapshot_preview1", "environ_get")
declare function environ_get(environ: usize, buf: usize): u16;
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

function write(fd: u32, s: string): void {
  const bytes = String.UTF8.encode(s);
  const iov = memory.data(8);
  const nw = memory.data(4);
  let off: u32 = 0;
  const len = <u32>bytes.byteLength;
  while (off < len) {
    store<u32>(iov, changetype<usize>(bytes) + off);
    store<u32>(iov + 4, len - off);
    if (fd_write(fd, iov, 1, nw) != 0) return;
    off += load<u32>(nw);
  }
}

export function print(s: string): void {
  write(1, s);
}

/** The value of the environment variable `name`, or "" when it is not set. */
export function getenv(name: string): string {
  const sizes = memory.data(8);
  if (environ_sizes_get(sizes, sizes + 4) != 0) return "";
  const count = load<u32>(sizes);
  const size = load<u32>(sizes + 4);
  const ptrs = new ArrayBuffer(<i32>count * 4);
  const buf = new ArrayBuffer(<i32>size);
  if (environ_get(changetype<usize>(ptrs), changetype<usize>(buf)) != 0) return "";
  const prefix = name + "=";
  for (let i: u32 = 0; i < count; i++) {
    const entry = String.UTF8.decodeUnsafe(load<u32>(changetype<usize>(ptrs) + i * 4), size, true);
    if (entry.startsWith(prefix)) return entry.substring(prefix.length);
  }
  return "";
}

/** Up to `n` bytes of stdin, as UTF-8 text. */
export function readStdin(n: i32): string {
  const buf = new ArrayBuffer(n);
  const iov = memory.data(8);
  const nr = memory.data(4);
  let got: i32 = 0;
  while (got < n) {
    store<u32>(iov, changetype<usize>(buf) + got);
    store<u32>(iov + 4, n - got);
    if (fd_read(0, iov, 1, nr) != 0 || load<u32>(nr) == 0) break;
    got += load<u32>(nr);
  }
  return String.UTF8.decode(buf.slice(0, got));
}

export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  write(2, "abort: " + (message !== null ? message : "") + " at " + (fileName !== null ? fileName : "?") + ":" + line.toString() + ":" + column.toString() + "\n");
  proc_exit(134);
}
