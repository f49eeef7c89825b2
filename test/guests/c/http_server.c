// A long-running HTTP/1.1 server on the preopened listening socket (fd 3): accepts with
// sock_accept, reads one request (head and Content-Length body), answers, closes, and
// accepts the next. State lives in its memory: a counter and a heap-allocated log of the
// paths it served, so a test can tell whether memory survived a sleep and a wake.
//
// The last segment of the path picks what to do (an app's route prefix comes before it):
//   GET  /count        counter + 1, answers "count=N served=M last=PATH"
//   GET  /peek         the same without counting
//   POST /echo         the body back, with the request id it was sent
//   GET  /crash        exits 3 (the platform restarts it)
//   GET  /spin         never answers (a loop with no system call)
//   GET  /nap?ms=N     sleeps N ms in poll_oneoff, then answers "napped"
//
// argv[1] (optional): a start-up cost in ms, spent before the first accept (what a
// deploy-time snapshot saves every wake).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wasi/api.h>

static long counter;
static char **served;
static size_t nserved, capserved;

static void remember(const char *path) {
  if (nserved == capserved) {
    capserved = capserved ? capserved * 2 : 8;
    served = realloc(served, capserved * sizeof *served);
  }
  served[nserved++] = strdup(path);
}

static int send_all(__wasi_fd_t fd, const char *p, size_t len) {
  while (len > 0) {
    __wasi_ciovec_t iov = {(const uint8_t *)p, len};
    __wasi_size_t n;
    if (__wasi_sock_send(fd, &iov, 1, 0, &n) != 0 || n == 0) return -1;
    p += n;
    len -= n;
  }
  return 0;
}

static void answer(__wasi_fd_t fd, int status, const char *reason, const char *rid, const char *body, size_t len) {
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nX-Seen-Request-Id: %s\r\nConnection: close\r\n\r\n",
                   status, reason, len, rid);
  if (send_all(fd, head, (size_t)n) == 0) send_all(fd, body, len);
}

static void nap(long ms) {
  __wasi_subscription_t sub = {0};
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  sub.u.u.clock.timeout = (uint64_t)ms * 1000000ull;
  __wasi_event_t ev;
  __wasi_size_t n;
  (void)!__wasi_poll_oneoff(&sub, &ev, 1, &n);
}

static const char *header(char *head, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  for (char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
    char *h = line + 2;
    if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
      h += nl + 1;
      while (*h == ' ') h++;
      size_t i = 0;
      while (h[i] != '\r' && h[i] != 0 && i + 1 < cap) { out[i] = h[i]; i++; }
      out[i] = 0;
      return out;
    }
  }
  out[0] = 0;
  return out;
}

static void serve(__wasi_fd_t fd) {
  static char buf[65536];
  size_t have = 0;
  char *end = NULL;
  while (have < sizeof buf - 1) {
    __wasi_iovec_t iov = {(uint8_t *)buf + have, sizeof buf - 1 - have};
    __wasi_size_t n;
    __wasi_roflags_t ro;
    if (__wasi_sock_recv(fd, &iov, 1, 0, &n, &ro) != 0 || n == 0) break;
    have += n;
    buf[have] = 0;
    if ((end = strstr(buf, "\r\n\r\n")) != NULL) break;
  }
  if (end == NULL) return;
  *end = 0;
  char method[16] = {0}, path[1024] = {0}, rid[128], cl[32];
  sscanf(buf, "%15s %1023s", method, path);
  header(buf, "x-request-id", rid, sizeof rid);
  size_t length = (size_t)atol(header(buf, "content-length", cl, sizeof cl));
  char *body = end + 4;
  size_t got = have - (size_t)(body - buf);
  while (got < length && (size_t)(body - buf) + got < sizeof buf - 1) {
    __wasi_iovec_t iov = {(uint8_t *)body + got, sizeof buf - 1 - (size_t)(body - buf) - got};
    __wasi_size_t n;
    __wasi_roflags_t ro;
    if (__wasi_sock_recv(fd, &iov, 1, 0, &n, &ro) != 0 || n == 0) break;
    got += n;
  }
  char out[2048];
  const char *leaf = strrchr(path, '/');
  if (leaf == NULL) leaf = path;
  if (strcmp(leaf, "/count") == 0 || strcmp(leaf, "/peek") == 0) {
    if (leaf[1] == 'c') counter++;
    remember(path);
    int n = snprintf(out, sizeof out, "count=%ld served=%zu last=%s\n", counter, nserved, served[nserved - 1]);
    answer(fd, 200, "OK", rid, out, (size_t)n);
  } else if (strcmp(method, "POST") == 0 && strcmp(leaf, "/echo") == 0) {
    remember(path);
    answer(fd, 200, "OK", rid, body, got);
  } else if (strcmp(leaf, "/crash") == 0) {
    __wasi_proc_exit(3);
  } else if (strcmp(leaf, "/spin") == 0) {
    for (volatile unsigned long i = 0;; i++) {}
  } else if (strncmp(leaf, "/nap?ms=", 8) == 0) {
    nap(atol(leaf + 8));
    answer(fd, 200, "OK", rid, "napped\n", 7);
  } else {
    answer(fd, 404, "Not Found", rid, "no such path\n", 13);
  }
}

int main(int argc, char **argv) {
  if (argc > 1) nap(atol(argv[1]));
  for (;;) {
    __wasi_fd_t conn;
    __wasi_errno_t err = __wasi_sock_accept(3, 0, &conn);
    if (err != 0) {
      fprintf(stderr, "http_server: sock_accept failed: errno %d\n", err);
      return 1;
    }
    serve(conn);
    (void)!__wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR);
    (void)!__wasi_fd_close(conn);
  }
}
