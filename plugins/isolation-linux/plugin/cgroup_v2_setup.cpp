#include "plugin/cgroup_v2_setup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/sys_util.hpp"

namespace berth::plugins::isolation::cgroup_v2 {
namespace {

std::string abs_dir(const std::string& top, const std::string& rel) {
  return rel.empty() ? top : top + "/" + rel;
}

std::string read_line(const std::string& path) {
  auto text = read_file(path);
  return text ? std::string(trim(*text)) : std::string();
}

// One "+controller" write; errno on failure, 0 on success (raw calls: the errno is the answer).
int enable_one(const std::string& dir, const std::string& plus_controller) {
  const std::string path = dir + "/cgroup.subtree_control";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n;
  do {
    n = ::write(fd, plus_controller.data(), plus_controller.size());
  } while (n < 0 && errno == EINTR);
  const int err = n < 0 ? errno : 0;
  ::close(fd);
  return err;
}

MissingCause cause_of(int err) {
  switch (err) {
    case EBUSY:
      return MissingCause::kInternalProcesses;
    case EACCES:
    case EPERM:
    case EROFS:
      return MissingCause::kNotWritable;
    case ENOENT:
    case EINVAL:
      return MissingCause::kNotOffered;
    default:
      return MissingCause::kUnknown;
  }
}

}  // namespace

sdk::Result<Layout> prepare(const std::string& top, LayoutMode mode,
                            std::vector<std::string>& notes) {
  auto proc = read_file("/proc/self/cgroup");
  if (!proc) return std::move(proc).error();
  auto own = own_cgroup_from_proc(*proc);
  if (!own) return std::move(own).error();
  HostView host;
  host.own = *own;
  host.top_is_host_root = ::access((top + "/cgroup.type").c_str(), F_OK) != 0;
  host.top_writable = ::access((top + "/cgroup.subtree_control").c_str(), W_OK) == 0;
  auto layout = plan_layout(host, mode);
  if (!layout) return layout;
  notes.push_back(layout->reason);
  if (!layout->delegated) return layout;

  // The delegated cgroup must hold no process before it can hand controllers down: berthd (and
  // only berthd) moves into its leaf. Its threads follow (cgroup.procs moves a thread group).
  const std::string leaf = abs_dir(top, layout->daemon_leaf);
  if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
    return sdk::errno_error("create berthd's leaf cgroup " + leaf);
  }
  if (*own != "/" + layout->daemon_leaf) {
    if (auto s = write_existing(leaf + "/cgroup.procs", std::to_string(::getpid())); !s) {
      return std::move(s).error().wrap("move berthd into its leaf cgroup");
    }
  }
  const std::string base = abs_dir(top, layout->base);
  if (auto left = read_line(base + "/cgroup.procs"); !left.empty()) {
    std::string pids = left;
    std::replace(pids.begin(), pids.end(), '\n', ' ');
    notes.push_back(base + " still holds processes berthd does not own (" + pids +
                    "): no controller can be handed down to containers until they move into a "
                    "leaf cgroup");
    return layout;
  }
  const auto plus = controllers_to_enable(read_line(base + "/cgroup.controllers"),
                                          read_line(base + "/cgroup.subtree_control"),
                                          wanted_controllers());
  for (const auto& c : plus) {
    if (int err = enable_one(base, c); err != 0) {
      notes.push_back("enable " + c + " in " + base + "/cgroup.subtree_control: " +
                      errno_text(err));
    }
  }
  return layout;
}

void enable_chain(const std::string& top, const Layout& layout, const std::string& task_rel,
                  const std::vector<std::string>& created) {
  for (const auto& rel : enabling_chain(layout, task_rel)) {
    const std::string dir = abs_dir(top, rel);
    const bool ours = std::find(created.begin(), created.end(), dir) != created.end();
    const std::string available = read_line(dir + "/cgroup.controllers");
    std::vector<std::string> all;
    if (ours) {
      for (auto c : split(available, ' ')) all.emplace_back(c);
    }
    const auto plus = controllers_to_enable(available, read_line(dir + "/cgroup.subtree_control"),
                                            ours ? all : wanted_controllers());
    for (const auto& c : plus) (void)enable_one(dir, c);
  }
}

std::string ensure_controller(const std::string& top, const Layout& layout,
                              const std::string& task_rel, const std::string& controller) {
  const std::string task_dir =
      abs_dir(top, layout.base.empty() ? task_rel : layout.base + "/" + task_rel);
  for (const auto& rel : enabling_chain(layout, task_rel)) {
    const std::string dir = abs_dir(top, rel);
    const std::string available = read_line(dir + "/cgroup.controllers");
    const auto plus =
        controllers_to_enable(available, read_line(dir + "/cgroup.subtree_control"), {controller});
    bool offered = false;
    for (auto c : split(available, ' ')) offered = offered || c == controller;
    if (!offered) {
      return missing_controller_message(controller, task_dir, dir, MissingCause::kNotOffered,
                                        layout.delegated);
    }
    if (plus.empty()) continue;  // already handed down here
    if (int err = enable_one(dir, plus.front()); err != 0) {
      return missing_controller_message(controller, task_dir, dir, cause_of(err),
                                        layout.delegated) +
             " (" + errno_text(err) + ")";
    }
  }
  return {};
}

}  // namespace berth::plugins::isolation::cgroup_v2
