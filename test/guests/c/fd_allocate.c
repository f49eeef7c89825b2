// fd_allocate: makes sure [offset, offset+len) is backed by the file: grows the size when it
// reaches past the end (zero-filled), never shrinks it.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_allocate");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_ok(write_all(fd, "abc", 3), "write abc");
  check_ok(__wasi_fd_allocate(fd, 0, 100), "allocate [0, 100)");
  check_eq(size_of(fd), 100, "size grows to 100");
  check_ok(__wasi_fd_allocate(fd, 10, 5), "allocate inside the file");
  check_eq(size_of(fd), 100, "allocating inside does not shrink");
  check_ok(__wasi_fd_allocate(fd, 150, 50), "allocate [150, 200)");
  check_eq(size_of(fd), 200, "size grows to offset + len");
  uint8_t buf[200];
  __wasi_iovec_t iov = {buf, sizeof buf};
  __wasi_size_t n = 0;
  check_ok(__wasi_fd_pread(fd, &iov, 1, 0, &n), "pread the whole file");
  check_eq(n, 200, "read 200 bytes");
  int zeros = 1;
  for (int i = 3; i < 200; i++) if (buf[i]) zeros = 0;
  check(memcmp(buf, "abc", 3) == 0, "existing data kept");
  check(zeros, "allocated space reads as zeros");
  __wasi_filesize_t pos = 1;
  check_ok(__wasi_fd_tell(fd, &pos), "tell");
  check_eq(pos, 3, "allocate does not move the offset");
  check_err(__wasi_fd_allocate(BAD_FD, 0, 1), __WASI_ERRNO_BADF, "allocate on a closed fd");
  __wasi_fdstat_t st;
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check_ok(__wasi_fd_fdstat_set_rights(fd, st.fs_rights_base & ~__WASI_RIGHTS_FD_ALLOCATE, 0), "drop fd_allocate");
  check_err(__wasi_fd_allocate(fd, 0, 1000), __WASI_ERRNO_NOTCAPABLE, "allocate without the right");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
