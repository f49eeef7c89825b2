// random_get: fills the buffer with random bytes; zero length is fine; large buffers work.
#include "common.h"

static uint8_t big[65536];

int main(void) {
  test_begin("random_get");
  uint8_t a[64], b[64];
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  check_ok(__wasi_random_get(a, sizeof a), "random_get 64 bytes");
  check_ok(__wasi_random_get(b, sizeof b), "random_get 64 more bytes");
  int zero = 1;
  for (size_t i = 0; i < sizeof a; i++) if (a[i]) zero = 0;
  check(!zero, "64 random bytes are not all zero");
  check(memcmp(a, b, sizeof a) != 0, "two draws differ");
  uint8_t guard[4] = {7, 7, 7, 7};
  check_ok(__wasi_random_get(guard + 1, 0), "zero-length random_get");
  check(guard[0] == 7 && guard[1] == 7, "zero-length random_get writes nothing");
  check_ok(__wasi_random_get(big, sizeof big), "random_get 64 KiB");
  unsigned counts[256] = {0};
  for (size_t i = 0; i < sizeof big; i++) counts[big[i]]++;
  unsigned lo = ~0u, hi = 0;
  for (int i = 0; i < 256; i++) {
    if (counts[i] < lo) lo = counts[i];
    if (counts[i] > hi) hi = counts[i];
  }
  // 256 expected per value; a CSPRNG lands far inside these bounds.
  check(lo > 150 && hi < 380, "byte values are spread evenly over 64 KiB");
  test_end();
  return 0;
}
