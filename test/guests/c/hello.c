// The smallest C guest: prints one line through wasi-libc's stdio.
#include <stdio.h>

int main(void) {
  puts("hello from C");
  return 0;
}
