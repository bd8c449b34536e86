#include "monitor/namespaces.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth::plugins::isolation {

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const std::vector<NamespaceKind>& namespace_kinds() {
  static const std::vector<NamespaceKind> kinds = {
      {"user", "user", CLONE_NEWUSER}, {"ipc", "ipc", CLONE_NEWIPC},
      {"uts", "uts", CLONE_NEWUTS},    {"network", "net", CLONE_NEWNET},
      {"pid", "pid", CLONE_NEWPID},    {"cgroup", "cgroup", CLONE_NEWCGROUP},
      {"time", "time", CLONE_NEWTIME}, {"mount", "mnt", CLONE_NEWNS},
  };
  return kinds;
}

sdk::Result<NamespacePlan> plan_namespaces(const OciSpec& spec) {
  NamespacePlan plan;
  bool mount_given = false;
  for (const auto& kind : namespace_kinds()) {
    const OciNamespace* ns = spec.find_namespace(kind.oci_type);
    if (ns == nullptr) continue;
    if (kind.clone_flag == CLONE_NEWNS) mount_given = true;
    if (!ns->path.empty()) {
      UniqueFd fd(::open(ns->path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd) {
        return sdk::errno_error("open " + std::string(kind.oci_type) + " namespace " + ns->path);
      }
      plan.joins.emplace_back(kind.clone_flag, std::move(fd));
      continue;
    }
    switch (kind.clone_flag) {
      case CLONE_NEWUSER:
        if (spec.uid_mappings.empty() || spec.gid_mappings.empty()) {
          return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                                 "a new user namespace needs uidMappings and gidMappings");
        }
        plan.new_user = true;
        break;
      case CLONE_NEWPID:
        plan.new_pid = true;
        break;
      case CLONE_NEWCGROUP:
        plan.new_cgroup = true;
        break;
      default:
        plan.unshare_flags |= kind.clone_flag;
        if (kind.clone_flag == CLONE_NEWNET) plan.new_net = true;
        if (kind.clone_flag == CLONE_NEWUTS) plan.new_uts = true;
        break;
    }
  }
  if (!mount_given) plan.unshare_flags |= CLONE_NEWNS;
  return plan;
}

sdk::Status enter_namespaces(NamespacePlan& plan) {
  for (auto& [flag, fd] : plan.joins) {
    if (::setns(fd.get(), flag) != 0) {
      for (const auto& kind : namespace_kinds()) {
        if (kind.clone_flag == flag) {
          return sdk::errno_error("join " + std::string(kind.oci_type) + " namespace");
        }
      }
      return sdk::errno_error("setns");
    }
    fd.reset();
  }
  if (plan.new_user) return {};  // the rest is unshared inside the new user namespace
  return unshare_new_namespaces(plan);
}

sdk::Status unshare_new_namespaces(const NamespacePlan& plan) {
  int flags = plan.unshare_flags | (plan.new_pid ? CLONE_NEWPID : 0);
  if (flags != 0 && ::unshare(flags) != 0) return sdk::errno_error("unshare namespaces");
  return {};
}

std::string id_map_text(const std::vector<IdMapping>& mappings) {
  std::string text;
  for (const auto& m : mappings) {
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
            std::to_string(m.size) + "\n";
  }
  return text;
}

sdk::Status join_process_namespaces(pid_t pid) {
  std::vector<std::pair<int, UniqueFd>> joins;
  for (const auto& kind : namespace_kinds()) {
    const std::string theirs =
        "/proc/" + std::to_string(pid) + "/ns/" + std::string(kind.proc_name);
    const std::string ours = "/proc/self/ns/" + std::string(kind.proc_name);
    struct stat a {
    }, b{};
    if (::stat(theirs.c_str(), &a) != 0) {
      if (errno == ENOENT) continue;  // a kind this kernel does not have
      return sdk::errno_error("stat " + theirs);
    }
    if (::stat(ours.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
    UniqueFd fd(::open(theirs.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return sdk::errno_error("open " + theirs);
    joins.emplace_back(kind.clone_flag, std::move(fd));
  }
  for (auto& [flag, fd] : joins) {
    if (::setns(fd.get(), flag) != 0) {
      for (const auto& kind : namespace_kinds()) {
        if (kind.clone_flag == flag) {
          return sdk::errno_error("join the container's " + std::string(kind.oci_type) +
                                  " namespace");
        }
      }
    }
  }
  return {};
}

sdk::Status bring_loopback_up() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return sdk::errno_error("socket");
  struct ifreq req {};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) return sdk::errno_error("get lo flags");
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) return sdk::errno_error("bring lo up");
  return {};
}

}  // namespace berth::plugins::isolation
