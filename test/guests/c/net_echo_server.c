// Accepts connections on the preopened listening socket (fd 3) with sock_accept, reads a
// line with sock_recv, answers "echo: <line>" with sock_send, then shuts the write side
// down with sock_shutdown. argv[1] = how many connections to serve.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static int fail(const char *what, int err) {
  fprintf(stderr, "net_echo_server: %s failed: errno %d\n", what, err);
  return 1;
}

int main(int argc, char **argv) {
  int count = argc > 1 ? atoi(argv[1]) : 1;
  __wasi_fdstat_t st;
  int err = __wasi_fd_fdstat_get(3, &st);
  if (err) return fail("fd_fdstat_get", err);
  if (st.fs_filetype != __WASI_FILETYPE_SOCKET_STREAM) return fail("listener filetype", st.fs_filetype);
  // A non-socket fd must answer ENOTSOCK.
  __wasi_fd_t dummy;
  if (__wasi_sock_accept(1, 0, &dummy) != __WASI_ERRNO_NOTSOCK) return fail("sock_accept on stdout", 0);
  for (int i = 0; i < count; i++) {
    __wasi_fd_t conn;
    err = __wasi_sock_accept(3, 0, &conn);
    if (err) return fail("sock_accept", err);
    char buf[512];
    size_t have = 0;
    while (have < sizeof buf - 1) {
      __wasi_iovec_t iov = {(uint8_t *)buf + have, sizeof buf - 1 - have};
      __wasi_size_t n;
      __wasi_roflags_t ro;
      err = __wasi_sock_recv(conn, &iov, 1, 0, &n, &ro);
      if (err) return fail("sock_recv", err);
      if (n == 0) break;
      have += n;
      if (memchr(buf, '\n', have)) break;
    }
    buf[have] = 0;
    char out[600];
    int len = snprintf(out, sizeof out, "echo: %s", buf);
    __wasi_ciovec_t ciov = {(const uint8_t *)out, (size_t)len};
    __wasi_size_t sent;
    err = __wasi_sock_send(conn, &ciov, 1, 0, &sent);
    if (err) return fail("sock_send", err);
    if ((int)sent != len) return fail("short sock_send", (int)sent);
    err = __wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR);
    if (err) return fail("sock_shutdown", err);
    if (__wasi_sock_shutdown(conn, 0) != __WASI_ERRNO_INVAL) return fail("sock_shutdown with no flags", 0);
    if (__wasi_fd_close(conn)) return fail("fd_close", 0);
  }
  printf("served %d\n", count);
  return 0;
}
