// stdin_poll: poll() on stdin waits for data or its timeout. argv[1] is the first timeout
// in ms; prints "first=timeout" or "first=ready", flushed. If argv[2] is given, polls again
// with that timeout and, once ready, reads one chunk and prints "second=ready data=<bytes>"
// (or "second=eof" / "second=timeout").
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *wait_stdin(int ms) {
  struct pollfd p = {.fd = 0, .events = POLLIN};
  int n = poll(&p, 1, ms);
  if (n < 0) return "error";
  return n == 0 ? "timeout" : "ready";
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  printf("first=%s\n", wait_stdin(atoi(argv[1])));
  fflush(stdout);
  if (argc < 3) return 0;
  const char *second = wait_stdin(atoi(argv[2]));
  if (second[0] != 'r') {
    printf("second=%s\n", second);
    return 0;
  }
  char buf[64];
  ssize_t got = read(0, buf, sizeof buf - 1);
  if (got <= 0) {
    printf("second=eof\n");
    return 0;
  }
  buf[got] = 0;
  printf("second=ready data=%s", buf);
  return 0;
}
