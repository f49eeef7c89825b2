/* A tiny HTTP server that keeps state in memory: every request increments a counter and
 * answers "count=N id=<x-request-id>". Built static with gcc for the linux driver's tests. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN); /* the readiness probe hangs up without reading */
  int port = argc > 1 ? atoi(argv[1]) : 8080;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 64) != 0) { perror("listen"); return 1; }
  long count = 0;
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    char buf[8192];
    size_t got = 0;
    while (got < sizeof buf - 1) {
      ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
      if (n <= 0) break;
      got += (size_t)n;
      buf[got] = 0;
      if (strstr(buf, "\r\n\r\n") != NULL) break;
    }
    buf[got] = 0;
    char id[128] = "";
    char *h = strcasestr(buf, "\r\nx-request-id: ");
    if (h != NULL) sscanf(h + 16, "%127[^\r\n]", id);
    if (strncmp(buf, "GET /count/crash", 16) == 0) return 3; /* a crash, for the restart test */
    count++;
    char body[256];
    int blen = snprintf(body, sizeof body, "count=%ld id=%s\n", count, id);
    char out[512];
    int olen = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", blen, body);
    (void)write(c, out, (size_t)olen);
    close(c);
  }
}
