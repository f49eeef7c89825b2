// fd_pread: reads at an offset without moving the file offset; scatters over iovecs; past the
// end reads 0 bytes.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_pread");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  make_file(dir, "f", "0123456789abcdef");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", 0, 0, &fd), "open f");
  __wasi_filesize_t pos;
  check_ok(__wasi_fd_seek(fd, 3, __WASI_WHENCE_SET, &pos), "seek to 3");
  char a[4] = {0}, b[5] = {0};
  __wasi_iovec_t iov[2] = {{(uint8_t *)a, 3}, {(uint8_t *)b, 4}};
  __wasi_size_t n = 0;
  check_ok(__wasi_fd_pread(fd, iov, 2, 8, &n), "pread 7 bytes at 8 into two iovecs");
  check_eq(n, 7, "7 bytes read");
  check(memcmp(a, "89a", 3) == 0 && memcmp(b, "bcde", 4) == 0, "scattered as 89a + bcde");
  check_ok(__wasi_fd_tell(fd, &pos), "tell");
  check_eq(pos, 3, "offset unchanged by pread");
  check_ok(__wasi_fd_pread(fd, iov, 1, 14, &n), "pread across the end");
  check_eq(n, 2, "only the 2 remaining bytes");
  check_ok(__wasi_fd_pread(fd, iov, 1, 16, &n), "pread at the end");
  check_eq(n, 0, "0 bytes at the end");
  check_ok(__wasi_fd_pread(fd, iov, 1, 1000000, &n), "pread far past the end");
  check_eq(n, 0, "0 bytes past the end");
  check_ok(__wasi_fd_pread(fd, iov, 0, 0, &n), "pread with no iovecs");
  check_eq(n, 0, "0 bytes with no iovecs");
  char c[2] = {0};
  __wasi_iovec_t one = {(uint8_t *)c, 1};
  check_ok(__wasi_fd_read(fd, &one, 1, &n), "plain read after preads");
  check(n == 1 && c[0] == '3', "plain read continues at offset 3");
  check_err(__wasi_fd_pread(BAD_FD, iov, 1, 0, &n), __WASI_ERRNO_BADF, "pread on a closed fd");
  __wasi_fd_t wo;
  check_ok(open_with_rights(dir, "f", 0, __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK, &wo), "open f write-only");
  check_err(__wasi_fd_pread(wo, iov, 1, 0, &n), __WASI_ERRNO_NOTCAPABLE, "pread without fd_read");
  check_ok(__wasi_fd_close(wo), "close wo");
  __wasi_fd_t d;
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  check_ok(open_at(dir, "d", __WASI_OFLAGS_DIRECTORY, 0, &d), "open d");
  check_fails(__wasi_fd_pread(d, iov, 1, 0, &n), "pread on a directory");
  check_ok(__wasi_fd_close(d), "close d");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
