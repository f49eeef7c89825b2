// path_open: CREAT, EXCL, TRUNC and DIRECTORY semantics, APPEND, symlink following, rights
// trimmed to what was asked, and the errnos for each misuse.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("path_open");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd, fd2;
  check_err(open_at(dir, "f", 0, 0, &fd), __WASI_ERRNO_NOENT, "open a missing file without CREAT");
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "CREAT a new file");
  check_ok(write_all(fd, "0123456789", 10), "write 10 bytes");
  check_ok(__wasi_fd_close(fd), "close");
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "CREAT an existing file");
  check_eq(size_of(fd), 10, "CREAT alone keeps the content");
  check_ok(__wasi_fd_close(fd), "close");
  check_err(open_at(dir, "f", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, &fd), __WASI_ERRNO_EXIST, "CREAT|EXCL on an existing file");
  check_ok(open_at(dir, "g", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, &fd), "CREAT|EXCL on a new file");
  check_ok(__wasi_fd_close(fd), "close");
  check_ok(open_at(dir, "f", __WASI_OFLAGS_TRUNC, 0, &fd), "TRUNC an existing file");
  check_eq(size_of(fd), 0, "TRUNC empties it");
  check_ok(__wasi_fd_close(fd), "close");

  check_ok(__wasi_path_create_directory(dir, "d"), "mkdir d");
  check_ok(open_at(dir, "d", __WASI_OFLAGS_DIRECTORY, 0, &fd), "DIRECTORY on a directory");
  __wasi_fdstat_t st;
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check_eq(st.fs_filetype, __WASI_FILETYPE_DIRECTORY, "it is a directory fd");
  check_ok(open_at(fd, "inner", __WASI_OFLAGS_CREAT, 0, &fd2), "open relative to the new directory fd");
  check_ok(__wasi_fd_close(fd2), "close inner");
  check_eq(type_at(dir, "d/inner"), __WASI_FILETYPE_REGULAR_FILE, "d/inner created");
  check_ok(__wasi_fd_close(fd), "close d");
  check_err(open_at(dir, "f", __WASI_OFLAGS_DIRECTORY, 0, &fd), __WASI_ERRNO_NOTDIR, "DIRECTORY on a file");
  check_err(open_at(dir, "f/", 0, 0, &fd), __WASI_ERRNO_NOTDIR, "a file with a trailing slash");
  check_err(open_at(dir, "f/x", __WASI_OFLAGS_CREAT, 0, &fd), __WASI_ERRNO_NOTDIR, "CREAT beneath a file");
  check_err(open_at(dir, "missing/x", __WASI_OFLAGS_CREAT, 0, &fd), __WASI_ERRNO_NOENT, "CREAT beneath a missing directory");
  check_err(open_at(dir, "d", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, &fd), __WASI_ERRNO_EXIST, "CREAT|EXCL on a directory");
  check_err2(open_at(dir, "d", __WASI_OFLAGS_TRUNC, 0, &fd), __WASI_ERRNO_ISDIR, __WASI_ERRNO_NOTCAPABLE, "TRUNC on a directory");
  check_err(open_at(dir, "d", __WASI_OFLAGS_CREAT, 0, &fd), __WASI_ERRNO_ISDIR, "CREAT (for writing) on a directory");
  check_err(open_at(dir, "", 0, 0, &fd), __WASI_ERRNO_NOENT, "the empty path");

  // APPEND: every write lands at the end.
  make_file(dir, "log", "a");
  check_ok(open_at(dir, "log", 0, __WASI_FDFLAGS_APPEND, &fd), "open with APPEND");
  check_ok(write_all(fd, "b", 1), "append b");
  __wasi_filesize_t pos;
  check_ok(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), "seek to 0");
  check_ok(write_all(fd, "c", 1), "append c after seeking to 0");
  check_ok(__wasi_fd_close(fd), "close");
  char buf[16];
  slurp(dir, "log", buf, sizeof buf);
  check(strcmp(buf, "abc") == 0, "log is abc");

  // Symlinks: followed with SYMLINK_FOLLOW; without it, a final symlink is ELOOP.
  check_ok(__wasi_path_symlink("log", dir, "ln"), "symlink ln -> log");
  __wasi_rights_t r = inheriting_of(dir);
  check_ok(__wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "ln", 0, r, r, 0, &fd), "open ln following");
  check_eq(size_of(fd), 3, "ln leads to log");
  check_ok(__wasi_fd_close(fd), "close");
  check_err(__wasi_path_open(dir, 0, "ln", 0, r, r, 0, &fd), __WASI_ERRNO_LOOP, "open ln without following");
  check_ok(__wasi_path_symlink("d", dir, "ld"), "symlink ld -> d");
  check_ok(__wasi_path_open(dir, 0, "ld/inner", 0, r, r, 0, &fd), "a symlink in the middle of a path is always followed");
  check_ok(__wasi_fd_close(fd), "close");
  check_ok(__wasi_path_symlink("nowhere", dir, "dangling"), "symlink dangling -> nowhere");
  check_ok(open_at(dir, "dangling", __WASI_OFLAGS_CREAT, 0, &fd), "CREAT through a dangling symlink creates the target");
  check_ok(__wasi_fd_close(fd), "close");
  check_eq(type_at(dir, "nowhere"), __WASI_FILETYPE_REGULAR_FILE, "nowhere was created");

  // Rights: what was asked, nothing more.
  check_ok(open_with_rights(dir, "log", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK, &fd), "open read-only");
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check_eq(st.fs_rights_base, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK, "only the asked rights");
  __wasi_ciovec_t iov = {(const uint8_t *)"x", 1};
  __wasi_size_t n;
  check_err(__wasi_fd_write(fd, &iov, 1, &n), __WASI_ERRNO_NOTCAPABLE, "write through a read-only fd");
  check_ok(__wasi_fd_close(fd), "close");

  // The directory's rights gate the oflags: CREAT needs path_create_file, TRUNC
  // path_filestat_set_size, any open path_open.
  __wasi_fd_t d;
  check_ok(open_at(dir, "d", __WASI_OFLAGS_DIRECTORY, 0, &d), "open d");
  check_ok(__wasi_fd_fdstat_get(d, &st), "fdstat d");
  __wasi_rights_t base = st.fs_rights_base, inh = st.fs_rights_inheriting;
  check_ok(__wasi_fd_fdstat_set_rights(d, base & ~(__WASI_RIGHTS_PATH_CREATE_FILE | __WASI_RIGHTS_PATH_FILESTAT_SET_SIZE), inh), "drop path_create_file and path_filestat_set_size from d");
  check_err(open_at(d, "new", __WASI_OFLAGS_CREAT, 0, &fd), __WASI_ERRNO_NOTCAPABLE, "CREAT without path_create_file");
  check_err(open_at(d, "inner", __WASI_OFLAGS_TRUNC, 0, &fd), __WASI_ERRNO_NOTCAPABLE, "TRUNC without path_filestat_set_size");
  check_ok(open_at(d, "inner", 0, 0, &fd), "a plain open still works");
  check_ok(__wasi_fd_close(fd), "close");
  check_ok(__wasi_fd_fdstat_set_rights(d, base & ~(__WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_CREATE_FILE | __WASI_RIGHTS_PATH_FILESTAT_SET_SIZE), inh), "drop path_open from d");
  check_err(open_at(d, "inner", 0, 0, &fd), __WASI_ERRNO_NOTCAPABLE, "open without path_open");
  check_ok(__wasi_fd_close(d), "close d");

  check_err(open_at(BAD_FD, "f", 0, 0, &fd), __WASI_ERRNO_BADF, "open under a closed fd");
  check_ok(open_at(dir, "f", 0, 0, &fd2), "open f");
  check_err(open_at(fd2, "x", 0, 0, &fd), __WASI_ERRNO_NOTDIR, "open relative to a file fd");
  check_ok(__wasi_fd_close(fd2), "close");
  test_end();
  return 0;
}
