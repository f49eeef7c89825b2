// Shared helpers for the C guest test programs: check macros that print what they check and
// exit non-zero naming the failed check, errno names, the scratch preopen lookup and small
// file helpers built on the raw preview1 calls (never on wasi-libc's own fd bookkeeping, so a
// test sees exactly what the kernel answers).
#ifndef NV_COMMON_H
#define NV_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static const char *const nv_errno_names[] = {
    "SUCCESS", "2BIG", "ACCES", "ADDRINUSE", "ADDRNOTAVAIL", "AFNOSUPPORT", "AGAIN", "ALREADY",
    "BADF", "BADMSG", "BUSY", "CANCELED", "CHILD", "CONNABORTED", "CONNREFUSED", "CONNRESET",
    "DEADLK", "DESTADDRREQ", "DOM", "DQUOT", "EXIST", "FAULT", "FBIG", "HOSTUNREACH", "IDRM",
    "ILSEQ", "INPROGRESS", "INTR", "INVAL", "IO", "ISCONN", "ISDIR", "LOOP", "MFILE", "MLINK",
    "MSGSIZE", "MULTIHOP", "NAMETOOLONG", "NETDOWN", "NETRESET", "NETUNREACH", "NFILE", "NOBUFS",
    "NODEV", "NOENT", "NOEXEC", "NOLCK", "NOLINK", "NOMEM", "NOMSG", "NOPROTOOPT", "NOSPC",
    "NOSYS", "NOTCONN", "NOTDIR", "NOTEMPTY", "NOTRECOVERABLE", "NOTSOCK", "NOTSUP", "NOTTY",
    "NXIO", "OVERFLOW", "OWNERDEAD", "PERM", "PIPE", "PROTO", "PROTONOSUPPORT", "PROTOTYPE",
    "RANGE", "ROFS", "SPIPE", "SRCH", "STALE", "TIMEDOUT", "TXTBSY", "XDEV", "NOTCAPABLE",
};

static inline const char *errno_name(int e) {
  static char other[24];
  if (e >= 0 && e < (int)(sizeof nv_errno_names / sizeof nv_errno_names[0])) return nv_errno_names[e];
  snprintf(other, sizeof other, "errno %d", e);
  return other;
}

static const char *nv_program = "guest";

static inline void nv_fail(const char *file, int line, const char *what, const char *detail) {
  fflush(stdout);
  fprintf(stderr, "FAIL %s: %s%s%s (%s:%d)\n", nv_program, what, detail[0] ? ": " : "", detail, file, line);
  exit(1);
}

/** Checks a condition; prints "ok: what" or fails naming the check. */
#define check(cond, what)                              \
  do {                                                 \
    if (cond) printf("ok: %s\n", (what));              \
    else nv_fail(__FILE__, __LINE__, (what), "");      \
  } while (0)

/** Checks that a preview1 call (an errno-returning expression) succeeds. */
#define check_ok(expr, what)                                                   \
  do {                                                                         \
    int nv_e_ = (int)(expr);                                                   \
    if (nv_e_ == 0) printf("ok: %s\n", (what));                                \
    else {                                                                     \
      char nv_d_[64];                                                          \
      snprintf(nv_d_, sizeof nv_d_, "expected success, got E%s", errno_name(nv_e_)); \
      nv_fail(__FILE__, __LINE__, (what), nv_d_);                              \
    }                                                                          \
  } while (0)

/** Checks that a preview1 call fails with exactly the given errno. */
#define check_err(expr, expected, what)                                        \
  do {                                                                         \
    int nv_e_ = (int)(expr);                                                   \
    if (nv_e_ == (int)(expected)) printf("ok: %s -> E%s\n", (what), errno_name(nv_e_)); \
    else {                                                                     \
      char nv_d_[96];                                                          \
      snprintf(nv_d_, sizeof nv_d_, "expected E%s, got E%s", errno_name((int)(expected)), errno_name(nv_e_)); \
      nv_fail(__FILE__, __LINE__, (what), nv_d_);                              \
    }                                                                          \
  } while (0)

