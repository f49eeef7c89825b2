// sched_yield: always succeeds (a Nano-VM has one thread).
#include "common.h"

int main(void) {
  test_begin("sched_yield");
  for (int i = 0; i < 1000; i++) {
    if (__wasi_sched_yield() != 0) nv_fail(__FILE__, __LINE__, "sched_yield", "returned an errno");
  }
  check(1, "sched_yield succeeds 1000 times");
  test_end();
  return 0;
}
