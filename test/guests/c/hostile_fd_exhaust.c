// Hostile guest: opens the same file until the descriptor table is full. The host must answer
// EMFILE (or ENFILE/ENOMEM), never grow without bound; after closing everything, opening works.
#include "common.h"

static __wasi_fd_t fds[100000];

int main(int argc, char **argv) {
  test_begin("hostile_fd_exhaust");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  make_file(dir, "f", "x");
  size_t count = 0;
  __wasi_errno_t e = 0;
  while (count < sizeof fds / sizeof fds[0]) {
    e = open_at(dir, "f", 0, 0, &fds[count]);
    if (e != 0) break;
    count++;
  }
  printf("opened %zu descriptors before E%s\n", count, errno_name(e));
  check(count < sizeof fds / sizeof fds[0], "the descriptor table is bounded");
  check(e == __WASI_ERRNO_MFILE || e == __WASI_ERRNO_NFILE || e == __WASI_ERRNO_NOMEM, "a full table answers EMFILE, ENFILE or ENOMEM");
  for (size_t i = 0; i < count; i++) {
    if (__wasi_fd_close(fds[i]) != 0) nv_fail(__FILE__, __LINE__, "close", "failed");
  }
  check(1, "every descriptor closed");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", 0, 0, &fd), "opening works again");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
