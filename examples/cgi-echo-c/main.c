// A CGI 1.1 handler (as WAGI and nanovisor's gateway run them): the request is in the
// environment (REQUEST_METHOD, PATH_INFO, QUERY_STRING, CONTENT_LENGTH, HTTP_*) and the body on
// stdin; the response is headers, a blank line and the body on stdout.
// It echoes the method, path, query, request headers and body. PATH_INFO /status/NNN answers
// with status NNN.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v ? v : fallback;
}

static const char *reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 418: return "I'm a teapot";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

static int by_string(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
  const char *method = env_or("REQUEST_METHOD", "GET");
  const char *path = env_or("PATH_INFO", "");
  const char *query = env_or("QUERY_STRING", "");
  long length = atol(env_or("CONTENT_LENGTH", "0"));
  if (length < 0) length = 0;

  int status = 200;
  if (strncmp(path, "/status/", 8) == 0) {
    char *end;
    long s = strtol(path + 8, &end, 10);
    status = (*end == 0 && s >= 200 && s <= 599) ? (int)s : 400;
  }

  // The body: exactly CONTENT_LENGTH bytes (fewer if stdin ends first).
  char *body = malloc((size_t)length + 1);
  if (body == NULL) return 1;
  size_t got = fread(body, 1, (size_t)length, stdin);
  body[got] = 0;

  printf("Status: %d %s\n", status, reason(status));
  printf("Content-Type: text/plain\n");
  printf("\n");
  printf("method: %s\n", method);
  printf("path: %s\n", path);
  printf("query: %s\n", query);
  size_t n = 0;
  for (char **e = environ; e && *e; e++) n++;
  char **headers = malloc((n + 1) * sizeof *headers);
  size_t h = 0;
  for (char **e = environ; e && *e; e++) {
    if (strncmp(*e, "HTTP_", 5) == 0) headers[h++] = *e;
  }
  qsort(headers, h, sizeof *headers, by_string);
  for (size_t i = 0; i < h; i++) printf("header: %s\n", headers[i]);
  printf("body: %zu bytes\n", got);
  fwrite(body, 1, got, stdout);
  return 0;
}
