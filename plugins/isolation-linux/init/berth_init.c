/* berth-init: a minimal pid 1 for containers (docker run --init), bind-mounted read-only at
 * /dev/init and run as "/dev/init -- <command> <args...>".
 *
 * It forks the command into its own process group (the terminal's foreground group when there
 * is one), forwards every catchable signal to that group, reaps every zombie the container
 * produces, and exits with the command's exit code, or 128 + signal when a signal killed it. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* No stdio: the binary is bind-mounted into every --init container; glibc's static floor
 * (~680 KB here) is most of its size already. */
static void say(const char* text) {
  if (write(STDERR_FILENO, text, strlen(text)) < 0) return;
}

static void fatal(const char* what, const char* arg) {
  const char* why = strerror(errno);
  say("berth-init: ");
  say(what);
  if (arg) {
    say(" ");
    say(arg);
  }
  say(": ");
  say(why);
  say("\n");
}

int main(int argc, char** argv) {
  int first = 1;
  if (argc > 1 && strcmp(argv[1], "--") == 0) first = 2;
  if (first >= argc) {
    say("usage: berth-init -- <command> [args...]\n");
    return 2;
  }
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  /* Everything is taken with sigtimedwait below; the child gets a clean mask back. */
  sigprocmask(SIG_BLOCK, &all, NULL);
  /* Not pid 1 (no pid namespace): still reap orphans of our command. */
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  pid_t child = fork();
  if (child < 0) {
    fatal("fork", NULL);
    return 1;
  }
  if (child == 0) {
    setpgid(0, 0);
    if (isatty(STDIN_FILENO)) {
      signal(SIGTTOU, SIG_IGN);
      tcsetpgrp(STDIN_FILENO, getpgrp());
      signal(SIGTTOU, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[first], argv + first);
    int err = errno;
    fatal("exec", argv[first]);
    _exit(err == ENOENT ? 127 : 126);
  }
  /* Both sides set the group so the forward below never races the child's setpgid. */
  setpgid(child, child);

  int exit_code = 0;
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      fatal("sigwaitinfo", NULL);
      return 1;
    }
    if (sig != SIGCHLD) {
      /* Forward to the command's group; a lone command that left the group still gets it. */
      if (kill(-child, sig) != 0) kill(child, sig);
      continue;
    }
    for (;;) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (pid == child) {
        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        child = -1;
      }
    }
    if (child == -1) return exit_code;
  }
}
