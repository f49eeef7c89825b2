// __NAME__: an HTTP handler for nanovisor, in C (wasi-libc). The gateway runs it once per
// request as CGI 1.1: the request is in the environment (REQUEST_METHOD, PATH_INFO,
// QUERY_STRING, CONTENT_LENGTH, HTTP_*) and the body on stdin; the answer is headers, an
// empty line and the body on stdout (docs/gateway.md).
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const char *method = getenv("REQUEST_METHOD");
  const char *path = getenv("PATH_INFO");
  const char *length = getenv("CONTENT_LENGTH");
  long n = length == NULL ? 0 : atol(length);
  printf("Content-Type: text/plain\n\n");
  printf("Hello from __NAME__: %s %s\n", method == NULL ? "GET" : method, path == NULL || *path == '\0' ? "/" : path);
  if (n > 0) {
    printf("you sent: ");
    int c;
    while (n-- > 0 && (c = getchar()) != EOF) putchar(c);
    printf("\n");
  }
  return 0;
}
