// fd_prestat_get: the scratch preopen is a directory whose name length is strlen(argv[1]);
// stdio and ordinary opened files are not preopens (EBADF).
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_prestat_get");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_prestat_t ps;
  check_ok(__wasi_fd_prestat_get(dir, &ps), "prestat of the scratch preopen");
  check_eq(ps.tag, __WASI_PREOPENTYPE_DIR, "tag is dir");
  check_eq(ps.u.dir.pr_name_len, strlen(argv[1]), "name length is the guest path's length");
  check(dir >= 3, "preopens start after stdio");
  check_err(__wasi_fd_prestat_get(0, &ps), __WASI_ERRNO_BADF, "stdin is not a preopen");
  check_err(__wasi_fd_prestat_get(1, &ps), __WASI_ERRNO_BADF, "stdout is not a preopen");
  check_err(__wasi_fd_prestat_get(BAD_FD, &ps), __WASI_ERRNO_BADF, "closed fd");
  __wasi_fd_t fd;
  check_ok(__wasi_path_create_directory(dir, "sub"), "mkdir sub");
  check_ok(open_at(dir, "sub", __WASI_OFLAGS_DIRECTORY, 0, &fd), "open sub");
  check_err(__wasi_fd_prestat_get(fd, &ps), __WASI_ERRNO_BADF, "an opened directory is not a preopen");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
