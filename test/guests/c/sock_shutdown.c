// sock_shutdown: ENOTSOCK on stdio and files, EBADF on a closed fd. Shutting down a real
// connection is covered by net_echo_server (test/network.test.ts).
#include "common.h"

int main(int argc, char **argv) {
  test_begin("sock_shutdown");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  check_err2(__wasi_sock_shutdown(1, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "shutdown stdout");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_err2(__wasi_sock_shutdown(fd, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "shutdown a file");
  check_err(__wasi_sock_shutdown(BAD_FD, __WASI_SDFLAGS_RD), __WASI_ERRNO_BADF, "shutdown a closed fd");
  check_ok(__wasi_fd_close(fd), "close");
  check(1, "stdout still works after a refused shutdown");
  test_end();
  return 0;
}
