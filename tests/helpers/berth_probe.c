/* berth-probe: a static test program copied into test images, to look at a container from the
 * inside. Every subcommand prints one short answer on stdout:
 *
 *   probe caps                 effective capabilities, hex, from /proc/self/status (CapEff)
 *   probe syscall NAME         "allowed" or the errno name (EPERM, ENOSYS, ...) for one of
 *                              keyctl ptrace unshare mount personality add_key clone-newns
 *   probe fork-bomb N          forks (children pause) until fork fails or N, prints the count
 *   probe alloc MIB            allocates and touches MIB MiB, prints "ok"
 *   probe sleep [SECONDS]      sleeps (forever by default)
 *   probe pid                  pid and parent pid
 *   probe mounts               the mount points from /proc/self/mountinfo, one per line
 *   probe rlimit nofile        soft and hard RLIMIT_NOFILE
 *   probe nnp                  NoNewPrivs from /proc/self/status (0 or 1)
 *   probe ids                  uid gid and supplementary groups
 *   probe count N [MS]         prints 1..N, one per line, MS milliseconds apart
 *   probe echo-stdin           copies stdin to stdout until EOF, then prints "eof"
 *   probe winsize              rows and columns of the terminal on stdin
 *   probe write-file PATH      tries to create PATH, prints "ok" or the errno name
 *   probe exit CODE            exits with CODE */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char* errno_name(int err) {
  switch (err) {
    case EPERM:
      return "EPERM";
    case ENOSYS:
      return "ENOSYS";
    case EACCES:
      return "EACCES";
    case EINVAL:
      return "EINVAL";
    case ENOENT:
      return "ENOENT";
    case EROFS:
      return "EROFS";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case EBUSY:
      return "EBUSY";
    case EFAULT:
      return "EFAULT";
    case ESRCH:
      return "ESRCH";
    case ENOTDIR:
      return "ENOTDIR";
    case EEXIST:
      return "EEXIST";
    case EDQUOT:
      return "EDQUOT";
    default:
      return strerror(err);
  }
}

static void status_field(const char* key) {
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) {
    printf("error %s\n", errno_name(errno));
    return;
  }
  char line[512];
  size_t len = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, len) == 0 && line[len] == ':') {
      char* v = line + len + 1;
      while (*v == ' ' || *v == '\t') v++;
      fputs(v, stdout);
      break;
    }
  }
  fclose(f);
}

static int probe_syscall(const char* name) {
  long rc = -1;
  errno = 0;
  if (strcmp(name, "keyctl") == 0) {
    rc = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
  } else if (strcmp(name, "add_key") == 0) {
    rc = syscall(SYS_add_key, "user", "berth-probe", "x", 1, -3);
  } else if (strcmp(name, "ptrace") == 0) {
    pid_t child = fork();
    if (child == 0) {
      pause();
      _exit(0);
    }
    rc = ptrace(PTRACE_ATTACH, child, 0, 0);
    int err = errno;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    errno = err;
  } else if (strcmp(name, "unshare") == 0) {
    rc = unshare(CLONE_NEWUTS);
  } else if (strcmp(name, "mount") == 0) {
    rc = mount("none", "/tmp", "tmpfs", 0, "size=1m");
    if (rc == 0) umount("/tmp");
  } else if (strcmp(name, "personality") == 0) {
    rc = personality(0x0008 /* PER_LINUX32 is 0x0008 */ | 0x0040000 /* ADDR_NO_RANDOMIZE */);
    if (rc >= 0) personality(PER_LINUX);
  } else if (strcmp(name, "clone-newns") == 0) {
    rc = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (rc == 0) _exit(0);
    if (rc > 0) waitpid((pid_t)rc, NULL, 0);
  } else {
    printf("unknown syscall %s\n", name);
    return 2;
  }
  if (rc < 0) {
    printf("%s\n", errno_name(errno));
  } else {
    printf("allowed\n");
  }
  return 0;
}

static int fork_bomb(long limit) {
  long count = 0;
  pid_t* kids = calloc((size_t)limit, sizeof(pid_t));
  while (count < limit) {
    pid_t pid = fork();
    if (pid < 0) break;
    if (pid == 0) {
      pause();
      _exit(0);
    }
    kids[count++] = pid;
  }
  printf("%ld\n", count);
  fflush(stdout);
  for (long i = 0; i < count; ++i) kill(kids[i], SIGKILL);
  for (long i = 0; i < count; ++i) waitpid(kids[i], NULL, 0);
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    fprintf(stderr, "usage: berth-probe <command> [args]\n");
    return 2;
  }
  const char* cmd = argv[1];
  if (strcmp(cmd, "caps") == 0) {
    status_field("CapEff");
  } else if (strcmp(cmd, "nnp") == 0) {
    status_field("NoNewPrivs");
  } else if (strcmp(cmd, "syscall") == 0 && argc > 2) {
    return probe_syscall(argv[2]);
  } else if (strcmp(cmd, "fork-bomb") == 0) {
    return fork_bomb(argc > 2 ? atol(argv[2]) : 100000);
  } else if (strcmp(cmd, "alloc") == 0 && argc > 2) {
    size_t size = (size_t)atol(argv[2]) << 20;
    char* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      printf("%s\n", errno_name(errno));
      return 1;
    }
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;
    printf("ok\n");
  } else if (strcmp(cmd, "sleep") == 0) {
    if (argc > 2) {
      sleep((unsigned)atoi(argv[2]));
    } else {
      for (;;) pause();
    }
  } else if (strcmp(cmd, "pid") == 0) {
    printf("%d %d\n", getpid(), getppid());
  } else if (strcmp(cmd, "mounts") == 0) {
    FILE* f = fopen("/proc/self/mountinfo", "r");
    if (!f) {
      printf("error %s\n", errno_name(errno));
      return 1;
    }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
      char mp[4096];
      if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1) printf("%s\n", mp);
    }
    fclose(f);
  } else if (strcmp(cmd, "rlimit") == 0) {
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    printf("%llu %llu\n", (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
  } else if (strcmp(cmd, "ids") == 0) {
    gid_t groups[64];
    int n = getgroups(64, groups);
    printf("%d %d", getuid(), getgid());
    for (int i = 0; i < n; ++i) printf(" %d", groups[i]);
    printf("\n");
  } else if (strcmp(cmd, "count") == 0 && argc > 2) {
    long n = atol(argv[2]);
    long ms = argc > 3 ? atol(argv[3]) : 0;
    for (long i = 1; i <= n; ++i) {
      printf("%ld\n", i);
      if (ms > 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
      }
    }
  } else if (strcmp(cmd, "echo-stdin") == 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
      if (write(1, buf, (size_t)n) != n) return 1;
    }
    printf("eof\n");
  } else if (strcmp(cmd, "winsize") == 0) {
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) != 0) {
      printf("%s\n", errno_name(errno));
      return 1;
    }
    printf("%d %d\n", ws.ws_row, ws.ws_col);
  } else if (strcmp(cmd, "write-file") == 0 && argc > 2) {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      printf("%s\n", errno_name(errno));
      return 1;
    }
    close(fd);
    printf("ok\n");
  } else if (strcmp(cmd, "exit") == 0 && argc > 2) {
    return atoi(argv[2]);
  } else {
    fprintf(stderr, "berth-probe: unknown command %s\n", cmd);
    return 2;
  }
  return 0;
}
