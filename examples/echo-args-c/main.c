// Prints its arguments one per line, then the environment variables it was given, sorted:
//   args:
//   echo-args-c
//   first argument
//   env:
//   A=1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int by_string(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  puts("args:");
  for (int i = 0; i < argc; i++) puts(argv[i]);
  size_t n = 0;
  while (environ && environ[n]) n++;
  char **sorted = malloc((n + 1) * sizeof *sorted);
  if (sorted == NULL) return 1;
  memcpy(sorted, environ, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, by_string);
  puts("env:");
  for (size_t i = 0; i < n; i++) puts(sorted[i]);
  free(sorted);
  return 0;
}
