// fd_write: stdout and stderr carry exactly what is written (the host test compares them);
// writes gather iovecs and advance the offset; APPEND writes at the end whatever the offset;
// needs fd_write.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_write");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_ciovec_t out[3] = {{(const uint8_t *)"to ", 3}, {(const uint8_t *)"", 0}, {(const uint8_t *)"stdout\n", 7}};
  __wasi_size_t n = 0;
  fflush(stdout);
  check_ok(__wasi_fd_write(1, out, 3, &n), "gathered write to stdout");
  check_eq(n, 10, "10 bytes to stdout");
  __wasi_ciovec_t err = {(const uint8_t *)"to stderr\n", 10};
  check_ok(__wasi_fd_write(2, &err, 1, &n), "write to stderr");
  check_eq(n, 10, "10 bytes to stderr");
  check_ok(__wasi_fd_write(1, out, 0, &n), "write with no iovecs");
  check_eq(n, 0, "0 bytes with no iovecs");

  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  __wasi_ciovec_t parts[2] = {{(const uint8_t *)"abc", 3}, {(const uint8_t *)"def", 3}};
  check_ok(__wasi_fd_write(fd, parts, 2, &n), "gathered write to a file");
  check_eq(n, 6, "6 bytes written");
  __wasi_filesize_t pos;
  check_ok(__wasi_fd_tell(fd, &pos), "tell");
  check_eq(pos, 6, "offset advanced by 6");
  check_ok(__wasi_fd_seek(fd, 1, __WASI_WHENCE_SET, &pos), "seek to 1");
  check_ok(__wasi_fd_write(fd, parts, 1, &n), "overwrite at 1");
  char buf[32];
  slurp(dir, "f", buf, sizeof buf);
  check(strcmp(buf, "aabcef") == 0, "content is aabcef");
  check_ok(__wasi_fd_close(fd), "close");

  __wasi_fd_t ap;
  check_ok(open_at(dir, "f", 0, __WASI_FDFLAGS_APPEND, &ap), "open f with APPEND");
  check_ok(__wasi_fd_seek(ap, 0, __WASI_WHENCE_SET, &pos), "seek to 0 in append mode");
  check_ok(__wasi_fd_write(ap, parts + 1, 1, &n), "append def");
  slurp(dir, "f", buf, sizeof buf);
  check(strcmp(buf, "aabcefdef") == 0, "append-mode write went to the end");
  check_ok(__wasi_fd_tell(ap, &pos), "tell in append mode");
  check_eq(pos, 9, "offset is at the new end");
  check_ok(__wasi_fd_close(ap), "close");

  check_err(__wasi_fd_write(BAD_FD, parts, 1, &n), __WASI_ERRNO_BADF, "write a closed fd");
  __wasi_fd_t ro;
  check_ok(open_with_rights(dir, "f", 0, __WASI_RIGHTS_FD_READ, &ro), "open f read-only");
  check_err(__wasi_fd_write(ro, parts, 1, &n), __WASI_ERRNO_NOTCAPABLE, "write without fd_write");
  check_ok(__wasi_fd_close(ro), "close ro");
  check_ok(__wasi_fd_fdstat_set_rights(dir, 0, 0), "drop every right of the preopen");
  check_err(__wasi_fd_write(dir, parts, 1, &n), __WASI_ERRNO_NOTCAPABLE, "write to a directory without rights");
  test_end();
  return 0;
}
