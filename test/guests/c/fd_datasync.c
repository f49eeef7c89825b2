// fd_datasync: succeeds on a writable file and keeps its data; needs the fd_datasync right.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_datasync");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_ok(write_all(fd, "durable", 7), "write");
  check_ok(__wasi_fd_datasync(fd), "datasync");
  char buf[16];
  check_eq(slurp(dir, "f", buf, sizeof buf), 7, "data visible through a new fd");
  check_err(__wasi_fd_datasync(BAD_FD), __WASI_ERRNO_BADF, "datasync on a closed fd");
  __wasi_fdstat_t st;
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check_ok(__wasi_fd_fdstat_set_rights(fd, st.fs_rights_base & ~__WASI_RIGHTS_FD_DATASYNC, 0), "drop fd_datasync");
  check_err(__wasi_fd_datasync(fd), __WASI_ERRNO_NOTCAPABLE, "datasync without the right");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
