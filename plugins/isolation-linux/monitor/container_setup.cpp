#include "monitor/container_setup.hpp"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "common/create_config.hpp"
#include "common/protocol.hpp"
#include "common/sys_util.hpp"
#include "monitor/idmapped_rootfs.hpp"
#include "monitor/linux_mounts.hpp"
#include "monitor/namespaces.hpp"
#include "monitor/process_exec.hpp"
#include "monitor/seccomp_program.hpp"
#include "monitor/terminal.hpp"

namespace berth::plugins::isolation {
namespace {

[[noreturn]] void fail(int fd, const sdk::Error& error) {
  report_and_exit(fd, format_error(error), 1);
}

// The profile the plugin compiled, when the spec had one (an empty memfd: none).
std::optional<std::string> load_seccomp(const ProcessFds& fds) {
  struct stat st {};
  if (fds.seccomp < 0 || (::fstat(fds.seccomp, &st) == 0 && st.st_size == 0)) {
    return std::nullopt;
  }
  auto program = read_seccomp_program(fds.seccomp);
  if (!program) fail(fds.report, program.error());
  return std::move(*program);
}

// The container's process, right after the fork.
[[noreturn]] void container_main(const CreateConfig& config, const NamespacePlan& plan,
                                 const ProcessFds& fds, int sync, PreparedRoot* prepared,
                                 const std::string* seccomp) {
  ::close(fds.report);
  char go = 0;
  if (::read(sync, &go, 1) != 1) ::_exit(1);
  // Only now is the process in its cgroups, so the cgroup namespace is rooted at its own one.
  if (plan.new_cgroup && ::unshare(CLONE_NEWCGROUP) != 0) {
    fail(sync, sdk::errno_error("unshare cgroup namespace"));
  }
  if (::setsid() < 0) fail(sync, sdk::errno_error("setsid"));
  if (plan.new_net) {
    if (auto s = bring_loopback_up(); !s) fail(sync, s.error());
  }
  PreparedRoot local;
  if (prepared == nullptr) {
    auto p = prepare_rootfs(config, false);
    if (!p) fail(sync, p.error());
    local = std::move(*p);
    prepared = &local;
  }
  if (auto s = finish_rootfs(config, *prepared); !s) fail(sync, s.error());
  if (config.terminal) {
    if (auto s = setup_terminal(fds.console); !s) fail(sync, s.error());
    ::close(fds.console);
  } else {
    if (auto s = setup_stdio(fds.stdin_r, fds.stdout_w, fds.stderr_w); !s) fail(sync, s.error());
    for (int fd : {fds.stdin_r, fds.stdout_w, fds.stderr_w}) {
      if (fd > 2) ::close(fd);
    }
  }
  const OciSpec& spec = config.spec;
  if (!spec.hostname.empty()) {
    if (!plan.new_uts && spec.find_namespace("uts") == nullptr) {
      fail(sync, sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                                 "unable to set hostname without a private UTS namespace"));
    }
    if (::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) {
      fail(sync, sdk::errno_error("sethostname"));
    }
  }
  auto annotation = [&](const char* key) -> std::string {
    auto it = spec.annotations.find(key);
    return it == spec.annotations.end() ? std::string() : it->second;
  };
  std::string domainname = spec.domainname;
  if (domainname.empty()) domainname = annotation("org.berth.domainname");
  if (!domainname.empty() && ::setdomainname(domainname.data(), domainname.size()) != 0) {
    fail(sync, sdk::errno_error("setdomainname"));
  }
  for (const auto& [key, value] : spec.sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i) {
      if (path[i] == '.') path[i] = '/';
    }
    if (auto s = write_existing(path, value); !s) {
      fail(sync, std::move(s).error().wrap("sysctl " + key));
    }
  }
  if (auto s = apply_readonly_paths(spec.readonly_paths); !s) fail(sync, s.error());
  if (auto s = apply_masked_paths(spec.masked_paths); !s) fail(sync, s.error());
  if (spec.root_readonly) {
    if (auto s = make_root_readonly(); !s) fail(sync, s.error());
  }
  if (auto s = finish_root_propagation(spec.rootfs_propagation); !s) fail(sync, s.error());

  ProcessSetup setup;
  setup.process = &spec.process;
  setup.user_spec = annotation("org.berth.user");
  if (setup.user_spec.empty()) setup.user_spec = spec.process.user.username;
  for (auto g : split(annotation("org.berth.group-add"), ',')) setup.group_add.emplace_back(g);
  setup.create_cwd = annotation("org.berth.create-cwd") == "true";
  setup.seccomp = seccomp;
  setup.rlimits = &spec.process.rlimits;
  setup.oom_score_adj = spec.process.oom_score_adj;
  if (!config.init_path.empty()) setup.argv = {"/dev/init", "--"};
  for (const auto& a : spec.process.args) setup.argv.push_back(a);
  setup.command = spec.process.args.front();
  setup.ready_fd = sync;
  setup.start_fd = fds.start_r;
  setup.exec_err_fd = fds.exec_err_w;
  finalize_and_exec(setup);
}

