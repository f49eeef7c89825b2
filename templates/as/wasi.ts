// The WASI preview1 imports this app needs, declared by hand: fd_write for output, proc_exit
// for `abort`. The build step passes `--use abort=wasi/abort` so failed assertions land here.

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovs_len: u32, nwritten: usize): u16;
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

export function write(fd: u32, s: string): void {
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

export function println(s: string): void {
  write(1, s + "\n");
}

export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  write(2, "abort: " + (message !== null ? message : "") + " at " + (fileName !== null ? fileName : "?") + ":" + line.toString() + ":" + column.toString() + "\n");
  proc_exit(134);
}
