// proc_exit: ends the program at once with the given code; nothing after it runs.
// `proc_exit N` exits with N (default 42) after printing one line.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("proc_exit");
  int code = argc > 1 ? atoi(argv[1]) : 42;
  printf("exiting with %d\n", code);
  fflush(stdout);
  __wasi_proc_exit((__wasi_exitcode_t)code);
  // Unreachable: if proc_exit returned, say so loudly.
  fprintf(stderr, "FAIL proc_exit: returned\n");
  return 99;
}
