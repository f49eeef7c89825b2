// sock_accept: the errno cases a guest can reach without a listener: ENOTSOCK on stdio, a file
// and a directory (ENOTCAPABLE where a host checks rights first: none of them has sock_accept),
// EBADF on a closed fd. Accepting real connections is covered by net_echo_server
// (test/network.test.ts).
#include "common.h"

int main(int argc, char **argv) {
  test_begin("sock_accept");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t conn = 12345;
  check_err2(__wasi_sock_accept(1, 0, &conn), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "accept on stdout");
  check_err2(__wasi_sock_accept(0, 0, &conn), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "accept on stdin");
  check_err2(__wasi_sock_accept(dir, 0, &conn), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "accept on a directory");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_err2(__wasi_sock_accept(fd, 0, &conn), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "accept on a file");
  check_err(__wasi_sock_accept(BAD_FD, 0, &conn), __WASI_ERRNO_BADF, "accept on a closed fd");
  check_eq(conn, 12345, "nothing written to the result on failure");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
