// clock_time_get: realtime is wall-clock ns since the epoch, monotonic never goes back,
// precision is only a hint, unknown ids are EINVAL.
#include "common.h"

int main(void) {
  test_begin("clock_time_get");
  __wasi_timestamp_t t = 0;
  check_ok(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t), "realtime");
  check(t > 1577836800ull * 1000000000ull, "realtime is after 2020-01-01");
  check(t < 4102444800ull * 1000000000ull, "realtime is before 2100-01-01");
  __wasi_timestamp_t prev = 0, now = 0;
  check_ok(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &prev), "monotonic");
  int backwards = 0;
  for (int i = 0; i < 10000; i++) {
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &now) != 0) backwards = -1;
    if (now < prev) backwards = 1;
    prev = now;
  }
  check(backwards == 0, "monotonic never goes back over 10000 reads");
  // Busy-wait 5 ms of monotonic time: the clock must advance.
  __wasi_timestamp_t start = now;
  while (now - start < 5000000ull) {
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &now) != 0) break;
  }
  check(now - start >= 5000000ull, "monotonic advances");
  check_ok(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, UINT64_MAX, &now), "precision UINT64_MAX is accepted");
  __wasi_clockid_t cpu[] = {__WASI_CLOCKID_PROCESS_CPUTIME_ID, __WASI_CLOCKID_THREAD_CPUTIME_ID};
  for (int i = 0; i < 2; i++) {
    __wasi_errno_t e = __wasi_clock_time_get(cpu[i], 0, &t);
    check(e == 0 || e == __WASI_ERRNO_INVAL, "cpu-time clock supported or EINVAL");
  }
  check_err(__wasi_clock_time_get(4, 0, &t), __WASI_ERRNO_INVAL, "clock id 4");
  check_err(__wasi_clock_time_get(0x80000000u, 0, &t), __WASI_ERRNO_INVAL, "clock id 0x80000000");
  test_end();
  return 0;
}
