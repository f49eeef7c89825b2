// A wasi:cli/command component (C, adapted from preview1 with jco's command adapter): each
// argv[1] names a check; the host test (test/components.test.ts) compares the output.
//   args | env | stdin | exit N | fs DIR | clock | random | spin
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// The adapter takes its state from the program's allocator through cabi_realloc; without it,
// it grows memory behind wasi-libc's malloc, which then hands that page out (old wasi-libc).
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *ptr, size_t old, size_t align, size_t size) {
  (void)old; (void)align;
  return realloc(ptr, size);
}

extern char **environ;

static int fail(const char *what) {
  fprintf(stderr, "FAIL p2_cli: %s (errno %d)\n", what, errno);
  return 1;
}

static int fs_check(const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/work", dir);
  if (mkdir(path, 0755) != 0) return fail("mkdir");
  if (mkdir(path, 0755) == 0 || errno != EEXIST) return fail("mkdir twice is EEXIST");
  snprintf(path, sizeof path, "%s/work/big.bin", dir);
  size_t n = 300000;
  unsigned char *buf = malloc(n);
  for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(i % 251);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(buf, 1, n, f) != n || fclose(f) != 0) return fail("write big.bin");
  struct stat st;
  if (stat(path, &st) != 0 || st.st_size != (off_t)n || !S_ISREG(st.st_mode)) return fail("stat big.bin");
  unsigned char *back = malloc(n);
  f = fopen(path, "rb");
  if (f == NULL || fread(back, 1, n, f) != n || memcmp(buf, back, n) != 0) return fail("read back big.bin");
  fclose(f);
  printf("ok: 300 KB round trip\n");
  char to[512];
  snprintf(to, sizeof to, "%s/work/moved.bin", dir);
  if (rename(path, to) != 0) return fail("rename");
  snprintf(path, sizeof path, "%s/work", dir);
  DIR *d = opendir(path);
  if (d == NULL) return fail("opendir");
  int entries = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    printf("entry: %s\n", e->d_name);
    entries++;
  }
  closedir(d);
  if (entries != 1) return fail("one entry after rename");
  // A directory opened below a preopen may be changed too (the adapter never asks for
  // mutate-directory when it opens one).
  int dfd = open(path, O_RDONLY | O_DIRECTORY);
  if (dfd < 0) return fail("open work as a directory");
  int ffd = openat(dfd, "inner.txt", O_CREAT | O_WRONLY, 0644);
  if (ffd < 0 || write(ffd, "x", 1) != 1 || close(ffd) != 0) return fail("create in an opened directory");
  if (unlinkat(dfd, "inner.txt", 0) != 0 || close(dfd) != 0) return fail("unlink in an opened directory");
  printf("ok: create in an opened directory\n");
  if (fopen("/nonexistent/x", "r") != NULL || (errno != ENOENT && errno != ENOTCAPABLE)) return fail("open outside the preopens fails");
  snprintf(path, sizeof path, "%s/work/missing", dir);
  if (fopen(path, "r") != NULL || errno != ENOENT) return fail("open missing is ENOENT");
  if (unlink(to) != 0) return fail("unlink");
  snprintf(path, sizeof path, "%s/work", dir);
  if (rmdir(path) != 0) return fail("rmdir");
  printf("ok: rename, readdir, unlink, rmdir\n");
  return 0;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "args";
  if (strcmp(what, "args") == 0) {
    for (int i = 0; i < argc; i++) printf("arg: %s\n", argv[i]);
    return 0;
  }
  if (strcmp(what, "env") == 0) {
    for (char **e = environ; *e != NULL; e++) printf("env: %s\n", *e);
    return 0;
  }
  if (strcmp(what, "stdin") == 0) {
    char line[256];
    size_t total = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
      for (char *p = line; *p; p++) if (*p >= 'a' && *p <= 'z') *p -= 32;
      fputs(line, stdout);
      total += strlen(line);
    }
    fprintf(stderr, "%zu bytes\n", total);
    return 0;
  }
  if (strcmp(what, "exit") == 0) {
    printf("exiting\n");
    fflush(stdout);
    exit(argc > 2 ? atoi(argv[2]) : 0);
  }
  if (strcmp(what, "fs") == 0) return fs_check(argc > 2 ? argv[2] : "/scratch");
  if (strcmp(what, "clock") == 0) {
    struct timespec a, b, w;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec req = { 0, 50 * 1000 * 1000 };
    nanosleep(&req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    clock_gettime(CLOCK_REALTIME, &w);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("slept >= 50 ms: %s\n", ms >= 50 ? "yes" : "no");
    printf("wall clock after 2020: %s\n", w.tv_sec > 1577836800 ? "yes" : "no");
    return ms >= 50 ? 0 : 1;
  }
  if (strcmp(what, "random") == 0) {
    unsigned char a[32] = {0}, b[32] = {0};
    if (getentropy(a, sizeof a) != 0 || getentropy(b, sizeof b) != 0) return fail("getentropy");
    printf("random differs: %s\n", memcmp(a, b, sizeof a) != 0 ? "yes" : "no");
    return 0;
  }
  if (strcmp(what, "spin") == 0) {
    printf("spinning\n");
    fflush(stdout);
    volatile unsigned long x = 0;
    for (;;) x++;
  }
  fprintf(stderr, "unknown check %s\n", what);
  return 2;
}
