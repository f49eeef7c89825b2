// path_readlink: returns the symlink's contents (no NUL); EINVAL on something that is not a
// symlink, ENOENT when missing; a buffer too small truncates (or answers ERANGE).
#include "common.h"

int main(int argc, char **argv) {
  test_begin("path_readlink");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  check_ok(__wasi_path_symlink("some/target/file.txt", dir, "l"), "symlink l -> some/target/file.txt");
  char buf[64];
  memset(buf, '#', sizeof buf);
  __wasi_size_t n = 0;
  check_ok(__wasi_path_readlink(dir, "l", (uint8_t *)buf, sizeof buf, &n), "readlink l");
  check_eq(n, 20, "20 bytes");
  check(memcmp(buf, "some/target/file.txt", 20) == 0, "contents match");
  check(buf[20] == '#', "no NUL appended");
  memset(buf, '#', sizeof buf);
  __wasi_errno_t e = __wasi_path_readlink(dir, "l", (uint8_t *)buf, 4, &n);
  if (e == 0) {
    check_eq(n, 4, "a 4-byte buffer gets 4 bytes");
    check(memcmp(buf, "some", 4) == 0 && buf[4] == '#', "truncated to the buffer");
  } else {
    check_err(e, __WASI_ERRNO_RANGE, "a buffer too small");
  }
  check_ok(__wasi_path_symlink("..", dir, "up"), "symlink up -> ..");
  check_ok(__wasi_path_readlink(dir, "up", (uint8_t *)buf, sizeof buf, &n), "readlink a link pointing outside");
  check(n == 2 && memcmp(buf, "..", 2) == 0, "contents are returned verbatim");
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  check_ok(__wasi_path_symlink("../l", dir, "d/l2"), "symlink d/l2 -> ../l");
  check_ok(__wasi_path_readlink(dir, "d/l2", (uint8_t *)buf, sizeof buf, &n), "readlink in a subdirectory");
  check(n == 4 && memcmp(buf, "../l", 4) == 0, "d/l2 reads ../l");
  make_file(dir, "f", "x");
  check_err(__wasi_path_readlink(dir, "f", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_INVAL, "readlink a file");
  check_err(__wasi_path_readlink(dir, "d", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_INVAL, "readlink a directory");
  check_err(__wasi_path_readlink(dir, "missing", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_NOENT, "readlink a missing path");
  check_err(__wasi_path_readlink(BAD_FD, "l", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_BADF, "readlink under a closed fd");
  test_end();
  return 0;
}
