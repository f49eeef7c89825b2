// Hostile guest: hands wild pointers (0xFFFFFFF0, just past the end of memory, straddling the
// end) and huge lengths (0xFFFFFFFF) to every call that takes a pointer. Every call must return
// an errno (EFAULT, or EINVAL for a misaligned pointer); the host must neither crash nor trap
// the guest, and must not write anywhere it was not asked to.
#include "common.h"
#include "raw.h"

#define W 0xFFFFFFF0u
#define H 0xFFFFFFFFu

static uint32_t END;  // first byte past linear memory
static uint8_t scratch[256] __attribute__((aligned(8)));
static uint8_t canary[64];
#define P(x) ((uint32_t)(uintptr_t)(x))

#define check_fault(expr, what) check_err2(expr, __WASI_ERRNO_FAULT, __WASI_ERRNO_INVAL, what)

int main(int argc, char **argv) {
  test_begin("hostile_pointers");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  END = (uint32_t)(__builtin_wasm_memory_size(0) * 65536u);
  memset(canary, 0x5A, sizeof canary);
  make_file(dir, "f", "0123456789");
  check_ok(__wasi_path_symlink("f", dir, "l"), "symlink l -> f");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", 0, 0, &fd), "open f");
  uint32_t ok = P(scratch);
  uint32_t ok2 = P(scratch + 64);
  const char *fname = "f";
  uint32_t fp = P(fname);

  // args / environ
  check_fault(raw_args_sizes_get(W, ok), "args_sizes_get(W, ok)");
  check_fault(raw_args_sizes_get(ok, END), "args_sizes_get(ok, END)");
  check_fault(raw_args_get(W, ok), "args_get(W, ok)");
  check_fault(raw_args_get(ok, W), "args_get(ok, W)");
  check_fault(raw_args_get(END - 2, ok), "args_get pointer array straddling the end");
  __wasi_size_t envc = 0, envsz = 0;
  check_ok(__wasi_environ_sizes_get(&envc, &envsz), "environ_sizes_get");
  check(envc > 0, "the host gave at least one variable (so environ_get has to write)");
  check_fault(raw_environ_sizes_get(W, ok), "environ_sizes_get(W, ok)");
  check_fault(raw_environ_get(W, W), "environ_get(W, W)");
  check_fault(raw_environ_get(ok, END - 1), "environ_get buffer at the last byte");
  // clocks / random
  check_fault(raw_clock_res_get(0, W), "clock_res_get(realtime, W)");
  check_fault(raw_clock_time_get(1, 0, W), "clock_time_get(monotonic, W)");
  check_fault(raw_clock_time_get(1, 0, END - 4), "clock_time_get result straddling the end");
  check_fault(raw_clock_time_get(1, 0, ok + 1), "clock_time_get misaligned result");
  check_fault(raw_random_get(W, 16), "random_get(W, 16)");
  check_fault(raw_random_get(ok, H), "random_get(ok, 0xFFFFFFFF)");
  check_fault(raw_random_get(END - 8, 16), "random_get straddling the end");
  // fd_write / fd_read / pread / pwrite
  struct { uint32_t buf, len; } iov[2] __attribute__((aligned(8)));
  uint32_t nw = ok2;
  check_fault(raw_fd_write(1, W, 1, nw), "fd_write(iovs=W)");
  check_fault(raw_fd_write(1, P(iov), H, nw), "fd_write(iovs_len=0xFFFFFFFF)");
  check_fault(raw_fd_write(1, P(iov), 0x20000000u, nw), "fd_write(iovs_len=0x20000000)");
  iov[0].buf = W; iov[0].len = 16;
  check_fault(raw_fd_write(1, P(iov), 1, nw), "fd_write(buf=W)");
  iov[0].buf = ok; iov[0].len = H;
  check_fault(raw_fd_write(1, P(iov), 1, nw), "fd_write(len=0xFFFFFFFF)");
  iov[0].buf = END - 4; iov[0].len = 8;
  check_fault(raw_fd_write(1, P(iov), 1, nw), "fd_write(buf straddling the end)");
  iov[0].buf = ok; iov[0].len = 0x7FFFFFFF; iov[1].buf = ok; iov[1].len = 0x7FFFFFFF;
  check_fault(raw_fd_write(1, P(iov), 2, nw), "fd_write(two iovecs totalling 4 GiB)");
  iov[0].buf = W; iov[0].len = 4;
  check_fault(raw_fd_read(fd, P(iov), 1, nw), "fd_read(buf=W)");
  check_fault(raw_fd_read(fd, W, 1, nw), "fd_read(iovs=W)");
  iov[0].buf = ok; iov[0].len = 4;
  check_fault(raw_fd_read(fd, P(iov), 1, W), "fd_read(nread=W)");
  iov[0].buf = ok; iov[0].len = H;
  check_fault(raw_fd_read(fd, P(iov), 1, nw), "fd_read(len=0xFFFFFFFF)");
  iov[0].buf = W; iov[0].len = 4;
  check_fault(raw_fd_pread(fd, P(iov), 1, 0, nw), "fd_pread(buf=W)");
  check_fault(raw_fd_pwrite(fd, P(iov), 1, 0, nw), "fd_pwrite(buf=W)");
  iov[0].buf = ok; iov[0].len = 1;
  check_fault(raw_fd_pread(fd, P(iov), 1, 0, W), "fd_pread(nread=W)");
  check_fault(raw_fd_pread(fd, W, H, 0, nw), "fd_pread(iovs=W, len=0xFFFFFFFF)");
  check(size_of(fd) == 10, "the file was not changed by the faulting writes");
  // fd metadata
  check_fault(raw_fd_fdstat_get(1, W), "fd_fdstat_get(W)");
  check_fault(raw_fd_fdstat_get(1, END - 8), "fd_fdstat_get straddling the end");
  check_fault(raw_fd_fdstat_get(1, ok + 4), "fd_fdstat_get misaligned");
  check_fault(raw_fd_filestat_get(fd, W), "fd_filestat_get(W)");
  check_fault(raw_fd_prestat_get(dir, W), "fd_prestat_get(W)");
  check_fault(raw_fd_prestat_dir_name(dir, W, 7), "fd_prestat_dir_name(W)");
  check_fault(raw_fd_prestat_dir_name(dir, END - 1, 7), "fd_prestat_dir_name at the last byte");
  check_fault(raw_fd_seek(fd, 0, 0, W), "fd_seek(result=W)");
  check_fault(raw_fd_tell(fd, W), "fd_tell(W)");
  check_fault(raw_fd_readdir(dir, W, 128, 0, nw), "fd_readdir(buf=W)");
  check_fault(raw_fd_readdir(dir, ok, H, 0, nw), "fd_readdir(len=0xFFFFFFFF)");
  check_fault(raw_fd_readdir(dir, ok, 128, 0, W), "fd_readdir(bufused=W)");
  // path calls: wild path pointers, huge path lengths, wild results
  check_fault(raw_path_open(dir, 0, W, 4, 0, 0, 0, 0, nw), "path_open(path=W)");
  check_fault(raw_path_open(dir, 0, fp, H, 0, 0, 0, 0, nw), "path_open(path_len=0xFFFFFFFF)");
  check_fault(raw_path_open(dir, 0, END - 2, 4, 0, 0, 0, 0, nw), "path_open(path straddling the end)");
  check_fault(raw_path_open(dir, 0, fp, 1, 0, 2, 0, 0, W), "path_open(fd result=W)");
  check_fault(raw_path_filestat_get(dir, 0, fp, 1, W), "path_filestat_get(result=W)");
  check_fault(raw_path_filestat_get(dir, 0, W, 1, ok), "path_filestat_get(path=W)");
  check_fault(raw_path_filestat_set_times(dir, 0, W, 1, 0, 0, 0), "path_filestat_set_times(path=W)");
  check_fault(raw_path_create_directory(dir, W, 5), "path_create_directory(path=W)");
  check_fault(raw_path_create_directory(dir, fp, H), "path_create_directory(len=0xFFFFFFFF)");
  check_fault(raw_path_remove_directory(dir, W, 5), "path_remove_directory(path=W)");
  check_fault(raw_path_unlink_file(dir, W, 5), "path_unlink_file(path=W)");
  check_fault(raw_path_unlink_file(dir, fp, H), "path_unlink_file(len=0xFFFFFFFF)");
  check_fault(raw_path_rename(dir, W, 1, dir, fp, 1), "path_rename(old=W)");
  check_fault(raw_path_rename(dir, fp, 1, dir, W, 1), "path_rename(new=W)");
  check_fault(raw_path_link(dir, 0, fp, 1, dir, W, 3), "path_link(new=W)");
  check_fault(raw_path_link(dir, 0, W, 1, dir, fp, 1), "path_link(old=W)");
  check_fault(raw_path_symlink(W, 3, dir, P("x"), 1), "path_symlink(target=W)");
  check_fault(raw_path_symlink(fp, 1, dir, W, 3), "path_symlink(link=W)");
  check_fault(raw_path_symlink(fp, H, dir, P("x"), 1), "path_symlink(target_len=0xFFFFFFFF)");
  check_fault(raw_path_readlink(dir, P("l"), 1, W, 16, nw), "path_readlink(buf=W)");
  check_fault(raw_path_readlink(dir, P("l"), 1, ok, H, nw), "path_readlink(buf_len=0xFFFFFFFF)");
  check_fault(raw_path_readlink(dir, P("l"), 1, ok, 16, W), "path_readlink(bufused=W)");
  check_fault(raw_path_readlink(dir, W, 1, ok, 16, nw), "path_readlink(path=W)");
  check(type_at(dir, "f") == __WASI_FILETYPE_REGULAR_FILE, "f still exists after the faulting path calls");
  // poll_oneoff
  check_fault(raw_poll_oneoff(W, ok, 1, nw), "poll_oneoff(in=W)");
  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof sub);
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  check_fault(raw_poll_oneoff(P(&sub), W, 1, nw), "poll_oneoff(out=W)");
  check_fault(raw_poll_oneoff(P(&sub), ok, 1, W), "poll_oneoff(nevents=W)");
  check_fault(raw_poll_oneoff(P(&sub), ok, H, nw), "poll_oneoff(nsubscriptions=0xFFFFFFFF)");
  check_fault(raw_poll_oneoff(P(&sub), ok, 0x10000000u, nw), "poll_oneoff(nsubscriptions=0x10000000)");
  // sockets: the fd is checked or the pointer is; an errno either way
  check_fails(raw_sock_accept(1, 0, W), "sock_accept(result=W)");
  check_fails(raw_sock_recv(1, W, H, 0, W, W), "sock_recv(all wild)");
  check_fails(raw_sock_send(1, W, H, 0, W), "sock_send(all wild)");

  int intact = 1;
  for (size_t i = 0; i < sizeof canary; i++) if (canary[i] != 0x5A) intact = 0;
  check(intact, "guest memory outside the buffers is untouched");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
