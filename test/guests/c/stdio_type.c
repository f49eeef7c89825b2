// stdio_type: what the guest is told its stdio is. Prints, for fds 0, 1 and 2, wasi-libc's
// isatty() and the fdstat filetype, and whether fd_seek/fd_tell rights are present, as
// `fd=N tty=T type=F seek=S` lines on stderr-free stdout (one write at the end).
#include <stdio.h>
#include <unistd.h>
#include <wasi/api.h>

int main(void) {
  char out[256];
  int len = 0;
  for (int fd = 0; fd < 3; fd++) {
    int tty = isatty(fd);
    __wasi_fdstat_t st;
    int type = -1, seek = -1;
    if (__wasi_fd_fdstat_get(fd, &st) == 0) {
      type = st.fs_filetype;
      seek = (st.fs_rights_base & (__WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL)) != 0;
    }
    len += snprintf(out + len, sizeof out - len, "fd=%d tty=%d type=%d seek=%d\n", fd, tty, type, seek);
  }
  fputs(out, stdout);
  return 0;
}
