// fd_renumber: `to` becomes the descriptor `fd` was (closing what `to` held) and `fd` is
// closed; renumbering an fd onto itself changes nothing; a closed `fd` is EBADF.
#include "common.h"

int main(int argc, char **argv) {
  test_begin("fd_renumber");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  make_file(dir, "a", "AAAA");
  make_file(dir, "b", "BB");
  __wasi_fd_t fa, fb;
  check_ok(open_at(dir, "a", 0, 0, &fa), "open a");
  check_ok(open_at(dir, "b", 0, 0, &fb), "open b");
  __wasi_filesize_t pos;
  check_ok(__wasi_fd_seek(fa, 1, __WASI_WHENCE_SET, &pos), "seek a to 1");
  check_ok(__wasi_fd_renumber(fa, fb), "renumber a onto b");
  check_eq(size_of(fb), 4, "fb now refers to a (4 bytes)");
  check_ok(__wasi_fd_tell(fb, &pos), "tell fb");
  check_eq(pos, 1, "the offset moved with the descriptor");
  __wasi_fdstat_t st;
  check_err(__wasi_fd_fdstat_get(fa, &st), __WASI_ERRNO_BADF, "the old number is closed");
  check_ok(__wasi_fd_renumber(fb, fb), "renumber an fd onto itself");
  check_eq(size_of(fb), 4, "still a after renumbering onto itself");
  check_err(__wasi_fd_renumber(BAD_FD, fb), __WASI_ERRNO_BADF, "renumber a closed fd");
  check_eq(size_of(fb), 4, "a failed renumber leaves the target open");
  check_err(__wasi_fd_renumber(fa, fb), __WASI_ERRNO_BADF, "renumber the closed old number");
  // Renumber onto stdout-like numbers is allowed: move a file over stderr's slot and back.
  __wasi_fd_t fc;
  check_ok(open_at(dir, "b", 0, 0, &fc), "open b again");
  check_ok(__wasi_fd_renumber(fc, 2), "renumber b onto fd 2 (stderr)");
  check_eq(size_of(2), 2, "fd 2 is now b");
  check_ok(__wasi_fd_close(fb), "close fb");
  test_end();
  return 0;
}
