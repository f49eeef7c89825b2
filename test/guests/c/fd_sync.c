// fd_sync: succeeds on a writable file and on a directory; needs the fd_sync right.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_sync");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_ok(write_all(fd, "durable", 7), "write");
  check_ok(__wasi_fd_sync(fd), "sync a file");
  check_eq(size_of(fd), 7, "size after sync");
  check_err(__wasi_fd_sync(BAD_FD), __WASI_ERRNO_BADF, "sync on a closed fd");
  __wasi_fdstat_t st;
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check_ok(__wasi_fd_fdstat_set_rights(fd, st.fs_rights_base & ~__WASI_RIGHTS_FD_SYNC, 0), "drop fd_sync");
  check_err(__wasi_fd_sync(fd), __WASI_ERRNO_NOTCAPABLE, "sync without the right");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