/** Checks that a call fails with one of two errnos (where the spec allows either). */
#define check_err2(expr, e1, e2, what)                                         \
  do {                                                                         \
    int nv_e_ = (int)(expr);                                                   \
    if (nv_e_ == (int)(e1) || nv_e_ == (int)(e2)) printf("ok: %s -> E%s\n", (what), errno_name(nv_e_)); \
    else {                                                                     \
      char nv_d_[128];                                                         \
      snprintf(nv_d_, sizeof nv_d_, "expected E%s or E%s, got E%s", errno_name((int)(e1)), errno_name((int)(e2)), errno_name(nv_e_)); \
      nv_fail(__FILE__, __LINE__, (what), nv_d_);                              \
    }                                                                          \
  } while (0)

/** Checks that a call fails (any errno but success): for hostile inputs where only "no crash, an errno" matters. */
#define check_fails(expr, what)                                                \
  do {                                                                         \
    int nv_e_ = (int)(expr);                                                   \
    if (nv_e_ != 0) printf("ok: %s -> E%s\n", (what), errno_name(nv_e_));      \
    else nv_fail(__FILE__, __LINE__, (what), "expected an errno, got success"); \
  } while (0)

/** Checks two unsigned 64-bit values are equal, printing both on failure. */
#define check_eq(got, want, what)                                              \
  do {                                                                         \
    unsigned long long nv_g_ = (unsigned long long)(got), nv_w_ = (unsigned long long)(want); \
    if (nv_g_ == nv_w_) printf("ok: %s\n", (what));                            \
    else {                                                                     \
      char nv_d_[96];                                                          \
      snprintf(nv_d_, sizeof nv_d_, "got %llu, want %llu", nv_g_, nv_w_);      \
      nv_fail(__FILE__, __LINE__, (what), nv_d_);                              \
    }                                                                          \
  } while (0)

/** Sets the program name used in failure messages (call first in main). */
static inline void test_begin(const char *name) {
  nv_program = name;
  setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline void test_end(void) {
  printf("PASS %s\n", nv_program);
}

/** Finds the preopened directory whose name equals `name` (fds from 3 up, via fd_prestat_*). */
static inline __wasi_fd_t find_preopen(const char *name) {
  for (__wasi_fd_t fd = 3; fd < 1024; fd++) {
    __wasi_prestat_t ps;
    __wasi_errno_t e = __wasi_fd_prestat_get(fd, &ps);
    if (e == __WASI_ERRNO_BADF) break;
    if (e != 0 || ps.tag != __WASI_PREOPENTYPE_DIR) continue;
    char buf[256];
    size_t len = ps.u.dir.pr_name_len;
    if (len >= sizeof buf) continue;
    if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, len) != 0) continue;
    buf[len] = 0;
    if (strcmp(buf, name) == 0) return fd;
  }
  return (__wasi_fd_t)-1;
}

/** The scratch preopen named by argv[1]; fails the test if there is none. */
static inline __wasi_fd_t scratch_dir(int argc, char **argv) {
  if (argc < 2) nv_fail(__FILE__, __LINE__, "scratch dir", "usage: prog SCRATCH_PREOPEN_NAME");
  __wasi_fd_t fd = find_preopen(argv[1]);
  if (fd == (__wasi_fd_t)-1) nv_fail(__FILE__, __LINE__, "scratch dir", "no preopen with that name");
  return fd;
}

#define RIGHTS_ALL ((__wasi_rights_t)((1ull << 30) - 1))

/** The rights a directory hands down (what wasi-libc asks for when it opens beneath it). */
static inline __wasi_rights_t inheriting_of(__wasi_fd_t dir) {
  __wasi_fdstat_t st;
  if (__wasi_fd_fdstat_get(dir, &st) != 0) return RIGHTS_ALL;
  return st.fs_rights_inheriting;
}

