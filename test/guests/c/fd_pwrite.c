// fd_pwrite: writes at an offset without moving the file offset; gathers iovecs; writing past
// the end extends the file with a zero-filled gap.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_pwrite");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_ok(write_all(fd, "0123456789", 10), "write 10 bytes");
  __wasi_filesize_t pos;
  check_ok(__wasi_fd_seek(fd, 2, __WASI_WHENCE_SET, &pos), "seek to 2");
  __wasi_ciovec_t iov[2] = {{(const uint8_t *)"AB", 2}, {(const uint8_t *)"CD", 2}};
  __wasi_size_t n = 0;
  check_ok(__wasi_fd_pwrite(fd, iov, 2, 5, &n), "pwrite ABCD at 5");
  check_eq(n, 4, "4 bytes written");
  check_ok(__wasi_fd_tell(fd, &pos), "tell");
  check_eq(pos, 2, "offset unchanged by pwrite");
  char buf[32];
  slurp(dir, "f", buf, sizeof buf);
  check(strcmp(buf, "01234ABCD9") == 0, "content is 01234ABCD9");
  check_ok(__wasi_fd_pwrite(fd, iov, 1, 14, &n), "pwrite past the end");
  check_eq(size_of(fd), 16, "file extended to 16");
  check_eq(slurp(dir, "f", buf, sizeof buf), 16, "16 bytes read back");
  check(memcmp(buf + 10, "\0\0\0\0AB", 6) == 0, "the gap reads as zeros");
  check_ok(__wasi_fd_pwrite(fd, iov, 0, 0, &n), "pwrite with no iovecs");
  check_eq(n, 0, "0 bytes with no iovecs");
  check_ok(write_all(fd, "xy", 2), "plain write after pwrites");
  slurp(dir, "f", buf, sizeof buf);
  check(memcmp(buf, "01xy4ABCD9", 10) == 0, "plain write lands at offset 2");
  check_err(__wasi_fd_pwrite(BAD_FD, iov, 1, 0, &n), __WASI_ERRNO_BADF, "pwrite on a closed fd");
  __wasi_fd_t ro;
  check_ok(open_with_rights(dir, "f", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK, &ro), "open f read-only");
  check_err(__wasi_fd_pwrite(ro, iov, 1, 0, &n), __WASI_ERRNO_NOTCAPABLE, "pwrite without fd_write");
  check_ok(__wasi_fd_close(ro), "close ro");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
