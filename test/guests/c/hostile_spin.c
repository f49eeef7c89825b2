// Hostile guest: an infinite loop that makes no system call. Only the host's time limit can
// stop it; the host test expects outcome 'timeout'.
#include <stdio.h>

volatile unsigned long counter;

int main(void) {
  puts("spinning");
  fflush(stdout);
  for (;;) counter++;
}
