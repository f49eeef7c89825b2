/*
 * The benchmark's echo app, one source for every peer that runs compiled code: built for
 * wasm32-wasi (nanovisor, node:wasi) and natively with gcc (a process per request).
 * A CGI program: it answers "<METHOD> <PATH_INFO>?<QUERY_STRING>\n" followed by the
 * request body read from stdin. bench/peers/echo-worker.js answers the same for workerd.
 */
#include <stdio.h>
#include <stdlib.h>

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

int main(void) {
  printf("Content-Type: text/plain\n\n%s %s?%s\n", env("REQUEST_METHOD"), env("PATH_INFO"), env("QUERY_STRING"));
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
  return 0;
}
