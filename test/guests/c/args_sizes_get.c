// args_sizes_get: number of arguments and the size of the buffer args_get needs (every
// string's bytes plus its NUL). Run with `args_sizes_get a bc def` (4 args, 15+2+3+4 = 24 bytes)
// or with argv[0] only, when argv[0] is "only-argv0" (1 arg, 11 bytes).
#include "common.h"

int main(void) {
  test_begin("args_sizes_get");
  __wasi_size_t argc = 0xDEAD, size = 0xBEEF;
  check_ok(__wasi_args_sizes_get(&argc, &size), "args_sizes_get");
  uint8_t *ptrs[8];
  uint8_t buf[128];
  check(argc <= 8 && size <= sizeof buf, "sizes are small");
  check_ok(__wasi_args_get(ptrs, buf), "args_get");
  if (strcmp((const char *)ptrs[0], "only-argv0") == 0) {
    check_eq(argc, 1, "argc is 1 with argv[0] alone");
    check_eq(size, 11, "argv_buf_size is strlen(argv[0]) + 1");
  } else {
    check_eq(argc, 4, "argc is 4");
    check_eq(size, 24, "argv_buf_size is 15 + 2 + 3 + 4");
    check(strcmp((const char *)ptrs[3], "def") == 0, "argv[3] is def");
  }
  test_end();
  return 0;
}
