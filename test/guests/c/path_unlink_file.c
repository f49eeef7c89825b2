// path_unlink_file: removes a file or a symlink (never what it points to); a directory is
// EISDIR (or EPERM, as POSIX unlink answers); ENOENT when missing.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("path_unlink_file");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  make_file(dir, "f", "x");
  check_ok(__wasi_path_unlink_file(dir, "f"), "unlink f");
  check_eq(type_at(dir, "f"), 0xff, "f is gone");
  check_err(__wasi_path_unlink_file(dir, "f"), __WASI_ERRNO_NOENT, "unlink it again");
  make_file(dir, "t", "target");
  check_ok(__wasi_path_symlink("t", dir, "l"), "symlink l -> t");
  check_ok(__wasi_path_unlink_file(dir, "l"), "unlink the symlink");
  check_eq(type_at(dir, "l"), 0xff, "l is gone");
  check_eq(type_at(dir, "t"), __WASI_FILETYPE_REGULAR_FILE, "its target survives");
  check_ok(__wasi_path_symlink("nowhere", dir, "dangling"), "symlink dangling -> nowhere");
  check_ok(__wasi_path_unlink_file(dir, "dangling"), "unlink a dangling symlink");
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  check_err2(__wasi_path_unlink_file(dir, "d"), __WASI_ERRNO_ISDIR, __WASI_ERRNO_PERM, "unlink a directory");
  check_eq(type_at(dir, "d"), __WASI_FILETYPE_DIRECTORY, "d survives");
  check_err(__wasi_path_unlink_file(dir, "t/"), __WASI_ERRNO_NOTDIR, "unlink a file named with a trailing slash");
  make_file(dir, "d/inner", "i");
  check_ok(__wasi_path_unlink_file(dir, "d/inner"), "unlink in a subdirectory");
  // An open file can be unlinked; its descriptor keeps working.
  make_file(dir, "open", "still here");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "open", 0, 0, &fd), "open the file");
  check_ok(__wasi_path_unlink_file(dir, "open"), "unlink it while open");
  char buf[32] = {0};
  size_t got = 0;
  check_ok(read_all(fd, buf, sizeof buf - 1, &got), "read through the open fd");
  check(strcmp(buf, "still here") == 0, "the content is still readable");
  check_ok(__wasi_fd_close(fd), "close");
  check_err(__wasi_path_unlink_file(dir, "missing/x"), __WASI_ERRNO_NOENT, "unlink under a missing parent");
  check_err(__wasi_path_unlink_file(BAD_FD, "t"), __WASI_ERRNO_BADF, "unlink under a closed fd");
  test_end();
  return 0;
}
