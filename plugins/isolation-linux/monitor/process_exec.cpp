#include <algorithm>

#include "monitor/process_exec.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/protocol.hpp"
#include "common/sys_util.hpp"
#include "monitor/capabilities.hpp"
#include "monitor/seccomp_program.hpp"
#include "monitor/user.hpp"

namespace berth::plugins::isolation {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

[[noreturn]] void fail_setup(int fd, const sdk::Error& error) {
  std::string line = format_error(error);
  (void)write_all(fd, line.data(), line.size());
  ::_exit(1);
}

[[noreturn]] void fail_exec(int fd, int code, const std::string& message) {
  std::string line = std::to_string(code) + " " + one_line(message);
  (void)write_all(fd, line.data(), line.size());
  ::_exit(code);
}

std::string quote(const std::string& s) { return "\"" + s + "\""; }

// Go's findExecutable: a regular file with an execute bit.
int find_executable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (!S_ISDIR(st.st_mode) && (st.st_mode & 0111) != 0) return 0;
  return EACCES;
}

sdk::Status apply_rlimits(const std::vector<Rlimit>& limits) {
  for (const auto& l : limits) {
    struct rlimit current {};
    if (::getrlimit(l.resource, &current) != 0) return sdk::errno_error("getrlimit " + l.type);
    if (current.rlim_max != RLIM_INFINITY &&
        (l.hard == RLIM_INFINITY || l.hard > current.rlim_max)) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                             "rlimit " + l.type + ": hard limit " + std::to_string(l.hard) +
                                 " is above the current hard limit " +
                                 std::to_string(current.rlim_max) +
                                 " (raising it needs CAP_SYS_RESOURCE)");
    }
    struct rlimit wanted {
      l.soft, l.hard
    };
    if (::setrlimit(l.resource, &wanted) != 0) return sdk::errno_error("setrlimit " + l.type);
  }
  return {};
}

}  // namespace

LookupResult look_path(const std::string& command, const std::vector<std::string>& env) {
  LookupResult r;
  if (command.find('/') != std::string::npos) {
    int err = find_executable(command);
    if (err == 0) {
      r.path = command;
    } else if (err == EACCES) {
      r.exit_code = 126;
      r.error = "exec: " + quote(command) + ": permission denied";
    } else {
      r.exit_code = err == ENOENT || err == ENOTDIR ? 127 : 126;
      r.error = "exec: " + quote(command) + ": stat " + command + ": " + errno_text(err);
    }
    return r;
  }
  std::string path_var = kDefaultPath;
  for (const auto& e : env) {
    if (e.compare(0, 5, "PATH=") == 0) path_var = e.substr(5);
  }
  for (auto dir : split(path_var, ':', false)) {
    std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + command;
    if (find_executable(candidate) == 0) {
      r.path = candidate;
      return r;
    }
  }
  r.exit_code = 127;
  r.error = "exec: " + quote(command) + ": executable file not found in $PATH";
  return r;
}

void finalize_and_exec(const ProcessSetup& s) {
  const OciProcess& p = *s.process;
  auto user = resolve_user(s.user_spec, p.user.uid, p.user.gid);
  if (!user) fail_setup(s.ready_fd, user.error());
  std::vector<std::string> env = p.env;
  bool has_home = false;
  for (const auto& e : env) has_home = has_home || e.compare(0, 5, "HOME=") == 0;
  if (!has_home) env.push_back("HOME=" + user->home);

  // The primary group first, also as a supplementary one, as dockerd sets it (since the fix
  // for CVE-2022-36109); each group once.
  std::vector<uint32_t> groups = {user->gid};
  auto add_group = [&groups](uint32_t g) {
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  };
  for (uint32_t g : user->groups) add_group(g);
  for (uint32_t g : p.user.additional_gids) add_group(g);
  for (const auto& name : s.group_add) {
    auto gid = resolve_group(name);
    if (!gid) fail_setup(s.ready_fd, gid.error());
    add_group(*gid);
  }
  if (s.create_cwd && ::access(p.cwd.c_str(), F_OK) != 0) {
    // Still root here: the directory is made like dockerd makes it, root-owned, 0755.
    std::string dir;
    for (auto part : split(p.cwd, '/')) {
      dir += "/" + std::string(part);
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        fail_setup(s.ready_fd, sdk::errno_error("create working directory " + p.cwd));
      }
    }
  }

  ::umask(p.user.umask.value_or(022));
  if (s.rlimits != nullptr) {
    if (auto st = apply_rlimits(*s.rlimits); !st) fail_setup(s.ready_fd, st.error());
  }
  // Written only when it changes: the value is inherited, and in a user namespace the file is
  // not writable at all (the usual 0 then needs no write).
  auto current = read_file("/proc/self/oom_score_adj");
  if (s.oom_score_adj &&
      !(current && trim(*current) == std::to_string(*s.oom_score_adj))) {
    if (auto st = write_existing("/proc/self/oom_score_adj", std::to_string(*s.oom_score_adj));
        !st) {
      // Lowering it below the monitor's needs CAP_SYS_RESOURCE, which this host may not give.
      fail_setup(s.ready_fd,
                 std::move(st).error().wrap("set oomScoreAdj " + std::to_string(*s.oom_score_adj) +
                                            " (lowering it needs CAP_SYS_RESOURCE)"));
    }
  }
  // Without no_new_privs the filter needs CAP_SYS_ADMIN to load, so it goes in before the
  // capabilities are dropped; with it, it goes in last, right before execve (runc's order).
  if (!p.no_new_privileges && s.seccomp != nullptr) {
    if (auto st = load_seccomp_program(*s.seccomp); !st) fail_setup(s.ready_fd, st.error());
  }
  if (auto st = drop_bounding_set(p.caps.bounding); !st) fail_setup(s.ready_fd, st.error());
  if (auto st = switch_user(user->uid, user->gid, groups); !st) fail_setup(s.ready_fd, st.error());
  if (auto st = apply_capabilities(p.caps); !st) fail_setup(s.ready_fd, st.error());
  if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fail_setup(s.ready_fd, sdk::errno_error("set no_new_privs"));
  }
  if (::chdir(p.cwd.c_str()) != 0) {
    int err = errno;
    fail_setup(s.ready_fd, sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                                           "chdir to cwd (" + quote(p.cwd) +
                                               ") set in config.json failed: " + errno_text(err)));
  }

  const std::string ok = "ok\n";
  (void)write_all(s.ready_fd, ok.data(), ok.size());
  ::close(s.ready_fd);

  char go = 0;
  ssize_t n;
  do {
    n = ::read(s.start_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(1);  // the monitor went away or cancelled: never run the process
  ::close(s.start_fd);

  if (p.no_new_privileges && s.seccomp != nullptr) {
    if (auto st = load_seccomp_program(*s.seccomp); !st) {
      fail_exec(s.exec_err_fd, 126, st.error().message);
    }
  }
  LookupResult found = look_path(s.command, env);
  if (found.exit_code != 0) fail_exec(s.exec_err_fd, found.exit_code, found.error);
  std::string target = s.argv.size() > 0 && s.argv[0] != s.command ? s.argv[0] : found.path;

  std::vector<char*> argv;
  for (const auto& a : s.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  // Nothing of the monitor may survive into the container's program.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(target.c_str(), argv.data(), envp.data());
  int err = errno;
  fail_exec(s.exec_err_fd, err == ENOENT ? 127 : 126, "exec " + target + ": " + errno_text(err));
}

}  // namespace berth::plugins::isolation
