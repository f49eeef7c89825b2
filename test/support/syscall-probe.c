// A native program for src/host/shards/jail.test.ts: run inside the shard jail, it makes
// system calls the seccomp filter denies (and one it allows) and prints each result as
// "name errno-name" ("name ok" on success), or makes a call through a foreign ABI, which
// the filter answers by killing the process. `fork N` counts how many children it can have.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long r) {
  if (r < 0) printf("%s %s\n", name, strerrorname_np(errno));
  else printf("%s ok\n", name);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "calls";
  if (strcmp(mode, "calls") == 0) {
    report("getpid", syscall(SYS_getpid));
    report("personality", personality(0xffffffff));
    report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -2 /* process keyring */, 1));
    unsigned char params[120];
    memset(params, 0, sizeof params);
    report("io_uring_setup", syscall(SYS_io_uring_setup, 1, params));
    report("unshare", syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */));
    pid_t child = fork();
    if (child == 0) _exit(0);
    if (child > 0) waitpid(child, NULL, 0);
    report("fork", child);
    // Last: a process being traced stops at its next signal.
    report("ptrace", ptrace(PTRACE_TRACEME, 0, 0, 0));
    fflush(stdout);
    _exit(0);
  }
#if defined(__x86_64__)
  if (strcmp(mode, "x32") == 0) {
    syscall(0x40000000 | 39 /* x32 getpid */);
    puts("x32 returned");
    return 0;
  }
  if (strcmp(mode, "i386") == 0) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20 /* i386 getpid */) : "memory");
    puts("i386 returned");
    return 0;
  }
#endif
  if (strcmp(mode, "fork") == 0) {
    int want = argc > 2 ? atoi(argv[2]) : 10, n = 0;
    pid_t kids[1024];
    for (; n < want && n < 1024; n++) {
      kids[n] = fork();
      if (kids[n] == 0) { pause(); _exit(0); }
      if (kids[n] < 0) break;
    }
    printf("forked %d\n", n);
    fflush(stdout);
    for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
    while (wait(NULL) > 0) {}
    return 0;
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
