// poll_oneoff: relative and absolute clock subscriptions wait at least their timeout; the
// earliest of several clocks fires alone; fd_read/fd_write on a regular file are ready at once;
// zero subscriptions is EINVAL; a bad fd is reported in its event (or by the call).
#include "common.h"

static __wasi_timestamp_t mono(void) {
  __wasi_timestamp_t t = 0;
  if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t) != 0) nv_fail(__FILE__, __LINE__, "clock_time_get", "");
  return t;
}

static __wasi_subscription_t clock_sub(uint64_t userdata, __wasi_timestamp_t timeout, int abs) {
  __wasi_subscription_t s;
  memset(&s, 0, sizeof s);
  s.userdata = userdata;
  s.u.tag = __WASI_EVENTTYPE_CLOCK;
  s.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  s.u.u.clock.timeout = timeout;
  s.u.u.clock.precision = 0;
  s.u.u.clock.flags = abs ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
  return s;
}

static __wasi_subscription_t fd_sub(uint64_t userdata, __wasi_eventtype_t type, __wasi_fd_t fd) {
  __wasi_subscription_t s;
  memset(&s, 0, sizeof s);
  s.userdata = userdata;
  s.u.tag = type;
  if (type == __WASI_EVENTTYPE_FD_READ) s.u.u.fd_read.file_descriptor = fd;
  else s.u.u.fd_write.file_descriptor = fd;
  return s;
}

#define MS 1000000ull

int main(int argc, char **argv) {
  test_begin("poll_oneoff");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  check_eq(sizeof(__wasi_subscription_t), 48, "subscription is 48 bytes");
  check_eq(sizeof(__wasi_event_t), 32, "event is 32 bytes");
  __wasi_subscription_t in[4];
  __wasi_event_t out[4];
  __wasi_size_t n = 0;

  // Relative clock.
  in[0] = clock_sub(0x1111, 20 * MS, 0);
  __wasi_timestamp_t t0 = mono();
  check_ok(__wasi_poll_oneoff(in, out, 1, &n), "poll a relative 20 ms clock");
  __wasi_timestamp_t waited = mono() - t0;
  check_eq(n, 1, "one event");
  check_eq(out[0].userdata, 0x1111, "userdata echoed");
  check_eq(out[0].type, __WASI_EVENTTYPE_CLOCK, "clock event");
  check_eq(out[0].error, 0, "no error");
  check(waited >= 20 * MS, "waited at least 20 ms");
  check(waited < 2000 * MS, "waited less than 2 s");

  // Absolute clock.
  __wasi_timestamp_t deadline = mono() + 30 * MS;
  in[0] = clock_sub(0x2222, deadline, 1);
  check_ok(__wasi_poll_oneoff(in, out, 1, &n), "poll an absolute clock 30 ms ahead");
  check(mono() >= deadline, "returned no earlier than the deadline");
  check(n == 1 && out[0].userdata == 0x2222 && out[0].type == __WASI_EVENTTYPE_CLOCK, "the absolute clock fired");
  in[0] = clock_sub(0x2323, 1, 1);
  t0 = mono();
  check_ok(__wasi_poll_oneoff(in, out, 1, &n), "poll an absolute clock in the past");
  check(mono() - t0 < 500 * MS, "returned at once");
  check_eq(n, 1, "one event");
  in[0] = clock_sub(0x2424, 0, 0);
  check_ok(__wasi_poll_oneoff(in, out, 1, &n), "poll a zero relative timeout");
  check_eq(n, 1, "one event for a zero timeout");

  // Several clocks: only the earliest fires.
  in[0] = clock_sub(0xAAAA, 500 * MS, 0);
  in[1] = clock_sub(0xBBBB, 10 * MS, 0);
  t0 = mono();
  check_ok(__wasi_poll_oneoff(in, out, 2, &n), "poll 500 ms and 10 ms clocks");
  waited = mono() - t0;
  check_eq(n, 1, "one event");
  check_eq(out[0].userdata, 0xBBBB, "the 10 ms clock fired");
  check(waited >= 10 * MS && waited < 500 * MS, "waited for the earliest clock only");

  // fd_read / fd_write on a regular file are always ready.
  make_file(dir, "f", "0123456789");
  __wasi_fd_t fd;
  check_ok(open_at(dir, "f", 0, 0, &fd), "open f");
  in[0] = clock_sub(0xC10C, 5000 * MS, 0);
  in[1] = fd_sub(0xF00D, __WASI_EVENTTYPE_FD_READ, fd);
  in[2] = fd_sub(0xBEEF, __WASI_EVENTTYPE_FD_WRITE, fd);
  t0 = mono();
  check_ok(__wasi_poll_oneoff(in, out, 3, &n), "poll fd_read + fd_write on a file with a 5 s clock");
  check(mono() - t0 < 2000 * MS, "a file is ready at once");
  check_eq(n, 2, "two events (read and write), no clock");
  int sawr = 0, saww = 0;
  for (__wasi_size_t i = 0; i < n; i++) {
    if (out[i].userdata == 0xF00D && out[i].type == __WASI_EVENTTYPE_FD_READ && out[i].error == 0) {
      sawr = 1;
      check_eq(out[i].fd_readwrite.nbytes, 10, "fd_read nbytes: the 10 bytes left to read");
    }
    if (out[i].userdata == 0xBEEF && out[i].type == __WASI_EVENTTYPE_FD_WRITE && out[i].error == 0) saww = 1;
  }
  check(sawr, "fd_read event for the file");
  check(saww, "fd_write event for the file");

  // Stdout is writable; stdin (empty, at EOF) is readable.
  in[0] = fd_sub(1, __WASI_EVENTTYPE_FD_WRITE, 1);
  in[1] = clock_sub(2, 5000 * MS, 0);
  check_ok(__wasi_poll_oneoff(in, out, 2, &n), "poll fd_write on stdout");
  check(n >= 1 && out[0].userdata == 1 && out[0].type == __WASI_EVENTTYPE_FD_WRITE, "stdout is writable");

  // A closed fd: EBADF in the event (preferred) or from the call.
  in[0] = fd_sub(0xBAD, __WASI_EVENTTYPE_FD_READ, BAD_FD);
  __wasi_errno_t e = __wasi_poll_oneoff(in, out, 1, &n);
  if (e == 0) {
    check_eq(n, 1, "one event for the closed fd");
    check_err(out[0].error, __WASI_ERRNO_BADF, "event error for a closed fd");
    check_eq(out[0].userdata, 0xBAD, "userdata of the failed subscription");
  } else {
    check_err(e, __WASI_ERRNO_BADF, "poll on a closed fd");
  }
  check_err(__wasi_poll_oneoff(in, out, 0, &n), __WASI_ERRNO_INVAL, "zero subscriptions");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
