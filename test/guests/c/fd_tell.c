// fd_tell: the current offset: 0 after open, advanced by reads and writes, set by seeks, at
// the end after an append-mode write; needs fd_tell (or fd_seek).
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_tell");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  make_file(dir, "f", "0123456789");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", 0, 0, &fd), "open f");
  __wasi_filesize_t pos = 99;
  check_ok(__wasi_fd_tell(fd, &pos), "tell after open");
  check_eq(pos, 0, "0 after open");
  char buf[4];
  __wasi_iovec_t iov = {(uint8_t *)buf, 4};
  __wasi_size_t n;
  check_ok(__wasi_fd_read(fd, &iov, 1, &n), "read 4");
  check_ok(__wasi_fd_tell(fd, &pos), "tell after read");
  check_eq(pos, 4, "4 after reading 4");
  check_ok(write_all(fd, "xy", 2), "write 2");
  check_ok(__wasi_fd_tell(fd, &pos), "tell after write");
  check_eq(pos, 6, "6 after writing 2");
  __wasi_filesize_t sp;
  check_ok(__wasi_fd_seek(fd, 100, __WASI_WHENCE_SET, &sp), "seek to 100");
  check_ok(__wasi_fd_tell(fd, &pos), "tell after seek");
  check_eq(pos, 100, "100 after seeking past the end");
  check_ok(__wasi_fd_close(fd), "close");
  check_ok(open_at(dir, "f", 0, __WASI_FDFLAGS_APPEND, &fd), "open f with APPEND");
  check_ok(write_all(fd, "end", 3), "append 3");
  check_ok(__wasi_fd_tell(fd, &pos), "tell after append");
  check_eq(pos, 13, "13 after appending to 10 bytes");
  check_ok(__wasi_fd_close(fd), "close");
  check_err(__wasi_fd_tell(BAD_FD, &pos), __WASI_ERRNO_BADF, "tell a closed fd");
  check_ok(open_with_rights(dir, "f", 0, __WASI_RIGHTS_FD_READ, &fd), "open f with fd_read only");
  check_err(__wasi_fd_tell(fd, &pos), __WASI_ERRNO_NOTCAPABLE, "tell without fd_tell");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
