// Hostile guest: writes to stdout without end (64 KiB per call). The host's output budget must
// stop it; the host test expects outcome 'output-limit' and at most the budget captured.
#include <wasi/api.h>
#include <string.h>

static char block[65536];

int main(void) {
  memset(block, 'F', sizeof block);
  for (;;) {
    __wasi_ciovec_t iov = {(const uint8_t *)block, sizeof block};
    __wasi_size_t n;
    if (__wasi_fd_write(1, &iov, 1, &n) != 0) return 3;  // an errno instead of a stop: report it
  }
}
