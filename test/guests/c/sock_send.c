// sock_send: ENOTSOCK on stdio and files (nothing reaches stdout), EBADF on a closed fd.
// Sending on a real connection is covered by net_echo_server (test/network.test.ts).
#include "common.h"

int main(int argc, char **argv) {
  test_begin("sock_send");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_ciovec_t iov = {(const uint8_t *)"LEAK\n", 5};
  __wasi_size_t n;
  fflush(stdout);
  check_err2(__wasi_sock_send(1, &iov, 1, 0, &n), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "send on stdout");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_err2(__wasi_sock_send(fd, &iov, 1, 0, &n), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "send on a file");
  check_eq(size_of(fd), 0, "nothing written to the file");
  check_err(__wasi_sock_send(BAD_FD, &iov, 1, 0, &n), __WASI_ERRNO_BADF, "send on a closed fd");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
