/*
 * The few WASI preview1 calls test/guests/c/http_server.c makes, over POSIX sockets, so the
 * same source runs natively as the benchmark's peer (bench/wasi-server.ts). The listening
 * socket is made before main (on 127.0.0.1:$NV_PORT) and placed at fd 3, where a
 * nanovisor server finds its preopened listener.
 */
#ifndef NV_NATIVE_WASI_H
#define NV_NATIVE_WASI_H
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

typedef int __wasi_fd_t;
typedef uint16_t __wasi_errno_t;
typedef size_t __wasi_size_t;
typedef uint16_t __wasi_roflags_t;
typedef struct { uint8_t *buf; size_t buf_len; } __wasi_iovec_t;
typedef struct { const uint8_t *buf; size_t buf_len; } __wasi_ciovec_t;
#define __WASI_EVENTTYPE_CLOCK 0
#define __WASI_CLOCKID_MONOTONIC 1
#define __WASI_SDFLAGS_WR 2
typedef struct { struct { int tag; struct { struct { int id; uint64_t timeout; } clock; } u; } u; } __wasi_subscription_t;
typedef struct { int unused; } __wasi_event_t;

__attribute__((constructor)) static void nv_listen(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)atoi(getenv("NV_PORT") ? getenv("NV_PORT") : "0"));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 512) != 0) _exit(2);
  if (s != 3) { dup2(s, 3); close(s); }
}
static inline __wasi_errno_t __wasi_sock_accept(__wasi_fd_t fd, int flags, __wasi_fd_t *out) {
  (void)flags;
  int c = accept(fd, NULL, NULL);
  if (c < 0) return (__wasi_errno_t)errno;
  *out = c;
  return 0;
}
static inline __wasi_errno_t __wasi_sock_recv(__wasi_fd_t fd, const __wasi_iovec_t *iov, size_t n, int flags, __wasi_size_t *nread, __wasi_roflags_t *ro) {
  (void)flags;
  ssize_t r = readv(fd, (const struct iovec *)iov, (int)n);
  if (r < 0) return (__wasi_errno_t)errno;
  *nread = (size_t)r;
  *ro = 0;
  return 0;
}
static inline __wasi_errno_t __wasi_sock_send(__wasi_fd_t fd, const __wasi_ciovec_t *iov, size_t n, int flags, __wasi_size_t *sent) {
  (void)flags;
  ssize_t r = writev(fd, (const struct iovec *)iov, (int)n);
  if (r < 0) return (__wasi_errno_t)errno;
  *sent = (size_t)r;
  return 0;
}
static inline __wasi_errno_t __wasi_sock_shutdown(__wasi_fd_t fd, int how) { (void)how; return shutdown(fd, SHUT_WR) == 0 ? 0 : (__wasi_errno_t)errno; }
static inline __wasi_errno_t __wasi_fd_close(__wasi_fd_t fd) { return close(fd) == 0 ? 0 : (__wasi_errno_t)errno; }
static inline __wasi_errno_t __wasi_poll_oneoff(const __wasi_subscription_t *s, __wasi_event_t *e, size_t n, __wasi_size_t *out) {
  (void)e; (void)n;
  struct timespec t = { (time_t)(s->u.u.clock.timeout / 1000000000ull), (long)(s->u.u.clock.timeout % 1000000000ull) };
  nanosleep(&t, NULL);
  *out = 1;
  return 0;
}
static inline _Noreturn void __wasi_proc_exit(int code) { _exit(code); }
#endif