// Lets `pid` go, waits for its verdict on `sync` and reports to the monitor.
[[noreturn]] void await_child(int report, int sync, pid_t pid) {
  if (::write(sync, "g", 1) != 1) {
    ::kill(pid, SIGKILL);
    fail(report, sdk::errno_error("release container process"));
  }
  auto line = read_line(sync, 120000);
  if (line && *line == "ok") report_and_exit(report, "ok " + std::to_string(pid), 0);
  ::kill(pid, SIGKILL);
  if (!line) {
    // The process died without a word (killed, or crashed before reporting).
    int status = 0;
    std::string why = line.error().message;
    if (::waitpid(pid, &status, WNOHANG) == pid && WIFSIGNALED(status)) {
      why = "killed by signal " + std::to_string(WTERMSIG(status));
    }
    fail(report, sdk::make_error(sdk::ErrorCode::kInternal, "container process setup: " + why));
  }
  report_and_exit(report, *line, 1);
}

// With a new user namespace: the first child creates it and waits while the setup child (still
// root in the parent namespace) writes its maps; then it becomes root inside, unshares the other
// namespaces (owned by the new user namespace that way) and forks the container's process,
// whose pid it reports before leaving (the process is re-parented to the monitor).
[[noreturn]] void user_namespace_stage(const CreateConfig& config, const NamespacePlan& plan,
                                       const ProcessFds& fds, int sync,
                                       const std::string* seccomp, int idmap_userns) {
  ::close(fds.report);
  // The rootfs and the bind sources, while still root on the host, in a mount namespace of our
  // own that the container's (made inside the user namespace) copies.
  if (::unshare(CLONE_NEWNS) != 0) fail(sync, sdk::errno_error("unshare mount namespace"));
  auto prepared = prepare_rootfs(config, true, idmap_userns);
  if (!prepared) fail(sync, prepared.error());
  // Unsharing a mount namespace moves the current directory to its copy in the new one: that
  // is where the rootfs gets attached again (finish_rootfs), reached without any path.
  if (::fchdir(prepared->root.get()) != 0) fail(sync, sdk::errno_error("chdir rootfs"));
  prepared->root.reset();
  if (::unshare(CLONE_NEWUSER) != 0) fail(sync, sdk::errno_error("unshare user namespace"));
  char step = 0;
  if (::write(sync, "u", 1) != 1 || ::read(sync, &step, 1) != 1) ::_exit(1);
  if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
    fail(sync, sdk::errno_error("become root in the user namespace (is 0 mapped?)"));
  }
  if (auto s = unshare_new_namespaces(plan); !s) fail(sync, s.error());
  pid_t pid = ::fork();
  if (pid < 0) fail(sync, sdk::errno_error("fork container process"));
  if (pid == 0) container_main(config, plan, fds, sync, &*prepared, seccomp);
  report_and_exit(sync, "pid " + std::to_string(pid), 0);
}

}  // namespace

