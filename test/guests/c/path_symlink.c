// path_symlink: creates a symlink holding any relative text (dangling is fine); EEXIST when the
// name is taken; ENOENT when the parent is missing.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("path_symlink");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  make_file(dir, "f", "target data");
  check_ok(__wasi_path_symlink("f", dir, "l"), "symlink l -> f");
  check_eq(type_at(dir, "l"), __WASI_FILETYPE_SYMBOLIC_LINK, "l is a symlink");
  char buf[32];
  slurp(dir, "l", buf, sizeof buf);
  check(strcmp(buf, "target data") == 0, "reading through l reads f");
  check_ok(__wasi_path_symlink("does/not/exist", dir, "dangling"), "a dangling symlink");
  check_eq(type_at(dir, "dangling"), __WASI_FILETYPE_SYMBOLIC_LINK, "dangling exists as a symlink");
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  check_ok(__wasi_path_symlink("../f", dir, "d/up"), "symlink d/up -> ../f");
  slurp(dir, "d/up", buf, sizeof buf);
  check(strcmp(buf, "target data") == 0, "d/up resolves relative to d");
  check_ok(__wasi_path_symlink("d", dir, "ld"), "symlink ld -> d");
  check_eq(type_at(dir, "ld/up"), __WASI_FILETYPE_SYMBOLIC_LINK, "paths through ld reach d");
  check_err(__wasi_path_symlink("f", dir, "l"), __WASI_ERRNO_EXIST, "symlink over an existing symlink");
  check_err(__wasi_path_symlink("f", dir, "f"), __WASI_ERRNO_EXIST, "symlink over an existing file");
  check_err(__wasi_path_symlink("f", dir, "d"), __WASI_ERRNO_EXIST, "symlink over an existing directory");
  check_err(__wasi_path_symlink("f", dir, "missing/l"), __WASI_ERRNO_NOENT, "symlink under a missing parent");
  check_err(__wasi_path_symlink("f", BAD_FD, "x"), __WASI_ERRNO_BADF, "symlink under a closed fd");
  test_end();
  return 0;
}
