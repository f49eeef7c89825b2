// fd_close: closes once; a second close, or any use afterwards, is EBADF. Closing a preopen is
// allowed and takes it out of the prestat list.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_close");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_ok(__wasi_fd_close(fd), "close the file");
  check_err(__wasi_fd_close(fd), __WASI_ERRNO_BADF, "close it again");
  __wasi_size_t n;
  __wasi_ciovec_t iov = {(const uint8_t *)"x", 1};
  check_err(__wasi_fd_write(fd, &iov, 1, &n), __WASI_ERRNO_BADF, "write after close");
  __wasi_fdstat_t st;
  check_err(__wasi_fd_fdstat_get(fd, &st), __WASI_ERRNO_BADF, "fdstat after close");
  check_err(__wasi_fd_close(BAD_FD), __WASI_ERRNO_BADF, "close an fd never opened");
  check_err(__wasi_fd_close(0xFFFFFFFFu), __WASI_ERRNO_BADF, "close fd 0xFFFFFFFF");
  // Many opens and closes do not leak descriptors.
  for (int i = 0; i < 3000; i++) {
    __wasi_fd_t t;
    if (open_at(dir, "f", 0, 0, &t) != 0 || __wasi_fd_close(t) != 0) nv_fail(__FILE__, __LINE__, "open/close loop", "");
  }
  check(1, "3000 open/close pairs");
  __wasi_fd_t d2;
  check_ok(open_at(dir, ".", __WASI_OFLAGS_DIRECTORY, 0, &d2), "open the directory itself");
  check_ok(__wasi_fd_close(d2), "close a directory fd");
  check_ok(__wasi_fd_close(dir), "close the preopen");
  __wasi_prestat_t ps;
  check_err(__wasi_fd_prestat_get(dir, &ps), __WASI_ERRNO_BADF, "prestat of the closed preopen");
  check_err(open_at(dir, "f", 0, 0, &fd), __WASI_ERRNO_BADF, "path_open under the closed preopen");
  test_end();
  return 0;
}
