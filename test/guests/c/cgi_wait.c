// A CGI guest that waits or spins, for concurrency tests and benchmarks. QUERY_STRING (or
// argv[1] when there is no QUERY_STRING) is `sleep=MS` — sleep MS milliseconds in poll_oneoff
// (usleep) — `spin=1` — loop forever without a system call — or `work=N` — N million
// iterations of a loop, then answer (a CPU-bound request of fixed size). It answers with the
// realtime clock (ns) when it started and when it finished waiting, so a test can check from
// the guests' side that their waits overlapped.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

volatile unsigned long spins;

int main(int argc, char **argv) {
  const char *q = getenv("QUERY_STRING");
  if ((q == NULL || *q == '\0') && argc > 1) q = argv[1];
  if (q == NULL) q = "";
  long long start = now_ns();
  if (strncmp(q, "spin=", 5) == 0) {
    for (;;) spins++;
  }
  if (strncmp(q, "work=", 5) == 0) {
    long n = strtol(q + 5, NULL, 10) * 1000000L;
    for (long i = 0; i < n; i++) spins++;
  }
  long ms = strncmp(q, "sleep=", 6) == 0 ? strtol(q + 6, NULL, 10) : 0;
  if (ms > 0) usleep((useconds_t)ms * 1000);
  long long end = now_ns();
  printf("Content-Type: text/plain\r\n\r\n%lld %lld\n", start, end);
  return 0;
}
