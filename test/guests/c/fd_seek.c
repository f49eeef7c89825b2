// fd_seek: SET, CUR and END; seeking past the end is allowed and a write there leaves a
// zero-filled gap; a negative resulting offset and an unknown whence are EINVAL.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_seek");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", __WASI_OFLAGS_CREAT, 0, &fd), "create f");
  check_ok(write_all(fd, "0123456789", 10), "write 10 bytes");
  __wasi_filesize_t pos = 99;
  check_ok(__wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &pos), "seek CUR 0");
  check_eq(pos, 10, "at 10 after writing");
  check_ok(__wasi_fd_seek(fd, 3, __WASI_WHENCE_SET, &pos), "seek SET 3");
  check_eq(pos, 3, "at 3");
  check_ok(__wasi_fd_seek(fd, 2, __WASI_WHENCE_CUR, &pos), "seek CUR +2");
  check_eq(pos, 5, "at 5");
  check_ok(__wasi_fd_seek(fd, -1, __WASI_WHENCE_CUR, &pos), "seek CUR -1");
  check_eq(pos, 4, "at 4");
  check_ok(__wasi_fd_seek(fd, -2, __WASI_WHENCE_END, &pos), "seek END -2");
  check_eq(pos, 8, "at 8");
  char c = 0;
  __wasi_iovec_t iov = {(uint8_t *)&c, 1};
  __wasi_size_t n;
  check_ok(__wasi_fd_read(fd, &iov, 1, &n), "read one byte");
  check(n == 1 && c == '8', "read 8 at offset 8");
  check_ok(__wasi_fd_seek(fd, 10, __WASI_WHENCE_END, &pos), "seek END +10 (past the end)");
  check_eq(pos, 20, "at 20");
  check_eq(size_of(fd), 10, "seeking alone does not grow the file");
  check_ok(__wasi_fd_read(fd, &iov, 1, &n), "read past the end");
  check_eq(n, 0, "0 bytes past the end");
  check_ok(write_all(fd, "Z", 1), "write at 20");
  check_eq(size_of(fd), 21, "file grew to 21");
  char buf[32];
  check_eq(slurp(dir, "f", buf, sizeof buf), 21, "21 bytes read back");
  check(memcmp(buf + 10, "\0\0\0\0\0\0\0\0\0\0Z", 11) == 0, "gap is zero-filled");
  check_err(__wasi_fd_seek(fd, -1, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_INVAL, "seek SET -1");
  check_err(__wasi_fd_seek(fd, -100, __WASI_WHENCE_END, &pos), __WASI_ERRNO_INVAL, "seek END -100 (before the start)");
  check_ok(__wasi_fd_tell(fd, &pos), "tell");
  check_eq(pos, 21, "a refused seek leaves the offset alone");
  check_err(__wasi_fd_seek(fd, 0, 3, &pos), __WASI_ERRNO_INVAL, "whence 3");
  check_err(__wasi_fd_seek(fd, 0, 255, &pos), __WASI_ERRNO_INVAL, "whence 255");
  check_err(__wasi_fd_seek(BAD_FD, 0, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_BADF, "seek a closed fd");
  __wasi_fdstat_t st;
  check_ok(__wasi_fd_fdstat_get(1, &st), "fdstat of stdout");
  if (st.fs_filetype == __WASI_FILETYPE_CHARACTER_DEVICE) {
    check_err2(__wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_SPIPE, __WASI_ERRNO_NOTCAPABLE, "seek a character device");
  }
  check_ok(__wasi_fd_fdstat_get(fd, &st), "fdstat");
  check_ok(__wasi_fd_fdstat_set_rights(fd, st.fs_rights_base & ~(__WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL), 0), "drop fd_seek and fd_tell");
  check_err(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_NOTCAPABLE, "seek without fd_seek");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