void run_container_setup(const ProcessFds& fds) {
  reset_signals();
  close_fds_except(fds.all());
  auto text = read_whole_fd(fds.create_config, "create.json");
  if (!text) fail(fds.report, text.error());
  auto config = create_config_from_json(*text);
  if (!config) fail(fds.report, config.error());
  auto plan = plan_namespaces(config->spec);
  if (!plan) fail(fds.report, plan.error());
  auto seccomp = load_seccomp(fds);
  const std::string* seccomp_ptr = seccomp ? &*seccomp : nullptr;
  // The core asks for the image's files to be the container root's (its --userns-remap).
  UniqueFd idmap;
  if (auto it = config->spec.annotations.find(kIdmapRootfsAnnotation);
      plan->new_user && it != config->spec.annotations.end() && it->second == "true") {
    auto ns = make_mapping_userns(config->spec.uid_mappings, config->spec.gid_mappings);
    if (!ns) fail(fds.report, ns.error());
    idmap = std::move(*ns);
  }
  int sync[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) != 0) {
    fail(fds.report, sdk::errno_error("socketpair"));
  }
  if (auto s = enter_namespaces(*plan); !s) fail(fds.report, s.error());
  pid_t pid = ::fork();
  if (pid < 0) fail(fds.report, sdk::errno_error("fork container process"));
  if (pid == 0) {
    ::close(sync[0]);
    if (plan->new_user) {
      user_namespace_stage(*config, *plan, fds, sync[1], seccomp_ptr, idmap.get());
    }
    container_main(*config, *plan, fds, sync[1], nullptr, seccomp_ptr);
  }
  ::close(sync[1]);
  // Into the cgroups first (a process of a user namespace could not write the host's cgroupfs):
  // everything forked from here on is born inside them.
  for (const auto& procs : config->cgroup.procs_files) {
    if (auto s = write_existing(procs, std::to_string(pid)); !s) {
      ::kill(pid, SIGKILL);
      fail(fds.report, std::move(s).error().wrap("join cgroup"));
    }
  }
  if (plan->new_user) {
    // One byte: the stage's user namespace exists (or an error line instead).
    struct pollfd p {
      sync[0], POLLIN, 0
    };
    char step = 0;
    if (::poll(&p, 1, 30000) <= 0 || ::read(sync[0], &step, 1) != 1) {
      ::kill(pid, SIGKILL);
      fail(fds.report,
           sdk::make_error(sdk::ErrorCode::kInternal, "user namespace stage did not start"));
    }
    if (step != 'u') {
      auto rest = read_line(sync[0], 5000);
      ::kill(pid, SIGKILL);
      report_and_exit(fds.report, std::string(1, step) + (rest ? *rest : std::string()), 1);
    }
    const std::string proc = "/proc/" + std::to_string(pid);
    auto maps = write_existing(proc + "/uid_map", id_map_text(config->spec.uid_mappings));
    if (maps) maps = write_existing(proc + "/gid_map", id_map_text(config->spec.gid_mappings));
    if (!maps) {
      ::kill(pid, SIGKILL);
      fail(fds.report, std::move(maps).error().wrap("write user namespace maps"));
    }
    if (::write(sync[0], "m", 1) != 1) {
      ::kill(pid, SIGKILL);
      fail(fds.report, sdk::errno_error("release user namespace stage"));
    }
    auto line = read_line(sync[0], 60000);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!line) fail(fds.report, std::move(line).error().wrap("user namespace stage"));
    if (line->compare(0, 4, "pid ") != 0) report_and_exit(fds.report, *line, 1);
    pid = static_cast<pid_t>(parse_int64(std::string_view(*line).substr(4)).value_or(0));
  }
  await_child(fds.report, sync[0], pid);
}

void run_exec_setup(const std::string& task_dir, const std::string& exec_id, int container_pid,
                    const ProcessFds& fds) {
  reset_signals();
  close_fds_except(fds.all());
  auto text = read_whole_fd(fds.create_config, "create.json");
  if (!text) fail(fds.report, text.error());
  auto config = create_config_from_json(*text);
  if (!config) fail(fds.report, config.error());
  auto process_text = read_file(task_dir + "/exec-" + exec_id + ".json");
  if (!process_text) fail(fds.report, process_text.error());
  auto process = parse_process(*process_text);
  if (!process) fail(fds.report, process.error());
  auto seccomp = load_seccomp(fds);
  // Cgroups first, then the namespaces (the cgroup namespace is rooted where we stand).
  for (const auto& procs : config->cgroup.procs_files) {
    if (auto s = write_existing(procs, std::to_string(::getpid())); !s) {
      fail(fds.report, std::move(s).error().wrap("join cgroup"));
    }
  }
  if (auto s = join_process_namespaces(container_pid); !s) fail(fds.report, s.error());
  int sync[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) != 0) {
    fail(fds.report, sdk::errno_error("socketpair"));
  }
  const bool terminal = fds.console >= 0;
  pid_t pid = ::fork();
  if (pid < 0) fail(fds.report, sdk::errno_error("fork exec process"));
  if (pid == 0) {
    ::close(sync[0]);
    ::close(fds.report);
    char go = 0;
    if (::read(sync[1], &go, 1) != 1) ::_exit(1);
    if (::setsid() < 0) fail(sync[1], sdk::errno_error("setsid"));
    if (terminal) {
      if (auto s = setup_terminal(fds.console); !s) fail(sync[1], s.error());
      ::close(fds.console);
    } else {
      if (auto s = setup_stdio(fds.stdin_r, fds.stdout_w, fds.stderr_w); !s) {
        fail(sync[1], s.error());
      }
      for (int fd : {fds.stdin_r, fds.stdout_w, fds.stderr_w}) {
        if (fd > 2) ::close(fd);
      }
    }
    ProcessSetup setup;
    setup.process = &*process;
    setup.user_spec = process->user.username;
    setup.seccomp = seccomp ? &*seccomp : nullptr;
    setup.rlimits = process->rlimits.empty() ? &config->spec.process.rlimits : &process->rlimits;
    setup.argv = process->args;
    setup.command = process->args.front();
    setup.ready_fd = sync[1];
    setup.start_fd = fds.start_r;
    setup.exec_err_fd = fds.exec_err_w;
    finalize_and_exec(setup);
  }
  ::close(sync[1]);
  await_child(fds.report, sync[0], pid);
}

}  // namespace berth::plugins::isolation
