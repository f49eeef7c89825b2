// clock_res_get: resolution of each clock; a non-zero value for realtime and monotonic, the
// CPU-time clocks either supported or EINVAL, any other id EINVAL.
#include "common.h"

int main(void) {
  test_begin("clock_res_get");
  __wasi_timestamp_t res = 0;
  check_ok(__wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &res), "realtime resolution");
  check(res > 0 && res <= 1000000000ull, "realtime resolution is between 1 ns and 1 s");
  res = 0;
  check_ok(__wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res), "monotonic resolution");
  check(res > 0 && res <= 1000000000ull, "monotonic resolution is between 1 ns and 1 s");
  __wasi_clockid_t cpu[] = {__WASI_CLOCKID_PROCESS_CPUTIME_ID, __WASI_CLOCKID_THREAD_CPUTIME_ID};
  for (int i = 0; i < 2; i++) {
    res = 0;
    __wasi_errno_t e = __wasi_clock_res_get(cpu[i], &res);
    check(e == 0 || e == __WASI_ERRNO_INVAL, "cpu-time clock supported or EINVAL");
    if (e == 0) check(res > 0, "cpu-time resolution is non-zero");
  }
  check_err(__wasi_clock_res_get(4, &res), __WASI_ERRNO_INVAL, "clock id 4");
  check_err(__wasi_clock_res_get(0xFFFFFFFFu, &res), __WASI_ERRNO_INVAL, "clock id 0xFFFFFFFF");
  test_end();
  return 0;
}
