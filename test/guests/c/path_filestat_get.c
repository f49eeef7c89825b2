// path_filestat_get: stats a path; SYMLINK_FOLLOW decides whether a final symlink is followed;
// ENOENT for a missing path, ENOTDIR when a file is used as a directory.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("path_filestat_get");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  make_file(dir, "f", "12345");
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  check_ok(__wasi_path_symlink("f", dir, "lf"), "symlink lf -> f");
  check_ok(__wasi_path_symlink("d", dir, "ld"), "symlink ld -> d");
  check_ok(__wasi_path_symlink("nowhere", dir, "dangling"), "symlink dangling -> nowhere");
  __wasi_filestat_t st;
  check_ok(__wasi_path_filestat_get(dir, 0, "f", &st), "stat f");
  check_eq(st.filetype, __WASI_FILETYPE_REGULAR_FILE, "f is a regular file");
  check_eq(st.size, 5, "f has 5 bytes");
  check(st.nlink >= 1, "f has a link");
  __wasi_inode_t ino = st.ino;
  check_ok(__wasi_path_filestat_get(dir, 0, "d", &st), "stat d");
  check_eq(st.filetype, __WASI_FILETYPE_DIRECTORY, "d is a directory");
  check_ok(__wasi_path_filestat_get(dir, 0, ".", &st), "stat .");
  check_eq(st.filetype, __WASI_FILETYPE_DIRECTORY, ". is a directory");
  check_ok(__wasi_path_filestat_get(dir, 0, "lf", &st), "stat lf without following");
  check_eq(st.filetype, __WASI_FILETYPE_SYMBOLIC_LINK, "lf itself is a symlink");
  check_ok(__wasi_path_filestat_get(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "lf", &st), "stat lf following");
  check_eq(st.filetype, __WASI_FILETYPE_REGULAR_FILE, "lf leads to a regular file");
  check_eq(st.ino, ino, "lf leads to f's inode");
  check_ok(__wasi_path_filestat_get(dir, 0, "ld/", &st), "stat ld/ (a trailing slash follows)");
  check_eq(st.filetype, __WASI_FILETYPE_DIRECTORY, "ld/ is a directory");
  check_ok(__wasi_path_filestat_get(dir, 0, "dangling", &st), "stat a dangling symlink without following");
  check_eq(st.filetype, __WASI_FILETYPE_SYMBOLIC_LINK, "dangling is a symlink");
  check_err(__wasi_path_filestat_get(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dangling", &st), __WASI_ERRNO_NOENT, "stat a dangling symlink following");
  check_err(__wasi_path_filestat_get(dir, 0, "missing", &st), __WASI_ERRNO_NOENT, "stat a missing path");
  check_err(__wasi_path_filestat_get(dir, 0, "f/x", &st), __WASI_ERRNO_NOTDIR, "stat through a file");
  check_err(__wasi_path_filestat_get(dir, 0, "f/", &st), __WASI_ERRNO_NOTDIR, "stat a file with a trailing slash");
  check_err(__wasi_path_filestat_get(dir, 0, "", &st), __WASI_ERRNO_NOENT, "stat the empty path");
  check_err(__wasi_path_filestat_get(BAD_FD, 0, "f", &st), __WASI_ERRNO_BADF, "stat under a closed fd");
  test_end();
  return 0;
}
