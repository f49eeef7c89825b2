// path_rename: moves files and directories, replaces an existing file, replaces an empty
// directory with a directory; ENOTEMPTY, EISDIR, ENOTDIR, ENOENT and EINVAL for the misuses.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("path_rename");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  char buf[32];
  make_file(dir, "a", "AAA");
  check_ok(__wasi_path_rename(dir, "a", dir, "b"), "rename a to b");
  check_eq(type_at(dir, "a"), 0xff, "a is gone");
  slurp(dir, "b", buf, sizeof buf);
  check(strcmp(buf, "AAA") == 0, "b has a's content");
  make_file(dir, "c", "CCCCC");
  check_ok(__wasi_path_rename(dir, "c", dir, "b"), "rename c over the existing b");
  slurp(dir, "b", buf, sizeof buf);
  check(strcmp(buf, "CCCCC") == 0, "b was replaced");
  check_eq(type_at(dir, "c"), 0xff, "c is gone");
  check_ok(__wasi_path_rename(dir, "b", dir, "b"), "rename b onto itself");
  check_eq(type_at(dir, "b"), __WASI_FILETYPE_REGULAR_FILE, "b is still there");

  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  make_file(dir, "d/inside", "i");
  check_ok(__wasi_path_rename(dir, "d", dir, "e"), "rename directory d to e");
  check_eq(type_at(dir, "e/inside"), __WASI_FILETYPE_REGULAR_FILE, "e/inside moved along");
  check_ok(__wasi_path_create_directory(dir, "empty"), "mkdir empty");
  check_ok(__wasi_path_rename(dir, "e", dir, "empty"), "rename a directory over an empty directory");
  check_eq(type_at(dir, "empty/inside"), __WASI_FILETYPE_REGULAR_FILE, "empty now holds inside");
  check_ok(__wasi_path_create_directory(dir, "other"), "mkdir other");
  check_err2(__wasi_path_rename(dir, "other", dir, "empty"), __WASI_ERRNO_NOTEMPTY, __WASI_ERRNO_EXIST, "rename a directory over a non-empty directory");
  check_err(__wasi_path_rename(dir, "b", dir, "other"), __WASI_ERRNO_ISDIR, "rename a file over a directory");
  check_err(__wasi_path_rename(dir, "other", dir, "b"), __WASI_ERRNO_NOTDIR, "rename a directory over a file");
  check_err(__wasi_path_rename(dir, "other", dir, "other/sub"), __WASI_ERRNO_INVAL, "rename a directory into itself");
  check_err(__wasi_path_rename(dir, "missing", dir, "x"), __WASI_ERRNO_NOENT, "rename a missing source");
  check_err(__wasi_path_rename(dir, "b", dir, "missing/x"), __WASI_ERRNO_NOENT, "rename into a missing directory");
  check_err(__wasi_path_rename(dir, "b/", dir, "x"), __WASI_ERRNO_NOTDIR, "rename a file named with a trailing slash");

  // Across two directory fds.
  __wasi_fd_t o;
  check_ok(open_at(dir, "other", __WASI_OFLAGS_DIRECTORY, 0, &o), "open other");
  check_ok(__wasi_path_rename(dir, "b", o, "moved"), "rename b into other via its fd");
  check_eq(type_at(dir, "other/moved"), __WASI_FILETYPE_REGULAR_FILE, "other/moved exists");
  check_ok(__wasi_fd_close(o), "close other");

  // A symlink is renamed itself, not its target.
  make_file(dir, "t", "T");
  check_ok(__wasi_path_symlink("t", dir, "lt"), "symlink lt -> t");
  check_ok(__wasi_path_rename(dir, "lt", dir, "lt2"), "rename the symlink");
  check_eq(type_at(dir, "lt2"), __WASI_FILETYPE_SYMBOLIC_LINK, "lt2 is the symlink");
  check_eq(type_at(dir, "t"), __WASI_FILETYPE_REGULAR_FILE, "t untouched");

  check_err(__wasi_path_rename(BAD_FD, "t", dir, "x"), __WASI_ERRNO_BADF, "rename from a closed fd");
  check_err(__wasi_path_rename(dir, "t", BAD_FD, "x"), __WASI_ERRNO_BADF, "rename to a closed fd");
  test_end();
  return 0;
}
