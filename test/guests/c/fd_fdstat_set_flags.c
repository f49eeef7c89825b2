// fd_fdstat_set_flags: APPEND can be set and cleared on a file and changes where writes go.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_fdstat_set_flags");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_ok(write_all(fd, "0123456789", 10), "write 10 bytes");
  __wasi_filesize_t pos;
  check_ok(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), "seek to 0");
  check_ok(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), "set APPEND");
  __wasi_fdstat_t st;
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check(st.fs_flags & __WASI_FDFLAGS_APPEND, "APPEND reported");
  check_ok(write_all(fd, "ab", 2), "write in append mode");
  check_eq(size_of(fd), 12, "append-mode write went to the end");
  char buf[32];
  slurp(dir, "f", buf, sizeof buf);
  check(strcmp(buf, "0123456789ab") == 0, "content is 0123456789ab");
  check_ok(__wasi_fd_fdstat_set_flags(fd, 0), "clear flags");
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check(!(st.fs_flags & __WASI_FDFLAGS_APPEND), "APPEND cleared");
  check_ok(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), "seek to 0");
  check_ok(write_all(fd, "XY", 2), "write without append");
  slurp(dir, "f", buf, sizeof buf);
  check(strcmp(buf, "XY23456789ab") == 0, "write went to offset 0");
  check_err(__wasi_fd_fdstat_set_flags(BAD_FD, 0), __WASI_ERRNO_BADF, "set flags on a closed fd");
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check_ok(__wasi_fd_fdstat_set_rights(fd, st.fs_rights_base & ~__WASI_RIGHTS_FD_FDSTAT_SET_FLAGS, 0), "drop fd_fdstat_set_flags");
  check_err(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), __WASI_ERRNO_NOTCAPABLE, "set flags without the right");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
