/*
 * nv-relay: the one door into a linux-driver server sandbox. The sandbox has no network
 * (runsc --network=none: only its own loopback), so the gateway cannot reach the app's
 * port. The relay runs as the sandbox's first process: it starts the app as its child,
 * listens on a Unix socket in a host directory bind-mounted into the sandbox (runsc
 * --host-uds=create), and for each connection connects to 127.0.0.1:PORT inside the sandbox
 * and copies bytes both ways, one thread per connection (a thread is cheap in gVisor; a
 * forked process is a new address space, ~9 ms per connection on the ptrace platform). Before copying it writes one byte: 'R' when the app accepted
 * the connection, 'E' when it did not (not listening yet), so the gateway's readiness probe
 * and its proxy know which. When the app exits, the relay exits with its status.
 *
 * Sleep (scale to zero): gVisor cannot checkpoint a sandbox holding a bound host socket, so
 * on SIGUSR1 the relay closes its listener and creates a file named `slept` next to the
 * socket (the host sees it: now it may `runsc checkpoint`), then waits for a file named
 * `wake` there. The host writes that file before `runsc restore`: the restored relay finds
 * it, listens again and removes it (the host sees it go: the instance is awake). No probe
 * connection reaches the app, so its state after a wake is exactly its state at the checkpoint.
 *
 * usage: nv-relay SOCKET PORT PROGRAM [ARGS...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

static pid_t app = -1;
static volatile sig_atomic_t sleep_asked = 0;

static void on_sleep(int sig) {
  (void)sig;
  sleep_asked = 1;
}

static int listen_on(const char *path) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un u;
  memset(&u, 0, sizeof u);
  u.sun_family = AF_UNIX;
  strcpy(u.sun_path, path);
  unlink(path);
  if (s < 0 || bind(s, (struct sockaddr *)&u, sizeof u) != 0 || listen(s, 128) != 0) {
    fprintf(stderr, "nv-relay: cannot listen on %s: %s\n", path, strerror(errno));
    exit(2);
  }
  return s;
}

/* Closes the listener, waits (across checkpoint and restore) for the host's wake file, listens again. */
static int sleep_and_wake(int s, const char *path, const char *slept, const char *wake) {
  close(s);
  unlink(path);
  int m = open(slept, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (m >= 0) close(m);
  struct timespec tick = {0, 500 * 1000};
  while (access(wake, F_OK) != 0) nanosleep(&tick, NULL);
  sleep_asked = 0;
  s = listen_on(path);
  unlink(wake);
  return s;
}

static int write_all(int fd, const char *p, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, (size_t)n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= w;
  }
  return 0;
}

static int target_port;

static void pump(int client, int port) {
  int up = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (up < 0 || connect(up, (struct sockaddr *)&a, sizeof a) != 0) {
    (void)write_all(client, "E", 1);
    if (up >= 0) close(up);
    return;
  }
  if (write_all(client, "R", 1) != 0) { close(up); return; }
  struct pollfd fds[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
  int open_in = 1, open_out = 1;
  static __thread char buf[65536];
  while (open_in || open_out) {
    fds[0].fd = open_in ? client : -1;
    fds[1].fd = open_out ? up : -1;
    if (poll(fds, 2, -1) < 0) { if (errno == EINTR) continue; break; }
    if (open_in && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(client, buf, sizeof buf);
      if (n <= 0) { open_in = 0; shutdown(up, SHUT_WR); }
      else if (write_all(up, buf, n) != 0) break;
    }
    if (open_out && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(up, buf, sizeof buf);
      if (n <= 0) { open_out = 0; shutdown(client, SHUT_WR); break; }
      else if (write_all(client, buf, n) != 0) break;
    }
  }
  close(up);
}

static void *connection(void *arg) {
  int c = (int)(long)arg;
  pump(c, target_port);
  close(c);
  return NULL;
}

static void on_child(int sig) {
  (void)sig;
  int status;
  pid_t p;
  while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
    if (p == app) {
      if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
      _exit(128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: nv-relay SOCKET PORT PROGRAM [ARGS...]\n");
    return 2;
  }
  int port = atoi(argv[2]);
  target_port = port;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_child;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path) - 8) { fprintf(stderr, "nv-relay: socket path too long\n"); return 2; }
  char wake[sizeof(((struct sockaddr_un *)0)->sun_path)], slept[sizeof wake];
  strcpy(wake, argv[1]);
  char *slash = strrchr(wake, '/');
  strcpy(slash == NULL ? wake : slash + 1, "wake");
  strcpy(slept, argv[1]);
  slash = strrchr(slept, '/');
  strcpy(slash == NULL ? slept : slash + 1, "slept");
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sleep; /* no SA_RESTART: accept returns EINTR */
  sigaction(SIGUSR1, &sa, NULL);
  /* SIGUSR1 stays blocked except inside ppoll, so it cannot slip in between the check of
   * sleep_asked and a blocking accept (threads inherit the mask; the app gets it unblocked). */
  sigset_t usr1, waiting;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, &waiting);
  sigdelset(&waiting, SIGUSR1);
  int s = listen_on(argv[1]);
  app = fork();
  if (app == 0) {
    close(s);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    execv(argv[3], argv + 3);
    fprintf(stderr, "nv-relay: cannot start %s: %s\n", argv[3], strerror(errno));
    _exit(127);
  }
  for (;;) {
    if (sleep_asked) { s = sleep_and_wake(s, argv[1], slept, wake); continue; }
    struct pollfd pl = {s, POLLIN, 0};
    if (ppoll(&pl, 1, NULL, &waiting) < 0) continue; /* EINTR: SIGUSR1 (or SIGCHLD) */
    int c = accept(s, NULL, NULL);
    if (c < 0) { if (errno == EINTR || errno == ECONNABORTED) continue; perror("nv-relay: accept"); return 2; }
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    if (pthread_create(&t, &at, connection, (void *)(long)c) != 0) close(c);
    pthread_attr_destroy(&at);
  }
}
