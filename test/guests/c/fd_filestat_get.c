// fd_filestat_get: type, size, link count and timestamps of an open file and a directory.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_filestat_get");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  __wasi_filestat_t st;
  check_ok(__wasi_fd_filestat_get(fd, &st), "filestat of a new file");
  check_eq(st.filetype, __WASI_FILETYPE_REGULAR_FILE, "regular file");
  check_eq(st.size, 0, "new file is empty");
  check(st.nlink >= 1, "nlink >= 1");
  check_ok(write_all(fd, "hello world", 11), "write 11 bytes");
  check_ok(__wasi_fd_filestat_get(fd, &st), "filestat after write");
  check_eq(st.size, 11, "size is 11");
  check(st.mtim > 1577836800ull * 1000000000ull, "mtim is a plausible ns timestamp");
  __wasi_filestat_t pst;
  check_ok(__wasi_path_filestat_get(dir, 0, "f", &pst), "path_filestat_get f");
  check_eq(pst.ino, st.ino, "same inode through fd and path");
  check_eq(pst.dev, st.dev, "same device through fd and path");
  check_eq(pst.size, st.size, "same size through fd and path");
  check_ok(__wasi_fd_filestat_get(dir, &st), "filestat of the preopen");
  check_eq(st.filetype, __WASI_FILETYPE_DIRECTORY, "preopen is a directory");
  check_ok(__wasi_fd_filestat_get(1, &st), "filestat of stdout");
  check(st.filetype != __WASI_FILETYPE_DIRECTORY, "stdout is not a directory");
  check_err(__wasi_fd_filestat_get(BAD_FD, &st), __WASI_ERRNO_BADF, "filestat of a closed fd");
  __wasi_fdstat_t fs;
  check_ok(__wasi_fd_fdstat_get(fd, &fs), "fdstat");
  check_ok(__wasi_fd_fdstat_set_rights(fd, fs.fs_rights_base & ~__WASI_RIGHTS_FD_FILESTAT_GET, 0), "drop fd_filestat_get");
  check_err(__wasi_fd_filestat_get(fd, &st), __WASI_ERRNO_NOTCAPABLE, "filestat without the right");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
