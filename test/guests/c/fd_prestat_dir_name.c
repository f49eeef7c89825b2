// fd_prestat_dir_name: writes the preopen's name (no NUL) into the buffer; a buffer shorter
// than the name is an error that writes nothing past the buffer; non-preopens are EBADF.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_prestat_dir_name");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  size_t len = strlen(argv[1]);
  char buf[256];
  memset(buf, '#', sizeof buf);
  check_ok(__wasi_fd_prestat_dir_name(dir, (uint8_t *)buf, len), "dir name with the exact length");
  check(memcmp(buf, argv[1], len) == 0, "name matches argv[1]");
  check(buf[len] == '#', "nothing written past the name");
  memset(buf, '#', sizeof buf);
  check_ok(__wasi_fd_prestat_dir_name(dir, (uint8_t *)buf, sizeof buf), "dir name with a larger buffer");
  check(memcmp(buf, argv[1], len) == 0, "name matches with a larger buffer");
  check(buf[len + 1] == '#', "at most a NUL written after the name");
  if (len > 1) {
    memset(buf, '#', sizeof buf);
    __wasi_errno_t e = __wasi_fd_prestat_dir_name(dir, (uint8_t *)buf, len - 1);
    check_fails(e, "a buffer one byte short");
    check(buf[len - 1] == '#', "nothing written past the short buffer");
  }
  check_err(__wasi_fd_prestat_dir_name(1, (uint8_t *)buf, sizeof buf), __WASI_ERRNO_BADF, "stdout");
  check_err(__wasi_fd_prestat_dir_name(BAD_FD, (uint8_t *)buf, sizeof buf), __WASI_ERRNO_BADF, "closed fd");
  test_end();
  return 0;
}
