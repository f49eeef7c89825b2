// Hostile guest: tries every way out of its preopen. `..` above the directory, absolute paths,
// symlinks with absolute targets or climbing targets, chains of such symlinks, loops. Each
// attempt must fail with an errno (ENOTCAPABLE or EPERM for escapes, ELOOP for loops) and
// nothing outside the scratch directory may be read, created, renamed or removed. The host test
// puts a file "secret" next to the scratch directory and checks it is untouched afterwards.
#include "common.h"

#define check_escape(expr, what) check_err2(expr, __WASI_ERRNO_NOTCAPABLE, __WASI_ERRNO_PERM, what)

int main(int argc, char **argv) {
  test_begin("hostile_escape");
  __wasi_fd_t dir = scratch_dir(argc, argv);
  __wasi_fd_t fd;
  __wasi_filestat_t st;
  check_ok(__wasi_path_create_directory(dir, "a"), "mkdir a");
  make_file(dir, "inside", "in");

  // Plain `..` and absolute paths.
  check_escape(open_at(dir, "..", __WASI_OFLAGS_DIRECTORY, 0, &fd), "open ..");
  check_escape(open_at(dir, "../secret", 0, 0, &fd), "open ../secret");
  check_escape(open_at(dir, "a/../../secret", 0, 0, &fd), "open a/../../secret");
  check_escape(open_at(dir, "a/../a/../../secret", 0, 0, &fd), "open a/../a/../../secret");
  check_escape(open_at(dir, "./../secret", 0, 0, &fd), "open ./../secret");
  check_escape(open_at(dir, "/etc/passwd", 0, 0, &fd), "open /etc/passwd");
  check_escape(open_at(dir, "/", __WASI_OFLAGS_DIRECTORY, 0, &fd), "open /");
  check_escape(__wasi_path_filestat_get(dir, 0, "../secret", &st), "stat ../secret");
  check_escape(__wasi_path_filestat_get(dir, 0, "..", &st), "stat ..");
  check_escape(__wasi_path_create_directory(dir, "../evil-dir"), "mkdir ../evil-dir");
  check_escape(open_at(dir, "../evil-file", __WASI_OFLAGS_CREAT, 0, &fd), "create ../evil-file");
  check_escape(__wasi_path_unlink_file(dir, "../secret"), "unlink ../secret");
  check_escape(__wasi_path_rename(dir, "../secret", dir, "stolen"), "rename ../secret into the scratch dir");
  check_escape(__wasi_path_rename(dir, "inside", dir, "../planted"), "rename a file out of the scratch dir");
  check_escape(__wasi_path_link(dir, 0, "../secret", dir, "hardlinked"), "hard-link ../secret");
  check_escape(__wasi_path_symlink("inside", dir, "../evil-link"), "symlink placed at ../evil-link");
  check_escape(__wasi_path_remove_directory(dir, "../scratch-parent"), "rmdir above");
  check_escape(__wasi_path_filestat_set_times(dir, 0, "../secret", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), "touch ../secret");
  uint8_t buf[128];
  __wasi_size_t n;
  check_escape(__wasi_path_readlink(dir, "../x", buf, sizeof buf, &n), "readlink ../x");

  // Inside-only `..` is fine.
  check_ok(open_at(dir, "a/../inside", 0, 0, &fd), "a/../inside stays inside");
  check_ok(__wasi_fd_close(fd), "close");

  // Symlinks that point out.
  __wasi_errno_t e = __wasi_path_symlink("/etc/passwd", dir, "abs");
  if (e == 0) {
    check(1, "symlink with an absolute target created");
    check_escape(open_at(dir, "abs", 0, 0, &fd), "open through an absolute symlink");
    check_escape(__wasi_path_filestat_get(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "abs", &st), "stat through an absolute symlink");
  } else {
    check_escape(e, "creating a symlink with an absolute target");
  }
  check_ok(__wasi_path_symlink("..", dir, "up"), "symlink up -> ..");
  check_escape(open_at(dir, "up/secret", 0, 0, &fd), "open up/secret");
  check_escape(open_at(dir, "up", __WASI_OFLAGS_DIRECTORY, 0, &fd), "open up (the parent)");
  check_ok(__wasi_path_symlink("../../secret", dir, "a/deep"), "symlink a/deep -> ../../secret");
  check_escape(open_at(dir, "a/deep", 0, 0, &fd), "open a/deep");
  check_ok(__wasi_path_symlink("../up", dir, "a/chain"), "symlink a/chain -> ../up");
  check_escape(open_at(dir, "a/chain/secret", 0, 0, &fd), "open through a chain ending above");
  check_escape(__wasi_path_create_directory(dir, "up/evil"), "mkdir through up");
  check_escape(open_at(dir, "up/evil", __WASI_OFLAGS_CREAT, 0, &fd), "create through up");
  check_ok(__wasi_path_symlink("a/..", dir, "same"), "symlink same -> a/.. (inside)");
  check_ok(open_at(dir, "same/inside", 0, 0, &fd), "a symlink that stays inside works");
  check_ok(__wasi_fd_close(fd), "close");
  check_escape(open_at(dir, "same/../secret", 0, 0, &fd), "same/../secret");

  // Loops.
  check_ok(__wasi_path_symlink("self", dir, "self"), "symlink self -> self");
  check_err(open_at(dir, "self", 0, 0, &fd), __WASI_ERRNO_LOOP, "open a self loop");
  check_ok(__wasi_path_symlink("pong", dir, "ping"), "symlink ping -> pong");
  check_ok(__wasi_path_symlink("ping", dir, "pong"), "symlink pong -> ping");
  check_err(open_at(dir, "ping", 0, 0, &fd), __WASI_ERRNO_LOOP, "open a two-link loop");
  check_err(__wasi_path_filestat_get(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "ping", &st), __WASI_ERRNO_LOOP, "stat a loop following");
  check_ok(__wasi_path_filestat_get(dir, 0, "ping", &st), "stat a loop without following");
  check_err(open_at(dir, "ping/x", __WASI_OFLAGS_CREAT, 0, &fd), __WASI_ERRNO_LOOP, "create beneath a loop");
  // A chain of 60 links (more than any host follows) is ELOOP, not a hang or a crash.
  char name[16], target[16];
  make_file(dir, "end", "end");
  for (int i = 0; i < 60; i++) {
    snprintf(name, sizeof name, "c%d", i);
    if (i == 59) snprintf(target, sizeof target, "end");
    else snprintf(target, sizeof target, "c%d", i + 1);
    if (__wasi_path_symlink(target, dir, name) != 0) nv_fail(__FILE__, __LINE__, "chain", "symlink failed");
  }
  check_err(open_at(dir, "c0", 0, 0, &fd), __WASI_ERRNO_LOOP, "open a 60-link chain");
  check_ok(open_at(dir, "c45", 0, 0, &fd), "open a 15-link chain");
  check_ok(__wasi_fd_close(fd), "close");
  // A symlink that expands to itself through a directory: d -> d/d/d.
  check_ok(__wasi_path_symlink("grow/grow/grow", dir, "grow"), "symlink grow -> grow/grow/grow");
  check_err(open_at(dir, "grow", 0, 0, &fd), __WASI_ERRNO_LOOP, "open an expanding loop");

  // Long paths are refused cleanly.
  static char longp[8192];
  for (size_t i = 0; i + 2 < sizeof longp; i += 2) memcpy(longp + i, "a/", 2);
  longp[sizeof longp - 2] = 0;
  check_fails(open_at(dir, longp, 0, 0, &fd), "an 8 KiB path of a/a/a/...");
  check_ok(open_at(dir, "inside", 0, 0, &fd), "the preopen still works");
  check_ok(__wasi_fd_close(fd), "close");
  test_end();
  return 0;
}
