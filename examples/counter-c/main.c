/*
 * counter-c: a CGI app that keeps a counter in a file of a volume (docs/volumes.md).
 * POST adds one and answers the new value; GET answers the value. The file is written in
 * place and fsync'ed before the answer, so a 2xx means the value is on disk. Two VMs must
 * not run it at once on one volume (read, add, write is not atomic): give it an exclusive
 * volume, as `nanovisor volume create counter --access exclusive`.
 *
 *   nanovisor deploy build/examples/counter-c --volume counter:/data
 *   curl -X POST localhost:8080/counter-c   # 1
 *
 * COUNTER_FILE names another file (bench/volumes.ts runs the same source natively with it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COUNTER_FILE "/data/counter"

static int fail(const char *what) {
  printf("Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n%s: %s\n", what, strerror(errno));
  fprintf(stderr, "counter-c: %s: %s\n", what, strerror(errno));
  return 0;
}

int main(void) {
  const char *method = getenv("REQUEST_METHOD");
  int increment = method != NULL && strcmp(method, "POST") == 0;
  const char *file = getenv("COUNTER_FILE");
  if (file == NULL || file[0] == '\0') file = COUNTER_FILE;
  int fd = open(file, increment ? O_RDWR | O_CREAT : O_RDONLY, 0644);
  if (fd < 0 && !(errno == ENOENT && !increment)) return fail("open");
  char buf[32] = {0};
  long value = 0;
  if (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) return fail("read");
    value = strtol(buf, NULL, 10);
  }
  if (increment) {
    value++;
    int len = snprintf(buf, sizeof buf, "%ld\n", value);
    if (pwrite(fd, buf, (size_t)len, 0) != len) return fail("write");
    if (ftruncate(fd, len) != 0) return fail("truncate");
    if (fsync(fd) != 0) return fail("fsync");
  }
  if (fd >= 0) close(fd);
  printf("Content-Type: text/plain\r\n\r\n%ld\n", value);
  return 0;
}
