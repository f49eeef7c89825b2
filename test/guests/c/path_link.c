// path_link: a hard link shares the file (content and inode, nlink 2); EEXIST when the new
// name is taken, ENOENT when the source is missing, directories cannot be hard-linked.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("path_link");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  make_file(dir, "f", "shared");
  check_ok(__wasi_path_link(dir, 0, "f", dir, "g"), "link g to f");
  __wasi_filestat_t sf, sg;
  check_ok(__wasi_path_filestat_get(dir, 0, "f", &sf), "stat f");
  check_ok(__wasi_path_filestat_get(dir, 0, "g", &sg), "stat g");
  check_eq(sg.ino, sf.ino, "same inode");
  check_eq(sf.nlink, 2, "f has two links");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "g", 0, __WASI_FDFLAGS_APPEND, &fd), "open g");
  check_ok(write_all(fd, "+more", 5), "append through g");
  check_ok(__wasi_fd_close(fd), "close g");
  char buf[32];
  slurp(dir, "f", buf, sizeof buf);
  check(strcmp(buf, "shared+more") == 0, "the write shows through f");
  check_ok(__wasi_path_unlink_file(dir, "f"), "unlink f");
  slurp(dir, "g", buf, sizeof buf);
  check(strcmp(buf, "shared+more") == 0, "g survives unlinking f");
  check_ok(__wasi_path_filestat_get(dir, 0, "g", &sg), "stat g");
  check_eq(sg.nlink, 1, "g has one link left");
  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  check_ok(__wasi_path_link(dir, 0, "g", dir, "d/h"), "link into a subdirectory");
  check_eq(type_at(dir, "d/h"), __WASI_FILETYPE_REGULAR_FILE, "d/h exists");
  make_file(dir, "taken", "t");
  check_err(__wasi_path_link(dir, 0, "g", dir, "taken"), __WASI_ERRNO_EXIST, "link onto an existing file");
  check_err(__wasi_path_link(dir, 0, "g", dir, "d"), __WASI_ERRNO_EXIST, "link onto an existing directory");
  check_err(__wasi_path_link(dir, 0, "missing", dir, "x"), __WASI_ERRNO_NOENT, "link a missing source");
  check_err(__wasi_path_link(dir, 0, "g", dir, "missing/x"), __WASI_ERRNO_NOENT, "link into a missing directory");
  check_err2(__wasi_path_link(dir, 0, "d", dir, "d2"), __WASI_ERRNO_PERM, __WASI_ERRNO_ACCES, "hard-link a directory");
  check_err(__wasi_path_link(BAD_FD, 0, "g", dir, "x"), __WASI_ERRNO_BADF, "link from a closed fd");
  check_err(__wasi_path_link(dir, 0, "g", BAD_FD, "x"), __WASI_ERRNO_BADF, "link to a closed fd");
  test_end();
  return 0;
}
