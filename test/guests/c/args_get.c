// args_get: the host must hand over argv exactly as given, each string NUL-terminated,
// packed into argv_buf, with the pointer array in order.
// Expected argv (the host test passes exactly this):
//   args_get alpha "with space" "ünïcode ✓" "" --flag=a=b
#include "common.h"

static const char *const want[] = {"args_get", "alpha", "with space", "\xc3\xbc" "n" "\xc3\xaf" "code \xe2\x9c\x93", "", "--flag=a=b"};
#define N (sizeof want / sizeof want[0])

int main(void) {
  test_begin("args_get");
  __wasi_size_t argc = 0, size = 0;
  check_ok(__wasi_args_sizes_get(&argc, &size), "args_sizes_get");
  check_eq(argc, N, "argc matches the host's argv");
  uint8_t *ptrs[16];
  uint8_t buf[256];
  memset(buf, 0xAA, sizeof buf);
  check(size <= sizeof buf, "argv fits the test buffer");
  check_ok(__wasi_args_get(ptrs, buf), "args_get");
  size_t expect_size = 0;
  for (size_t i = 0; i < N; i++) {
    char what[64];
    snprintf(what, sizeof what, "argv[%zu] is \"%s\"", i, want[i]);
    check(ptrs[i] >= buf && ptrs[i] < buf + size, "argv pointer lies inside argv_buf");
    check(strcmp((const char *)ptrs[i], want[i]) == 0, what);
    expect_size += strlen(want[i]) + 1;
  }
  for (size_t i = 1; i < N; i++) check(ptrs[i] > ptrs[i - 1], "argv strings are stored in order");
  check_eq(size, expect_size, "argv_buf_size counts every string with its NUL");
  check(buf[size - 1] == 0, "the last string is NUL-terminated");
  check(buf[size] == 0xAA, "args_get writes nothing past argv_buf_size");
  test_end();
  return 0;
}
