// __NAME__: a command for nanovisor, in C (wasi-libc). Build: nanovisor build; run: nanovisor run __NAME__
#include <stdio.h>

int main(int argc, char **argv) {
  printf("Hello from __NAME__!\n");
  for (int i = 1; i < argc; i++) printf("arg %d: %s\n", i, argv[i]);
  return 0;
}
