// fd_fdstat_set_rights: rights can only be dropped, never gained; a dropped right makes its
// operation ENOTCAPABLE; dropped inheriting rights limit what is opened beneath a directory.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_fdstat_set_rights");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  __wasi_fdstat_t st;
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  __wasi_rights_t full = st.fs_rights_base;
  check_ok(__wasi_fd_fdstat_set_rights(fd, full, st.fs_rights_inheriting), "set the same rights again");
  __wasi_rights_t less = full & ~__WASI_RIGHTS_FD_WRITE;
  check_ok(__wasi_fd_fdstat_set_rights(fd, less, 0), "drop fd_write");
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check_eq(st.fs_rights_base, less, "base rights are the reduced set");
  check_eq(st.fs_rights_inheriting, 0, "inheriting rights dropped to none");
  __wasi_ciovec_t iov = {(const uint8_t *)"x", 1};
  __wasi_size_t n;
  check_err(__wasi_fd_write(fd, &iov, 1, &n), __WASI_ERRNO_NOTCAPABLE, "write without fd_write");
  check_err(__wasi_fd_fdstat_set_rights(fd, full, 0), __WASI_ERRNO_NOTCAPABLE, "gaining fd_write back");
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check_eq(st.fs_rights_base, less, "a refused gain changes nothing");
  check_ok(__wasi_fd_fdstat_set_rights(fd, 0, 0), "drop every right");
  check_err(__wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_READ, 0), __WASI_ERRNO_NOTCAPABLE, "gaining fd_read on a right-less fd");
  __wasi_filesize_t pos;
  check_err(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_NOTCAPABLE, "seek without fd_seek");
  check_ok(__wasi_fd_close(fd), "close still works without rights");

  // A directory whose inheriting rights lack fd_write hands out no writable files.
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  __wasi_fd_t d;
  check_ok(open_at(dir, "d", __WASI_OFLAGS_DIRECTORY, 0, &d), "open d");
  check_ok(__wasi_fd_fdstat_get(d, &st), "fdstat d");
  check_ok(__wasi_fd_fdstat_set_rights(d, st.fs_rights_base, st.fs_rights_inheriting & ~__WASI_RIGHTS_FD_WRITE), "drop fd_write from d's inheriting rights");
  __wasi_fd_t g;
  __wasi_errno_t e = __wasi_path_open(d, 0, "g", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE,
                                      0, 0, &g);
  if (e == 0) {
    check_ok(__wasi_fd_fdstat_get(g, &st), "fdstat of g");
    check(!(st.fs_rights_base & __WASI_RIGHTS_FD_WRITE), "g did not inherit fd_write");
    check_err(__wasi_fd_write(g, &iov, 1, &n), __WASI_ERRNO_NOTCAPABLE, "write to g");
    check_ok(__wasi_fd_close(g), "close g");
  } else {
    check_err(e, __WASI_ERRNO_NOTCAPABLE, "asking fd_write beneath d");
  }
  check_ok(__wasi_fd_fdstat_get(d, &st), "fdstat d");
  check_ok(__wasi_fd_fdstat_set_rights(d, st.fs_rights_base & ~__WASI_RIGHTS_PATH_CREATE_DIRECTORY, 0), "drop path_create_directory from d");
  check_err(__wasi_path_create_directory(d, "sub"), __WASI_ERRNO_NOTCAPABLE, "mkdir beneath d without the right");
  check_ok(__wasi_fd_close(d), "close d");
  check_err(__wasi_fd_fdstat_set_rights(BAD_FD, 0, 0), __WASI_ERRNO_BADF, "set rights on a closed fd");
  test_end();
  return 0;
}
