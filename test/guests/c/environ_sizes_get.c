// environ_sizes_get: count of variables and the buffer size environ_get needs.
// `environ_sizes_get none` expects an empty environment (the host's secure default);
// `environ_sizes_get two` expects exactly X=1 and LONGER_NAME=value (4 + 18 = 22 bytes).
#include "common.h"

int main(int argc, char **argv) {
  test_begin("environ_sizes_get");
  const char *mode = argc > 1 ? argv[1] : "none";
  __wasi_size_t count = 0xDEAD, size = 0xBEEF;
  check_ok(__wasi_environ_sizes_get(&count, &size), "environ_sizes_get");
  if (strcmp(mode, "none") == 0) {
    check_eq(count, 0, "no variables by default");
    check_eq(size, 0, "no bytes by default");
    uint8_t *ptrs[1] = {0};
    uint8_t buf[1] = {0x55};
    check_ok(__wasi_environ_get(ptrs, buf), "environ_get on an empty environment");
    check(buf[0] == 0x55, "environ_get writes nothing for an empty environment");
  } else {
    check_eq(count, 2, "two variables");
    check_eq(size, 22, "sizes include each NUL");
  }
  test_end();
  return 0;
}
