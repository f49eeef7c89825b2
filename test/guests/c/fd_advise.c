// fd_advise: every advice value is accepted on a file (it is only a hint), an unknown advice
// is EINVAL, a closed fd EBADF, an fd without the fd_advise right ENOTCAPABLE.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_advise");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_ok(write_all(fd, "0123456789", 10), "write 10 bytes");
  __wasi_advice_t advice[] = {__WASI_ADVICE_NORMAL, __WASI_ADVICE_SEQUENTIAL, __WASI_ADVICE_RANDOM,
                              __WASI_ADVICE_WILLNEED, __WASI_ADVICE_DONTNEED, __WASI_ADVICE_NOREUSE};
  for (int i = 0; i < 6; i++) {
    char what[48];
    snprintf(what, sizeof what, "advice %d on a file", advice[i]);
    check_ok(__wasi_fd_advise(fd, 0, 10, advice[i]), what);
  }
  check_ok(__wasi_fd_advise(fd, 100, 1000, __WASI_ADVICE_NORMAL), "advice beyond the end of the file");
  check_ok(__wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_NORMAL), "advice with len 0 (to the end)");
  check(size_of(fd) == 10, "advice does not change the file size");
  check_err(__wasi_fd_advise(fd, 0, 10, 6), __WASI_ERRNO_INVAL, "advice 6 is unknown");
  check_err(__wasi_fd_advise(fd, 0, 10, 255), __WASI_ERRNO_INVAL, "advice 255 is unknown");
  check_err(__wasi_fd_advise(BAD_FD, 0, 10, __WASI_ADVICE_NORMAL), __WASI_ERRNO_BADF, "advise on a closed fd");
  __wasi_fdstat_t st;
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check_ok(__wasi_fd_fdstat_set_rights(fd, st.fs_rights_base & ~__WASI_RIGHTS_FD_ADVISE, 0), "drop fd_advise");
  check_err(__wasi_fd_advise(fd, 0, 10, __WASI_ADVICE_NORMAL), __WASI_ERRNO_NOTCAPABLE, "advise without the right");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
