// A file-processing tool: file-tool-c INPUT OUTPUT
// Writes INPUT's text upper-cased (ASCII letters; other bytes unchanged) to OUTPUT and prints
// "<lines> lines, <bytes> bytes" on stdout. Errors go to stderr with exit code 1 (2 for usage).
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: file-tool-c INPUT OUTPUT\n");
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  if (in == NULL) {
    fprintf(stderr, "file-tool-c: cannot open %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  FILE *out = fopen(argv[2], "wb");
  if (out == NULL) {
    fprintf(stderr, "file-tool-c: cannot create %s: %s\n", argv[2], strerror(errno));
    fclose(in);
    return 1;
  }
  unsigned long lines = 0, bytes = 0;
  int c, last = '\n';
  while ((c = getc(in)) != EOF) {
    bytes++;
    if (c == '\n') lines++;
    last = c;
    if (putc(c < 128 ? toupper(c) : c, out) == EOF) break;
  }
  if (last != '\n') lines++;  // a last line without its newline still counts
  int failed = ferror(in) || ferror(out);
  if (fclose(out) != 0) failed = 1;
  fclose(in);
  if (failed) {
    fprintf(stderr, "file-tool-c: I/O error: %s\n", strerror(errno));
    return 1;
  }
  printf("%lu lines, %lu bytes\n", lines, bytes);
  return 0;
}
