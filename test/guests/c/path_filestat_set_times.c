// path_filestat_set_times: like fd_filestat_set_times, by path; ENOENT for a missing path,
// EINVAL for contradictory flags.
#include "common.h"

#define T1 1600000000500000000ull
#define T2 1500000000250000000ull

int main(int argc, char **argv) {
  test_begin("path_filestat_set_times");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  make_file(dir, "f", "x");
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  __wasi_filestat_t st;
  check_ok(__wasi_path_filestat_set_times(dir, 0, "f", T1, T2, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM), "set times of f");
  check_ok(__wasi_path_filestat_get(dir, 0, "f", &st), "stat f");
  check_eq(st.atim, T1, "atim stored");
  check_eq(st.mtim, T2, "mtim stored");
  check_ok(__wasi_path_filestat_set_times(dir, 0, "d", T2, T1, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM), "set times of a directory");
  check_ok(__wasi_path_filestat_get(dir, 0, "d", &st), "stat d");
  check_eq(st.mtim, T1, "directory mtim stored");
  check_ok(__wasi_path_symlink("f", dir, "lf"), "symlink lf -> f");
  check_ok(__wasi_path_filestat_set_times(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "lf", 0, T1, __WASI_FSTFLAGS_MTIM), "set mtim through a symlink");
  check_ok(__wasi_path_filestat_get(dir, 0, "f", &st), "stat f");
  check_eq(st.mtim, T1, "the target's mtim changed");
  __wasi_timestamp_t now;
  check_ok(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 0, &now), "realtime now");
  check_ok(__wasi_path_filestat_set_times(dir, 0, "f", 0, 0, __WASI_FSTFLAGS_MTIM_NOW | __WASI_FSTFLAGS_ATIM_NOW), "both = now");
  check_ok(__wasi_path_filestat_get(dir, 0, "f", &st), "stat f");
  check(st.mtim + 60000000000ull > now && st.mtim < now + 60000000000ull, "mtim within a minute of now");
  check_err(__wasi_path_filestat_set_times(dir, 0, "f", T1, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW), __WASI_ERRNO_INVAL, "ATIM with ATIM_NOW");
  check_err(__wasi_path_filestat_set_times(dir, 0, "f", 0, T1, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_INVAL, "MTIM with MTIM_NOW");
  check_err(__wasi_path_filestat_set_times(dir, 0, "missing", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_NOENT, "set times of a missing path");
  check_err(__wasi_path_filestat_set_times(dir, 0, "f/x", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_NOTDIR, "set times through a file");
  check_err(__wasi_path_filestat_set_times(BAD_FD, 0, "f", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_BADF, "set times under a closed fd");
  test_end();
  return 0;
}
