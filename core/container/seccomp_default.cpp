#include "core/container/seccomp_default.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace berth::core::container {
namespace {

namespace json = boost::json;

// Ordinary syscalls every container may make.
constexpr std::string_view kAllowed[] = {"accept",
                                         "accept4",
                                         "access",
                                         "adjtimex",
                                         "alarm",
                                         "bind",
                                         "brk",
                                         "cachestat",
                                         "capget",
                                         "capset",
                                         "chdir",
                                         "chmod",
                                         "chown",
                                         "chown32",
                                         "clock_adjtime",
                                         "clock_adjtime64",
                                         "clock_getres",
                                         "clock_getres_time64",
                                         "clock_gettime",
                                         "clock_gettime64",
                                         "clock_nanosleep",
                                         "clock_nanosleep_time64",
                                         "close",
                                         "close_range",
                                         "connect",
                                         "copy_file_range",
                                         "creat",
                                         "dup",
                                         "dup2",
                                         "dup3",
                                         "epoll_create",
                                         "epoll_create1",
                                         "epoll_ctl",
                                         "epoll_ctl_old",
                                         "epoll_pwait",
                                         "epoll_pwait2",
                                         "epoll_wait",
                                         "epoll_wait_old",
                                         "eventfd",
                                         "eventfd2",
                                         "execve",
                                         "execveat",
                                         "exit",
                                         "exit_group",
                                         "faccessat",
                                         "faccessat2",
                                         "fadvise64",
                                         "fadvise64_64",
                                         "fallocate",
                                         "fanotify_mark",
                                         "fchdir",
                                         "fchmod",
                                         "fchmodat",
                                         "fchmodat2",
                                         "fchown",
                                         "fchown32",
                                         "fchownat",
                                         "fcntl",
                                         "fcntl64",
                                         "fdatasync",
                                         "fgetxattr",
                                         "flistxattr",
                                         "flock",
                                         "fork",
                                         "fremovexattr",
                                         "fsetxattr",
                                         "fstat",
                                         "fstat64",
                                         "fstatat64",
                                         "fstatfs",
                                         "fstatfs64",
                                         "fsync",
                                         "ftruncate",
                                         "ftruncate64",
                                         "futex",
                                         "futex_requeue",
                                         "futex_time64",
                                         "futex_wait",
                                         "futex_waitv",
                                         "futex_wake",
                                         "futimesat",
                                         "getcpu",
                                         "getcwd",
                                         "getdents",
                                         "getdents64",
                                         "getegid",
                                         "getegid32",
                                         "geteuid",
                                         "geteuid32",
                                         "getgid",
                                         "getgid32",
                                         "getgroups",
                                         "getgroups32",
                                         "getitimer",
                                         "getpeername",
                                         "getpgid",
                                         "getpgrp",
                                         "getpid",
                                         "getppid",
                                         "getpriority",
                                         "getrandom",
                                         "getresgid",
                                         "getresgid32",
                                         "getresuid",
                                         "getresuid32",
                                         "getrlimit",
                                         "get_robust_list",
                                         "getrusage",
                                         "getsid",
                                         "getsockname",
                                         "getsockopt",
                                         "get_thread_area",
                                         "gettid",
                                         "gettimeofday",
                                         "getuid",
                                         "getuid32",
                                         "getxattr",
                                         "inotify_add_watch",
                                         "inotify_init",
                                         "inotify_init1",
                                         "inotify_rm_watch",
                                         "io_cancel",
                                         "ioctl",
                                         "io_destroy",
                                         "io_getevents",
                                         "io_pgetevents",
                                         "io_pgetevents_time64",
                                         "ioprio_get",
                                         "ioprio_set",
                                         "io_setup",
                                         "io_submit",
                                         "ipc",
                                         "kill",
                                         "landlock_add_rule",
                                         "landlock_create_ruleset",
                                         "landlock_restrict_self",
                                         "lchown",
                                         "lchown32",
                                         "lgetxattr",
                                         "link",
                                         "linkat",
                                         "listen",
                                         "listxattr",
                                         "llistxattr",
                                         "_llseek",
                                         "lremovexattr",
                                         "lseek",
                                         "lsetxattr",
                                         "lstat",
                                         "lstat64",
                                         "madvise",
                                         "map_shadow_stack",
                                         "membarrier",
                                         "memfd_create",
                                         "memfd_secret",
                                         "mincore",
                                         "mkdir",
                                         "mkdirat",
                                         "mknod",
                                         "mknodat",
                                         "mlock",
                                         "mlock2",
                                         "mlockall",
                                         "mmap",
                                         "mmap2",
                                         "mprotect",
                                         "mq_getsetattr",
                                         "mq_notify",
                                         "mq_open",
                                         "mq_timedreceive",
                                         "mq_timedreceive_time64",
                                         "mq_timedsend",
                                         "mq_timedsend_time64",
                                         "mq_unlink",
                                         "mremap",
                                         "msgctl",
                                         "msgget",
                                         "msgrcv",
                                         "msgsnd",
                                         "msync",
                                         "munlock",
                                         "munlockall",
                                         "munmap",
                                         "name_to_handle_at",
                                         "nanosleep",
                                         "newfstatat",
                                         "_newselect",
                                         "open",
                                         "openat",
                                         "openat2",
                                         "pause",
                                         "pidfd_open",
                                         "pidfd_send_signal",
                                         "pipe",
                                         "pipe2",
                                         "pkey_alloc",
                                         "pkey_free",
                                         "pkey_mprotect",
                                         "poll",
                                         "ppoll",
                                         "ppoll_time64",
                                         "prctl",
                                         "pread64",
                                         "preadv",
                                         "preadv2",
                                         "prlimit64",
                                         "process_mrelease",
                                         "pselect6",
                                         "pselect6_time64",
                                         "pwrite64",
                                         "pwritev",
                                         "pwritev2",
                                         "read",
                                         "readahead",
                                         "readlink",
                                         "readlinkat",
                                         "readv",
                                         "recv",
                                         "recvfrom",
                                         "recvmmsg",
                                         "recvmmsg_time64",
                                         "recvmsg",
                                         "remap_file_pages",
                                         "removexattr",
                                         "rename",
                                         "renameat",
                                         "renameat2",
                                         "restart_syscall",
                                         "rmdir",
                                         "rseq",
                                         "rt_sigaction",
                                         "rt_sigpending",
                                         "rt_sigprocmask",
                                         "rt_sigqueueinfo",
                                         "rt_sigreturn",
                                         "rt_sigsuspend",
                                         "rt_sigtimedwait",
                                         "rt_sigtimedwait_time64",
                                         "rt_tgsigqueueinfo",
                                         "sched_getaffinity",
                                         "sched_getattr",
                                         "sched_getparam",
                                         "sched_get_priority_max",
                                         "sched_get_priority_min",
                                         "sched_getscheduler",
                                         "sched_rr_get_interval",
                                         "sched_rr_get_interval_time64",
                                         "sched_setaffinity",
                                         "sched_setattr",
                                         "sched_setparam",
                                         "sched_setscheduler",
                                         "sched_yield",
                                         "seccomp",
                                         "select",
                                         "semctl",
                                         "semget",
                                         "semop",
                                         "semtimedop",
                                         "semtimedop_time64",
                                         "send",
                                         "sendfile",
                                         "sendfile64",
                                         "sendmmsg",
                                         "sendmsg",
                                         "sendto",
                                         "setfsgid",
                                         "setfsgid32",
                                         "setfsuid",
                                         "setfsuid32",
                                         "setgid",
                                         "setgid32",
                                         "setgroups",
                                         "setgroups32",
                                         "setitimer",
                                         "setpgid",
                                         "setpriority",
                                         "setregid",
                                         "setregid32",
                                         "setresgid",
                                         "setresgid32",
                                         "setresuid",
                                         "setresuid32",
                                         "setreuid",
                                         "setreuid32",
                                         "setrlimit",
                                         "set_robust_list",
                                         "setsid",
                                         "setsockopt",
                                         "set_thread_area",
                                         "set_tid_address",
                                         "setuid",
                                         "setuid32",
                                         "setxattr",
                                         "shmat",
                                         "shmctl",
                                         "shmdt",
                                         "shmget",
                                         "shutdown",
                                         "sigaltstack",
                                         "signalfd",
                                         "signalfd4",
                                         "sigprocmask",
                                         "sigreturn",
                                         "socket",
                                         "socketcall",
                                         "socketpair",
                                         "splice",
                                         "stat",
                                         "stat64",
                                         "statfs",
                                         "statfs64",
                                         "statx",
                                         "symlink",
                                         "symlinkat",
                                         "sync",
                                         "sync_file_range",
                                         "syncfs",
                                         "sysinfo",
                                         "tee",
                                         "tgkill",
                                         "time",
                                         "timer_create",
                                         "timer_delete",
                                         "timer_getoverrun",
                                         "timer_gettime",
                                         "timer_gettime64",
                                         "timer_settime",
                                         "timer_settime64",
                                         "timerfd_create",
                                         "timerfd_gettime",
                                         "timerfd_gettime64",
                                         "timerfd_settime",
                                         "timerfd_settime64",
                                         "times",
                                         "tkill",
                                         "truncate",
                                         "truncate64",
                                         "ugetrlimit",
                                         "umask",
                                         "uname",
                                         "unlink",
                                         "unlinkat",
                                         "utime",
                                         "utimensat",
                                         "utimensat_time64",
                                         "utimes",
                                         "vfork",
                                         "vmsplice",
                                         "wait4",
                                         "waitid",
                                         "waitpid",
                                         "write",
                                         "writev"};

// Syscalls a capability brings back (moby's "includes": {"caps": [...]}).
struct CapabilityRule {
  std::string_view capability;
  std::initializer_list<std::string_view> names;
};
const CapabilityRule kCapabilityRules[] = {
    {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
    {"CAP_SYS_ADMIN",
     {"bpf",           "clone",         "clone3",      "fanotify_init",   "fsconfig",
      "fsmount",       "fsopen",        "fspick",      "lookup_dcookie",  "mount",
      "mount_setattr", "move_mount",    "open_tree",   "perf_event_open", "quotactl",
      "quotactl_fd",   "setdomainname", "sethostname", "setns",           "syslog",
      "umount",        "umount2",       "unshare"}},
    {"CAP_SYS_BOOT", {"reboot"}},
    {"CAP_SYS_CHROOT", {"chroot"}},
    {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
    {"CAP_SYS_PACCT", {"acct"}},
    {"CAP_SYS_PTRACE",
     {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
    {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
    {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
    {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
    {"CAP_SYSLOG", {"syslog"}},
    {"CAP_BPF", {"bpf"}},
    {"CAP_PERFMON", {"perf_event_open"}},
};

// personality(2) personas that change nothing dangerous: PER_LINUX, PER_LINUX32, UNAME26,
// UNAME26|PER_LINUX32, and the query 0xffffffff.
constexpr uint64_t kPersonalities[] = {0x0, 0x0008, 0x20000, 0x20008, 0xffffffff};

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
// CLONE_NEWNET: without CAP_SYS_ADMIN clone may use none of them.
constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;
constexpr int kEnosys = 38;

json::array names_of(std::initializer_list<std::string_view> names) {
  json::array out;
  for (auto n : names) out.emplace_back(n);
  return out;
}

json::array names_of(const std::vector<std::string_view>& names) {
  json::array out;
  for (auto n : names) out.emplace_back(n);
  return out;
}

json::object allow(json::array names) {
  return json::object{{"names", std::move(names)}, {"action", "SCMP_ACT_ALLOW"}};
}

// moby gates ptrace and process_vm_* on kernel 4.8 (before it, seccomp could be bypassed
// through ptrace).
bool kernel_at_least(int major, int minor) {
  struct utsname u {};
  if (::uname(&u) != 0) return false;
  int ma = 0, mi = 0;
  if (std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

json::array architectures() {
  struct utsname u {};
  ::uname(&u);
  const std::string_view machine = u.machine;
  if (machine == "x86_64") return names_of({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
  if (machine == "aarch64") return names_of({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"});
  if (machine == "s390x") return names_of({"SCMP_ARCH_S390X", "SCMP_ARCH_S390"});
  if (machine == "ppc64le") return names_of({"SCMP_ARCH_PPC64LE"});
  if (machine == "riscv64") return names_of({"SCMP_ARCH_RISCV64"});
  return {};
}

std::vector<std::string_view> arch_specific() {
  struct utsname u {};
  ::uname(&u);
  const std::string_view machine = u.machine;
  if (machine == "x86_64") return {"arch_prctl", "modify_ldt"};
  if (machine == "i686" || machine == "i386") return {"modify_ldt"};
  if (machine == "aarch64" || machine.substr(0, 3) == "arm") {
    return {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
            "breakpoint",       "cacheflush",          "set_tls"};
  }
  if (machine == "ppc64le") return {"sync_file_range2", "swapcontext"};
  if (machine == "s390x") {
    return {"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"};
  }
  if (machine == "riscv64") return {"riscv_flush_icache"};
  return {};
}

}  // namespace

json::object default_seccomp_profile(const std::vector<std::string>& capabilities) {
  auto has = [&](std::string_view cap) {
    return std::find(capabilities.begin(), capabilities.end(), cap) != capabilities.end();
  };
  json::array syscalls;
  json::array allowed;
  for (auto n : kAllowed) allowed.emplace_back(n);
  syscalls.push_back(allow(std::move(allowed)));

  for (uint64_t persona : kPersonalities) {
    json::object rule = allow(names_of({"personality"}));
    rule["args"] = json::array{
        json::object{{"index", 0}, {"value", persona}, {"valueTwo", 0}, {"op", "SCMP_CMP_EQ"}}};
    syscalls.push_back(std::move(rule));
  }
  if (auto arch = arch_specific(); !arch.empty()) syscalls.push_back(allow(names_of(arch)));
  if (kernel_at_least(4, 8)) {
    syscalls.push_back(allow(names_of({"process_vm_readv", "process_vm_writev", "ptrace"})));
  }
  for (const auto& rule : kCapabilityRules) {
    if (has(rule.capability)) syscalls.push_back(allow(names_of(rule.names)));
  }
  if (!has("CAP_SYS_ADMIN")) {
    struct utsname u {};
    ::uname(&u);
    // The flags are clone's first argument, except on s390 where they come second.
    const int index = std::string_view(u.machine).substr(0, 4) == "s390" ? 1 : 0;
    json::object clone = allow(names_of({"clone"}));
    clone["args"] = json::array{json::object{{"index", index},
                                             {"value", kCloneNamespaceFlags},
                                             {"valueTwo", 0},
                                             {"op", "SCMP_CMP_MASKED_EQ"}}};
    syscalls.push_back(std::move(clone));
    // clone3 hides its flags in a struct seccomp cannot read: ENOSYS makes libc fall back to
    // clone, which the rule above can check.
    syscalls.push_back(json::object{
        {"names", names_of({"clone3"})}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", kEnosys}});
  }
  return json::object{{"defaultAction", "SCMP_ACT_ERRNO"},
                      {"defaultErrnoRet", 1},
                      {"architectures", architectures()},
                      {"syscalls", std::move(syscalls)}};
}

}  // namespace berth::core::container
