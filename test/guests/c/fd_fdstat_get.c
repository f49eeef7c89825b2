// fd_fdstat_get: filetype, flags and rights of stdio, a preopen, a file and a directory.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_fdstat_get");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fdstat_t st;
  check_ok(__wasi_fd_fdstat_get(1, &st), "fdstat of stdout");
  check(st.fs_rights_base & __WASI_RIGHTS_FD_WRITE, "stdout has fd_write");
  check(st.fs_filetype != __WASI_FILETYPE_DIRECTORY, "stdout is not a directory");
  check_ok(__wasi_fd_fdstat_get(0, &st), "fdstat of stdin");
  check(st.fs_rights_base & __WASI_RIGHTS_FD_READ, "stdin has fd_read");

  check_ok(__wasi_fd_fdstat_get(dir, &st), "fdstat of the preopen");
  check_eq(st.fs_filetype, __WASI_FILETYPE_DIRECTORY, "preopen is a directory");
  check(st.fs_rights_base & __WASI_RIGHTS_PATH_OPEN, "preopen has path_open");
  check(st.fs_rights_inheriting & __WASI_RIGHTS_FD_READ, "preopen hands down fd_read");
  check(st.fs_rights_inheriting & __WASI_RIGHTS_FD_WRITE, "writable preopen hands down fd_write");

  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, __WASI_FDFLAGS_APPEND, &fd), "create f in append mode");
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat of the file");
  check_eq(st.fs_filetype, __WASI_FILETYPE_REGULAR_FILE, "file is a regular file");
  check(st.fs_flags & __WASI_FDFLAGS_APPEND, "append flag reported");
  check(st.fs_rights_base & __WASI_RIGHTS_FD_READ, "file has fd_read");
  check(st.fs_rights_base & __WASI_RIGHTS_FD_WRITE, "file has fd_write");
  check(st.fs_rights_base & __WASI_RIGHTS_FD_SEEK, "file has fd_seek");
  check_ok(__wasi_fd_close(fd), "close");

  __wasi_fd_t ro;
  check_ok(open_with_rights(dir, "f", 0, __WASI_RIGHTS_FD_READ, &ro), "open f asking only fd_read");
  check_ok(__wasi_fd_fdstat_get(ro, &st), "fdstat of the read-only fd");
  check_eq(st.fs_rights_base, __WASI_RIGHTS_FD_READ, "rights are exactly what was asked");
  check_eq(st.fs_flags, 0, "no flags");
  check_ok(__wasi_fd_close(ro), "close");

  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  __wasi_fd_t d;
  check_ok(open_at(dir, "d", __WASI_OFLAGS_DIRECTORY, 0, &d), "open d");
  check_ok(__wasi_fd_fdstat_get(d, &st), "fdstat of d");
  check_eq(st.fs_filetype, __WASI_FILETYPE_DIRECTORY, "d is a directory");
  check_ok(__wasi_fd_close(d), "close d");

  check_err(__wasi_fd_fdstat_get(BAD_FD, &st), __WASI_ERRNO_BADF, "fdstat of a closed fd");
  test_end();
  return 0;
}
