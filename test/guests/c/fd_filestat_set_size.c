// fd_filestat_set_size: truncates or extends (zero-filled) without moving the offset.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_filestat_set_size");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_ok(write_all(fd, "0123456789", 10), "write 10 bytes");
  check_ok(__wasi_fd_filestat_set_size(fd, 4), "shrink to 4");
  check_eq(size_of(fd), 4, "size is 4");
  __wasi_filesize_t pos;
  check_ok(__wasi_fd_tell(fd, &pos), "tell");
  check_eq(pos, 10, "offset unchanged by truncation");
  check_ok(__wasi_fd_filestat_set_size(fd, 8), "extend to 8");
  char buf[16];
  check_eq(slurp(dir, "f", buf, sizeof buf), 8, "file reads back 8 bytes");
  check(memcmp(buf, "0123\0\0\0\0", 8) == 0, "extension is zero-filled");
  check_ok(__wasi_fd_filestat_set_size(fd, 0), "truncate to 0");
  check_eq(size_of(fd), 0, "size is 0");
  check_err(__wasi_fd_filestat_set_size(BAD_FD, 0), __WASI_ERRNO_BADF, "set size on a closed fd");
  __wasi_fd_t ro;
  check_ok(open_with_rights(dir, "f", 0, __WASI_RIGHTS_FD_READ, &ro), "open f read-only");
  check_err(__wasi_fd_filestat_set_size(ro, 1), __WASI_ERRNO_NOTCAPABLE, "set size without the right");
  check_ok(__wasi_fd_close(ro), "close ro");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
