// Hostile guest: allocates 1 MiB blocks (touching every page) until malloc fails, then reports
// how much it got and exits 0. The host's memory limit must make malloc fail inside the guest
// (memory.grow returning -1), not kill the host; the host test checks the reported total is
// below the limit it set.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  size_t total = 0;
  for (;;) {
    char *p = malloc(1 << 20);
    if (p == NULL) break;
    memset(p, 0xAB, 1 << 20);
    total += 1 << 20;
    if (total > (size_t)4 << 30) break;  // cannot happen in wasm32; keeps the loop finite
  }
  printf("malloc failed after %zu MiB\n", total >> 20);
  return 0;
}