/** path_open asking for every right the directory hands down, as wasi-libc's open(O_RDWR) does. */
static inline __wasi_errno_t open_at(__wasi_fd_t dir, const char *path, __wasi_oflags_t oflags,
                                     __wasi_fdflags_t fdflags, __wasi_fd_t *out) {
  __wasi_rights_t r = inheriting_of(dir);
  // Like wasi-libc's open(O_RDONLY | O_DIRECTORY): a directory is never opened for writing.
  if (oflags & __WASI_OFLAGS_DIRECTORY)
    r &= ~(__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE);
  return __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, oflags, r, r, fdflags, out);
}

/** path_open asking for exactly `rights` (base and inheriting). */
static inline __wasi_errno_t open_with_rights(__wasi_fd_t dir, const char *path, __wasi_oflags_t oflags,
                                              __wasi_rights_t rights, __wasi_fd_t *out) {
  return __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, oflags, rights, rights, 0, out);
}

/** Writes `len` bytes at the current offset, looping on short writes; returns errno. */
static inline __wasi_errno_t write_all(__wasi_fd_t fd, const void *data, size_t len) {
  const uint8_t *p = (const uint8_t *)data;
  while (len > 0) {
    __wasi_ciovec_t iov = {p, len};
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_fd_write(fd, &iov, 1, &n);
    if (e != 0) return e;
    if (n == 0) return __WASI_ERRNO_IO;
    p += n;
    len -= n;
  }
  return 0;
}

/** Reads until EOF or `cap` bytes; stores the count in *got; returns errno. */
static inline __wasi_errno_t read_all(__wasi_fd_t fd, void *buf, size_t cap, size_t *got) {
  uint8_t *p = (uint8_t *)buf;
  size_t have = 0;
  while (have < cap) {
    __wasi_iovec_t iov = {p + have, cap - have};
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_fd_read(fd, &iov, 1, &n);
    if (e != 0) return e;
    if (n == 0) break;
    have += n;
  }
  *got = have;
  return 0;
}

/** Creates (or truncates) `path` under `dir` holding the NUL-terminated `content`; fails the test on error. */
static inline void make_file(__wasi_fd_t dir, const char *path, const char *content) {
  __wasi_fd_t fd;
  __wasi_errno_t e = open_at(dir, path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, &fd);
  if (e != 0) nv_fail(__FILE__, __LINE__, "make_file: path_open", errno_name(e));
  e = write_all(fd, content, strlen(content));
  if (e != 0) nv_fail(__FILE__, __LINE__, "make_file: fd_write", errno_name(e));
  if (__wasi_fd_close(fd) != 0) nv_fail(__FILE__, __LINE__, "make_file: fd_close", "");
}

/** Reads all of `path` under `dir` into buf (NUL-terminated); returns the length; fails the test on error. */
static inline size_t slurp(__wasi_fd_t dir, const char *path, char *buf, size_t cap) {
  __wasi_fd_t fd;
  __wasi_errno_t e = open_at(dir, path, 0, 0, &fd);
  if (e != 0) nv_fail(__FILE__, __LINE__, "slurp: path_open", errno_name(e));
  size_t got = 0;
  e = read_all(fd, buf, cap - 1, &got);
  if (e != 0) nv_fail(__FILE__, __LINE__, "slurp: fd_read", errno_name(e));
  buf[got] = 0;
  if (__wasi_fd_close(fd) != 0) nv_fail(__FILE__, __LINE__, "slurp: fd_close", "");
  return got;
}

/** The filetype of `path` (not following a final symlink), or 0xff if it does not exist. */
static inline int type_at(__wasi_fd_t dir, const char *path) {
  __wasi_filestat_t st;
  if (__wasi_path_filestat_get(dir, 0, path, &st) != 0) return 0xff;
  return st.filetype;
}

/** The size of an open file per fd_filestat_get. */
static inline uint64_t size_of(__wasi_fd_t fd) {
  __wasi_filestat_t st;
  __wasi_errno_t e = __wasi_fd_filestat_get(fd, &st);
  if (e != 0) nv_fail(__FILE__, __LINE__, "size_of: fd_filestat_get", errno_name(e));
  return st.size;
}

/** A descriptor number that is certainly not open. */
#define BAD_FD ((__wasi_fd_t)9999)

#endif
