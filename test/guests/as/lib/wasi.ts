// A small, self-written WASI preview1 binding for AssemblyScript guest programs: the raw
// imports we use plus helpers for printing, argv, environment and exit. Kept in the repo so
// building a guest downloads nothing. Compiled with `--use abort=test/guests/as/lib/wasi/abort`.

@external("wasi_snapshot_preview1", "fd_write")
export declare function fd_write(fd: u32, iovs: usize, iovs_len: u32, nwritten: usize): u16;
@external("wasi_snapshot_preview1", "fd_read")
export declare function fd_read(fd: u32, iovs: usize, iovs_len: u32, nread: usize): u16;
@external("wasi_snapshot_preview1", "args_sizes_get")
export declare function args_sizes_get(argc: usize, argv_buf_size: usize): u16;
@external("wasi_snapshot_preview1", "args_get")
export declare function args_get(argv: usize, argv_buf: usize): u16;
@external("wasi_snapshot_preview1", "environ_sizes_get")
export declare function environ_sizes_get(count: usize, buf_size: usize): u16;
@external("wasi_snapshot_preview1", "environ_get")
export declare function environ_get(environ: usize, environ_buf: usize): u16;
@external("wasi_snapshot_preview1", "random_get")
export declare function random_get(buf: usize, buf_len: u32): u16;
@external("wasi_snapshot_preview1", "clock_time_get")
export declare function clock_time_get(id: u32, precision: u64, time: usize): u16;
@external("wasi_snapshot_preview1", "proc_exit")
export declare function proc_exit(code: u32): void;

/** Writes all of `bytes` to `fd`; returns the errno of the first failing call, or 0. */
export function writeBytes(fd: u32, bytes: ArrayBuffer): u16 {
  const iov = memory.data(8);
  let off: i32 = 0;
  const len = bytes.byteLength;
  const nw = memory.data(4);
  while (off < len) {
    store<u32>(iov, changetype<usize>(bytes) + <usize>off);
    store<u32>(iov + 4, <u32>(len - off));
    const err = fd_write(fd, iov, 1, nw);
    if (err != 0) return err;
    const n = load<u32>(nw);
    if (n == 0) return 29; // EIO: no progress
    off += <i32>n;
  }
  return 0;
}

export function print(s: string): void {
  writeBytes(1, String.UTF8.encode(s));
}

export function println(s: string): void {
  print(s + "\n");
}

export function eprintln(s: string): void {
  writeBytes(2, String.UTF8.encode(s + "\n"));
}

/** Reads `count` NUL-terminated strings whose pointers were stored at `ptrs`. */
function cStrings(ptrs: usize, count: u32): string[] {
  const out = new Array<string>();
  for (let i: u32 = 0; i < count; i++) {
    const p = load<u32>(ptrs + (<usize>i << 2));
    let end = <usize>p;
    while (load<u8>(end) != 0) end++;
    out.push(String.UTF8.decodeUnsafe(<usize>p, end - <usize>p));
  }
  return out;
}

/** The program's argv, argv[0] included. */
export function args(): string[] {
  const sizes = memory.data(8);
  if (args_sizes_get(sizes, sizes + 4) != 0) return [];
  const argc = load<u32>(sizes);
  const bufSize = load<u32>(sizes + 4);
  const ptrs = new ArrayBuffer(<i32>(argc * 4 + 4));
  const buf = new ArrayBuffer(<i32>(bufSize + 1));
  if (args_get(changetype<usize>(ptrs), changetype<usize>(buf)) != 0) return [];
  return cStrings(changetype<usize>(ptrs), argc);
}

/** The environment as "KEY=VALUE" strings, in the order the host gave them. */
export function environ(): string[] {
  const sizes = memory.data(8);
  if (environ_sizes_get(sizes, sizes + 4) != 0) return [];
  const count = load<u32>(sizes);
  const bufSize = load<u32>(sizes + 4);
  const ptrs = new ArrayBuffer(<i32>(count * 4 + 4));
  const buf = new ArrayBuffer(<i32>(bufSize + 1));
  if (environ_get(changetype<usize>(ptrs), changetype<usize>(buf)) != 0) return [];
  return cStrings(changetype<usize>(ptrs), count);
}

export function exit(code: u32): void {
  proc_exit(code);
}

/** Replaces AssemblyScript's `env.abort` import: report on stderr and exit 134. */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let s = "abort: ";
  if (message !== null) s += message;
  if (fileName !== null) s += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  eprintln(s);
  proc_exit(134);
}
