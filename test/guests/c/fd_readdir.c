// fd_readdir: packed dirents (24-byte header + name), d_next cookies that resume after an
// entry, a full buffer when it is too small for the rest, d_type of each entry, ENOTDIR on a
// file. "." and ".." may or may not be listed; everything else must be listed exactly once.
#include "common.h"

struct seen { const char *name; int type; int count; __wasi_dircookie_t next; __wasi_inode_t ino; };

static struct seen want[] = {
    {"alpha", __WASI_FILETYPE_REGULAR_FILE, 0, 0},
    {"beta", __WASI_FILETYPE_REGULAR_FILE, 0, 0},
    {"gamma-directory", __WASI_FILETYPE_DIRECTORY, 0, 0},
    {"link", __WASI_FILETYPE_SYMBOLIC_LINK, 0, 0},
};
#define NWANT 4

static uint8_t buf[4096];

/** Parses a readdir buffer; returns how many entries were complete, records each in `want`. */
static int parse(size_t used, __wasi_dircookie_t *last_next, int *others) {
  size_t off = 0;
  int complete = 0;
  while (off + sizeof(__wasi_dirent_t) <= used) {
    __wasi_dirent_t d;
    memcpy(&d, buf + off, sizeof d);
    if (off + sizeof d + d.d_namlen > used) break;
    const char *name = (const char *)buf + off + sizeof d;
    int matched = 0;
    for (int i = 0; i < NWANT; i++) {
      if (d.d_namlen == strlen(want[i].name) && memcmp(name, want[i].name, d.d_namlen) == 0) {
        want[i].count++;
        want[i].next = d.d_next;
        want[i].ino = d.d_ino;
        if (d.d_type != want[i].type) nv_fail(__FILE__, __LINE__, want[i].name, "wrong d_type");
        matched = 1;
      }
    }
    int dot = (d.d_namlen == 1 && name[0] == '.') || (d.d_namlen == 2 && name[0] == '.' && name[1] == '.');
    if (dot && d.d_type != __WASI_FILETYPE_DIRECTORY) nv_fail(__FILE__, __LINE__, "dot entries", "not a directory");
    if (!matched && !dot) (*others)++;
    *last_next = d.d_next;
    off += sizeof d + d.d_namlen;
    complete++;
  }
  return complete;
}

int main(int argc, char **argv) {
  test_begin("fd_readdir");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  check_eq(sizeof(__wasi_dirent_t), 24, "dirent header is 24 bytes");
  make_file(dir, "alpha", "1");
  make_file(dir, "beta", "22");
  check_ok(__wasi_path_create_directory(dir, "gamma-directory"), "mkdir gamma-directory");
  check_ok(__wasi_path_symlink("alpha", dir, "link"), "symlink link -> alpha");
  __wasi_fd_t d;
  check_ok(open_at(dir, ".", __WASI_OFLAGS_DIRECTORY, 0, &d), "open the scratch directory");

  __wasi_size_t used = 0;
  check_ok(__wasi_fd_readdir(d, buf, sizeof buf, __WASI_DIRCOOKIE_START, &used), "readdir from the start");
  check(used < sizeof buf, "everything fits in 4 KiB");
  __wasi_dircookie_t last = 0;
  int others = 0;
  int total = parse(used, &last, &others);
  for (int i = 0; i < NWANT; i++) {
    char what[64];
    snprintf(what, sizeof what, "%s listed once with its type", want[i].name);
    check(want[i].count == 1, what);
  }
  check_eq(others, 0, "no other entries");
  __wasi_filestat_t st;
  check_ok(__wasi_path_filestat_get(dir, 0, "beta", &st), "stat beta");
  check_eq(want[1].ino, st.ino, "d_ino is the file's inode (as path_filestat_get reports it)");
  check_ok(__wasi_fd_readdir(d, buf, sizeof buf, last, &used), "readdir from the last cookie");
  check_eq(used, 0, "nothing after the last entry");

  // Resume after "beta": exactly the entries that came after it in the first listing.
  __wasi_dircookie_t after_beta = want[1].next;
  int before = 0;
  {
    size_t off = 0;
    __wasi_size_t u2 = 0;
    check_ok(__wasi_fd_readdir(d, buf, sizeof buf, __WASI_DIRCOOKIE_START, &u2), "readdir again");
    while (off + 24 <= u2) {
      __wasi_dirent_t e;
      memcpy(&e, buf + off, sizeof e);
      before++;
      off += 24 + e.d_namlen;
      if (e.d_namlen == 4 && memcmp(buf + off - 4, "beta", 4) == 0) break;
    }
  }
  for (int i = 0; i < NWANT; i++) want[i].count = 0;
  check_ok(__wasi_fd_readdir(d, buf, sizeof buf, after_beta, &used), "readdir from beta's d_next");
  int rest = parse(used, &last, &others);
  check_eq(rest, total - before, "resuming lists exactly the entries after beta");
  check_eq(want[1].count, 0, "beta is not listed again");

  // A buffer too small for the rest comes back full: the caller knows to read on.
  check_ok(__wasi_fd_readdir(d, buf, 30, __WASI_DIRCOOKIE_START, &used), "readdir into 30 bytes");
  check_eq(used, 30, "a short buffer is filled completely");
  check_ok(__wasi_fd_readdir(d, buf, 10, __WASI_DIRCOOKIE_START, &used), "readdir into 10 bytes (less than a header)");
  check_eq(used, 10, "even a buffer smaller than a header is filled");
  check_ok(__wasi_fd_readdir(d, buf, 0, __WASI_DIRCOOKIE_START, &used), "readdir into 0 bytes");
  check_eq(used, 0, "0 bytes into a 0-byte buffer");
  // Reading one entry at a time by cookie visits every entry.
  __wasi_dircookie_t cookie = __WASI_DIRCOOKIE_START;
  int steps = 0;
  for (;;) {
    __wasi_errno_t e = __wasi_fd_readdir(d, buf, 24 + 64, cookie, &used);
    if (e != 0) nv_fail(__FILE__, __LINE__, "stepwise readdir", errno_name(e));
    if (used < 24) break;
    __wasi_dirent_t ent;
    memcpy(&ent, buf, sizeof ent);
    cookie = ent.d_next;
    if (++steps > 100) nv_fail(__FILE__, __LINE__, "stepwise readdir", "does not end");
  }
  check_eq(steps, total, "stepping by d_next visits every entry");
  check_ok(__wasi_fd_readdir(d, buf, sizeof buf, 1000000, &used), "readdir from a cookie past the end");
  check_eq(used, 0, "nothing past the end");
  check_ok(__wasi_fd_close(d), "close");

  __wasi_fd_t f;
  check_ok(open_at(dir, "alpha", 0, 0, &f), "open alpha");
  check_err2(__wasi_fd_readdir(f, buf, sizeof buf, 0, &used), __WASI_ERRNO_NOTDIR, __WASI_ERRNO_NOTCAPABLE, "readdir on a file");
  check_ok(__wasi_fd_close(f), "close alpha");
  check_err(__wasi_fd_readdir(BAD_FD, buf, sizeof buf, 0, &used), __WASI_ERRNO_BADF, "readdir a closed fd");
  test_end();
  return 0;
}
