// environ_get: every variable the host was given as "KEY=VALUE", NUL-terminated, packed into
// environ_buf (order is not specified). Expected environment (the host test passes exactly this):
//   A=1  EMPTY=  WITH_EQ=a=b  UNI=é✓
#include "common.h"

static const char *const want[] = {"A=1", "EMPTY=", "WITH_EQ=a=b", "UNI=\xc3\xa9\xe2\x9c\x93"};
#define N (sizeof want / sizeof want[0])

int main(void) {
  test_begin("environ_get");
  __wasi_size_t count = 0, size = 0;
  check_ok(__wasi_environ_sizes_get(&count, &size), "environ_sizes_get");
  check_eq(count, N, "environ count matches the host's environment");
  uint8_t *ptrs[16];
  uint8_t buf[256];
  memset(buf, 0xAA, sizeof buf);
  check(size < sizeof buf, "environ fits the test buffer");
  check_ok(__wasi_environ_get(ptrs, buf), "environ_get");
  size_t expect_size = 0;
  for (size_t i = 0; i < N; i++) {
    int found = 0;
    for (size_t j = 0; j < count; j++) {
      check(ptrs[j] >= buf && ptrs[j] < buf + size, "environ pointer lies inside environ_buf");
      if (strcmp((const char *)ptrs[j], want[i]) == 0) found++;
    }
    char what[64];
    snprintf(what, sizeof what, "\"%s\" present exactly once", want[i]);
    check(found == 1, what);
    expect_size += strlen(want[i]) + 1;
  }
  check_eq(size, expect_size, "environ_buf_size counts every string with its NUL");
  check(buf[size] == 0xAA, "environ_get writes nothing past environ_buf_size");
  test_end();
  return 0;
}
