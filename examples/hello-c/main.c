// Hello world in C (wasi-libc).
#include <stdio.h>

int main(void) {
  printf("Hello, world! (C on nanovisor)\n");
  return 0;
}
