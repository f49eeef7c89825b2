// Hostile guest: allocates 1 MiB blocks (touching every page) until malloc fails, then reports
// how much it got and exits 0. The host's memory limit must make malloc fail inside the guest
// (memory.grow returning -1), not kill the host; the host test checks the reported total is
// below the limit it set.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Every block is kept reachable so the compiler cannot drop the allocations.
static char *volatile blocks[4096];

int main(void) {
  size_t mib = 0;
  // wasm32 cannot hold 4096 MiB, so this bound only keeps the loop finite.
  while (mib < 4096) {
    char *p = malloc(1 << 20);
    if (p == NULL) break;
    memset(p, 0xAB, 1 << 20);
    blocks[mib++] = p;
  }
  printf("malloc failed after %zu MiB\n", mib);
  return blocks[0] != NULL && blocks[0][0] != (char)0xAB;
}
