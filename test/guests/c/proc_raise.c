// proc_raise: a Nano-VM has no signals; the call must answer an errno (ENOSYS or ENOTSUP),
// never kill or trap the guest. wasi-libc no longer declares it, so the import is raw.
#include "common.h"
#include "raw.h"

int main(void) {
  test_begin("proc_raise");
  int e = raw_proc_raise(15 /* SIGTERM */);
  printf("proc_raise(SIGTERM) -> E%s\n", errno_name(e));
  check(e == __WASI_ERRNO_NOSYS || e == __WASI_ERRNO_NOTSUP, "proc_raise answers ENOSYS or ENOTSUP");
  e = raw_proc_raise(0);
  check(e != 0 || 1, "proc_raise(0) returns");
  e = raw_proc_raise(200);
  check(e != 0, "proc_raise with an out-of-range signal is an errno");
  test_end();
  return 0;
}
