// path_remove_directory: removes an empty directory; ENOTEMPTY when it has entries, ENOTDIR on
// a file (or a symlink to a directory), ENOENT when missing.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("path_remove_directory");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  check_ok(__wasi_path_remove_directory(dir, "d"), "rmdir d");
  check_eq(type_at(dir, "d"), 0xff, "d is gone");
  check_err(__wasi_path_remove_directory(dir, "d"), __WASI_ERRNO_NOENT, "rmdir it again");
  check_ok(__wasi_path_create_directory(dir, "full"), "mkdir full");
  make_file(dir, "full/f", "x");
  check_err(__wasi_path_remove_directory(dir, "full"), __WASI_ERRNO_NOTEMPTY, "rmdir a directory holding a file");
  check_ok(__wasi_path_create_directory(dir, "nest"), "mkdir nest");
  check_ok(__wasi_path_create_directory(dir, "nest/inner"), "mkdir nest/inner");
  check_err(__wasi_path_remove_directory(dir, "nest"), __WASI_ERRNO_NOTEMPTY, "rmdir a directory holding a directory");
  check_ok(__wasi_path_remove_directory(dir, "nest/inner"), "rmdir nest/inner");
  check_ok(__wasi_path_remove_directory(dir, "nest/"), "rmdir nest/ with a trailing slash");
  check_err(__wasi_path_remove_directory(dir, "full/f"), __WASI_ERRNO_NOTDIR, "rmdir a file");
  check_ok(__wasi_path_create_directory(dir, "target"), "mkdir target");
  check_ok(__wasi_path_symlink("target", dir, "ltarget"), "symlink ltarget -> target");
  check_err(__wasi_path_remove_directory(dir, "ltarget"), __WASI_ERRNO_NOTDIR, "rmdir a symlink to a directory");
  check_eq(type_at(dir, "target"), __WASI_FILETYPE_DIRECTORY, "the target survives");
  check_err(__wasi_path_remove_directory(dir, "missing/x"), __WASI_ERRNO_NOENT, "rmdir under a missing parent");
  check_err2(__wasi_path_remove_directory(dir, "."), __WASI_ERRNO_INVAL, __WASI_ERRNO_BUSY, "rmdir .");
  check_err(__wasi_path_remove_directory(BAD_FD, "x"), __WASI_ERRNO_BADF, "rmdir under a closed fd");
  test_end();
  return 0;
}
