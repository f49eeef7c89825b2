// fd_filestat_set_times: explicit times are stored, *_NOW uses the current time, a flag word
// asking both an explicit time and NOW for the same stamp is EINVAL, no flags changes nothing.
#include "common.h"

#define T1 1600000000500000000ull /* 2020-09-13T12:26:40.5Z: exact in seconds as a double, too */
#define T2 1500000000250000000ull

int main(int argc, char **argv) {
  test_begin("fd_filestat_set_times");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  __wasi_filestat_t st;
  check_ok(__wasi_fd_filestat_set_times(fd, T1, T2, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM), "set atim and mtim");
  check_ok(__wasi_fd_filestat_get(fd, &st), "filestat");
  check_eq(st.atim, T1, "atim stored");
  check_eq(st.mtim, T2, "mtim stored");
  check_ok(__wasi_fd_filestat_set_times(fd, 0, T1, __WASI_FSTFLAGS_MTIM), "set mtim only");
  check_ok(__wasi_fd_filestat_get(fd, &st), "filestat");
  check_eq(st.atim, T1, "atim untouched");
  check_eq(st.mtim, T1, "mtim changed");
  check_ok(__wasi_fd_filestat_set_times(fd, 123, 456, 0), "no flags");
  check_ok(__wasi_fd_filestat_get(fd, &st), "filestat");
  check(st.atim == T1 && st.mtim == T1, "no flags changes nothing");
  __wasi_timestamp_t now;
  check_ok(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 0, &now), "realtime now");
  check_ok(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), "mtim = now");
  check_ok(__wasi_fd_filestat_get(fd, &st), "filestat");
  check(st.mtim + 60000000000ull > now && st.mtim < now + 60000000000ull, "mtim within a minute of now");
  check_eq(st.atim, T1, "atim untouched by MTIM_NOW");
  check_ok(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW), "atim = now");
  check_ok(__wasi_fd_filestat_get(fd, &st), "filestat");
  check(st.atim + 60000000000ull > now && st.atim < now + 60000000000ull, "atim within a minute of now");
  check_err(__wasi_fd_filestat_set_times(fd, T1, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW), __WASI_ERRNO_INVAL, "ATIM with ATIM_NOW");
  check_err(__wasi_fd_filestat_set_times(fd, 0, T1, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_INVAL, "MTIM with MTIM_NOW");
  check_err(__wasi_fd_filestat_set_times(BAD_FD, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_BADF, "set times on a closed fd");
  __wasi_fd_t ro;
  check_ok(open_with_rights(dir, "f", 0, __WASI_RIGHTS_FD_READ, &ro), "open f read-only");
  check_err(__wasi_fd_filestat_set_times(ro, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_NOTCAPABLE, "set times without the right");
  check_ok(__wasi_fd_close(ro), "close ro");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
