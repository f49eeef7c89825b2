// fd_read: reads from the offset and advances it; scatters over iovecs; 0 at EOF; stdin gives
// what the host supplied (the host test passes "ping\n"); needs fd_read; directories refuse.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_read");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  char in[16] = {0};
  size_t got = 0;
  check_ok(read_all(0, in, sizeof in - 1, &got), "read stdin to EOF");
  check(got == 5 && strcmp(in, "ping\n") == 0, "stdin is \"ping\\n\"");
  __wasi_iovec_t one = {(uint8_t *)in, 4};
  __wasi_size_t n = 99;
  check_ok(__wasi_fd_read(0, &one, 1, &n), "read stdin after EOF");
  check_eq(n, 0, "stdin stays at EOF");

  make_file(dir, "f", "hello, world");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", 0, 0, &fd), "open f");
  char a[6] = {0}, b[3] = {0}, c[16] = {0};
  __wasi_iovec_t iov[3] = {{(uint8_t *)a, 5}, {(uint8_t *)b, 0}, {(uint8_t *)c, 2}};
  check_ok(__wasi_fd_read(fd, iov, 3, &n), "read into 5 + 0 + 2 bytes");
  check_eq(n, 7, "7 bytes read");
  check(memcmp(a, "hello", 5) == 0 && memcmp(c, ", ", 2) == 0, "scattered as hello + , ");
  __wasi_filesize_t pos;
  check_ok(__wasi_fd_tell(fd, &pos), "tell");
  check_eq(pos, 7, "offset advanced by 7");
  __wasi_iovec_t rest = {(uint8_t *)c, sizeof c};
  check_ok(__wasi_fd_read(fd, &rest, 1, &n), "read the rest");
  check(n == 5 && memcmp(c, "world", 5) == 0, "rest is world");
  check_ok(__wasi_fd_read(fd, &rest, 1, &n), "read at EOF");
  check_eq(n, 0, "0 bytes at EOF");
  check_ok(__wasi_fd_read(fd, iov, 0, &n), "read with no iovecs");
  check_eq(n, 0, "0 bytes with no iovecs");
  check_ok(__wasi_fd_close(fd), "close");

  check_err(__wasi_fd_read(BAD_FD, &rest, 1, &n), __WASI_ERRNO_BADF, "read a closed fd");
  __wasi_fd_t wo;
  check_ok(open_with_rights(dir, "f", 0, __WASI_RIGHTS_FD_WRITE, &wo), "open f write-only");
  check_err(__wasi_fd_read(wo, &rest, 1, &n), __WASI_ERRNO_NOTCAPABLE, "read without fd_read");
  check_ok(__wasi_fd_close(wo), "close wo");
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  __wasi_fd_t d;
  check_ok(__wasi_path_open(dir, 0, "d", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_READDIR, 0, 0, &d), "open d with fd_read");
  check_fails(__wasi_fd_read(d, &rest, 1, &n), "read a directory");
  check_ok(__wasi_fd_close(d), "close d");
  test_end();
  return 0;
}
