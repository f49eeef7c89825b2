// sock_recv: ENOTSOCK on stdio and files, EBADF on a closed fd. Receiving on a real
// connection is covered by net_echo_server (test/network.test.ts).
#include "common.h"

int main(int argc, char **argv) {
  test_begin("sock_recv");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  uint8_t buf[16];
  __wasi_iovec_t iov = {buf, sizeof buf};
  __wasi_size_t n;
  __wasi_roflags_t ro;
  check_err2(__wasi_sock_recv(0, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "recv on stdin");
  make_file(dir, "f", "data");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", 0, 0, &fd), "open f");
  check_err2(__wasi_sock_recv(fd, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "recv on a file");
  check_err2(__wasi_sock_recv(fd, &iov, 1, __WASI_RIFLAGS_RECV_PEEK, &n, &ro), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE, "recv PEEK on a file");
  check_err(__wasi_sock_recv(BAD_FD, &iov, 1, 0, &n, &ro), __WASI_ERRNO_BADF, "recv on a closed fd");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
