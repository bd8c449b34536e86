#include "plugin/cgroup_v2_layout.hpp"

#include <algorithm>

#include "common/sys_util.hpp"

namespace berth::plugins::isolation::cgroup_v2 {
namespace {

std::string strip_slashes(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

bool contains_word(std::string_view line, std::string_view word) {
  for (auto w : split(line, ' ')) {
    if (trim(w) == word) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& wanted_controllers() {
  static const std::vector<std::string> wanted{"cpu", "memory", "pids", "io", "cpuset"};
  return wanted;
}

sdk::Result<std::string> own_cgroup_from_proc(std::string_view text) {
  for (auto line : split(text, '\n')) {
    line = trim(line);
    if (line.substr(0, 3) != "0::") continue;
    std::string path(line.substr(3));
    // A cgroup removed under us reads "/a/b (deleted)": nothing to build on.
    if (path.empty() || path.front() != '/' || path.find(" (deleted)") != std::string::npos) {
      break;
    }
    return path;
  }
  return sdk::make_error(sdk::ErrorCode::kUnsupported,
                         "/proc/self/cgroup has no usable cgroup v2 line (\"0::/...\")");
}

sdk::Result<LayoutMode> parse_layout_mode(std::string_view text) {
  if (text.empty() || text == "auto") return LayoutMode::kAuto;
  if (text == "root") return LayoutMode::kRoot;
  if (text == "delegated") return LayoutMode::kDelegated;
  return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                         "cgroup-layout: \"" + std::string(text) +
                             "\" is not one of auto, root, delegated");
}

sdk::Result<Layout> plan_layout(const HostView& host, LayoutMode mode) {
  if (host.own.empty() || host.own.front() != '/' || host.own.find("..") != std::string::npos) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                           "berthd's own cgroup \"" + host.own + "\" is not an absolute path");
  }
  const std::string own = strip_slashes(host.own);
  Layout layout;
  const bool root_usable = host.top_is_host_root && host.top_writable;
  if (mode == LayoutMode::kRoot || (mode == LayoutMode::kAuto && root_usable)) {
    layout.reason = mode == LayoutMode::kRoot
                        ? "cgroup-layout root: containers at the top of the cgroup2 hierarchy"
                        : "berthd may write the root cgroup: containers at the top of the cgroup2 "
                          "hierarchy, beside " +
                              (own.empty() ? std::string("berthd") : "berthd's /" + own);
    return layout;
  }
  layout.delegated = true;
  // Started by systemd with DelegateSubgroup=daemon (or moved there by a previous berthd that
  // shared this process): the leaf exists already, the delegated cgroup is its parent.
  const auto slash = own.rfind('/');
  const std::string last = slash == std::string::npos ? own : own.substr(slash + 1);
  if (last == "daemon") {
    layout.base = slash == std::string::npos ? "" : own.substr(0, slash);
    layout.daemon_leaf = own;
  } else {
    layout.base = own;
    layout.daemon_leaf = join(own, "daemon");
  }
  const std::string why = mode == LayoutMode::kDelegated ? "cgroup-layout delegated"
                          : !host.top_is_host_root
                              ? "the cgroup2 mount's top is not the root cgroup (a cgroup namespace)"
                              : "the root cgroup is read-only to berthd";
  layout.reason = why + ": containers under berthd's own cgroup /" + layout.base +
                  ", berthd itself in the leaf /" + layout.daemon_leaf;
  return layout;
}

std::vector<std::string> enabling_chain(const Layout& layout, const std::string& task_rel) {
  std::vector<std::string> chain{layout.base};
  const std::string rel = strip_slashes(task_rel);
  auto parts = split(rel, '/');
  std::string path = layout.base;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    path = join(path, std::string(parts[i]));
    chain.push_back(path);
  }
  return chain;
}

std::vector<std::string> controllers_to_enable(std::string_view available,
                                               std::string_view enabled,
                                               const std::vector<std::string>& wanted) {
  std::vector<std::string> out;
  for (const auto& c : wanted) {
    if (contains_word(available, c) && !contains_word(enabled, c)) out.push_back("+" + c);
  }
  return out;
}

std::string missing_controller_message(const std::string& controller, const std::string& task_dir,
                                       const std::string& stuck_dir, MissingCause cause,
                                       bool delegated) {
  std::string out = "the " + controller + " controller is not available in " + task_dir + ": ";
  switch (cause) {
    case MissingCause::kNotOffered:
      out += stuck_dir + " is not given it by its parent (" + stuck_dir +
             "/cgroup.controllers lacks it); ";
      out += delegated ? "when berthd runs under systemd, set Delegate=yes in berthd.service "
                         "(the unit shipped in contrib/systemd does); otherwise enable it in the "
                         "parent's cgroup.subtree_control"
                       : "enable it in the parent's cgroup.subtree_control, or check that the "
                         "kernel has it (it is missing from the root's cgroup.controllers when "
                         "a cgroup v1 hierarchy holds it)";
      break;
    case MissingCause::kInternalProcesses:
      out += stuck_dir + " holds processes of its own, so it cannot hand " + controller +
             " down (cgroup v2's no-internal-process rule); move them into a leaf cgroup, or run "
             "berthd with cgroup-layout \"delegated\" under a cgroup of its own (Delegate=yes)";
      break;
    case MissingCause::kNotWritable:
      out += "berthd may not write " + stuck_dir +
             "/cgroup.subtree_control; run berthd as root, or under systemd with Delegate=yes "
             "so its own cgroup is writable";
      break;
    case MissingCause::kUnknown:
      out += "enabling it in " + stuck_dir + "/cgroup.subtree_control failed";
      break;
  }
  return out;
}

}  // namespace berth::plugins::isolation::cgroup_v2
