// path_create_directory: creates one directory; EEXIST if the name is taken (by a file or a
// directory), ENOENT when a parent is missing, ENOTDIR when a parent is a file.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("path_create_directory");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  check_eq(type_at(dir, "d"), __WASI_FILETYPE_DIRECTORY, "d is a directory");
  check_ok(__wasi_path_create_directory(dir, "d/e"), "mkdir d/e");
  check_eq(type_at(dir, "d/e"), __WASI_FILETYPE_DIRECTORY, "d/e is a directory");
  check_ok(__wasi_path_create_directory(dir, "trail/"), "mkdir with a trailing slash");
  check_eq(type_at(dir, "trail"), __WASI_FILETYPE_DIRECTORY, "trail is a directory");
  check_err(__wasi_path_create_directory(dir, "d"), __WASI_ERRNO_EXIST, "mkdir an existing directory");
  make_file(dir, "f", "x");
  check_err(__wasi_path_create_directory(dir, "f"), __WASI_ERRNO_EXIST, "mkdir over a file");
  check_err(__wasi_path_create_directory(dir, "missing/x"), __WASI_ERRNO_NOENT, "mkdir under a missing parent");
  check_err(__wasi_path_create_directory(dir, "f/x"), __WASI_ERRNO_NOTDIR, "mkdir under a file");
  check_err(__wasi_path_create_directory(dir, ""), __WASI_ERRNO_NOENT, "mkdir of the empty path");
  check_err2(__wasi_path_create_directory(dir, "."), __WASI_ERRNO_EXIST, __WASI_ERRNO_INVAL, "mkdir of .");
  check_ok(__wasi_path_create_directory(dir, "d/e/../g"), "mkdir through .. inside the preopen");
  check_eq(type_at(dir, "d/g"), __WASI_FILETYPE_DIRECTORY, "d/g created");
  check_err(__wasi_path_create_directory(BAD_FD, "x"), __WASI_ERRNO_BADF, "mkdir under a closed fd");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", 0, 0, &fd), "open f");
  check_err(__wasi_path_create_directory(fd, "x"), __WASI_ERRNO_NOTDIR, "mkdir relative to a file fd");
  check_ok(__wasi_fd_close(fd), "close f");
  test_end();
  return 0;
}
