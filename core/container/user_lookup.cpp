#include "core/container/user_lookup.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "berth/sdk/detail/syscall_numbers.h"
#include "berth/sdk/user_db.hpp"
#include "core/common/unique_fd.hpp"

namespace berth::core::container {
namespace {

// A numeric user or group name as the id it names (a number beyond 32 bits names nothing).
bool same_id(const std::string& text, uint32_t id) {
  uint32_t n = 0;
  return sdk::userdb::parse_id(text, n) && n == id;
}

Result<std::string> read_in_root(int root_fd, const char* rel) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, rel, &how, sizeof how));
  if (fd < 0) {
    if (errno == ENOENT) return std::string();
    return errno_error(std::string("open ") + rel);
  }
  UniqueFd file(fd);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(file.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(std::string("read ") + rel);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (16 << 20)) break;
  }
  return out;
}

}  // namespace

Result<ResolvedUser> resolve_user(const std::string& spec, const std::string& passwd_text,
                                  const std::string& group_text,
                                  const std::vector<std::string>& group_add) {
  ResolvedUser out;
  size_t colon = spec.find(':');
  std::string user = spec.substr(0, colon);
  std::string group;
  if (colon != std::string::npos) group.assign(spec, colon + 1, std::string::npos);
  if (user.empty()) user = "0";
  auto passwd = sdk::userdb::parse_passwd(passwd_text);
  auto groups = sdk::userdb::parse_group(group_text);
  std::string username;
  bool found = false;
  for (const auto& e : passwd) {
    if (e.name == user || same_id(user, e.uid)) {
      out.uid = static_cast<uid_t>(e.uid);
      out.gid = static_cast<gid_t>(e.gid);
      out.home = e.home;
      username = e.name;
      found = true;
      break;
    }
  }
  if (!found) {
    uint32_t uid = 0;
    if (!sdk::userdb::parse_id(user, uid)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "unable to find user " + user + ": no matching entries in passwd file");
    }
    out.uid = static_cast<uid_t>(uid);
    out.gid = 0;
  }
  auto find_group = [&](const std::string& g) -> Result<gid_t> {
    for (const auto& e : groups) {
      if (e.name == g || same_id(g, e.gid)) return static_cast<gid_t>(e.gid);
    }
    if (uint32_t gid = 0; sdk::userdb::parse_id(g, gid)) return static_cast<gid_t>(gid);
    return make_error(ErrorCode::kInvalidArgument,
                      "unable to find group " + g + ": no matching entries in group file");
  };
  if (!group.empty()) {
    auto g = find_group(group);
    if (!g) return g.error();
    out.gid = *g;
  } else if (!username.empty()) {
    // Supplementary groups from membership lists, only when no explicit group was given.
    for (const auto& e : groups) {
      if (std::find(e.members.begin(), e.members.end(), username) == e.members.end()) continue;
      auto gid = static_cast<gid_t>(e.gid);
      if (gid != out.gid &&
          std::find(out.additional_gids.begin(), out.additional_gids.end(), gid) == out.additional_gids.end()) {
        out.additional_gids.push_back(gid);
      }
    }
  }
  for (const auto& g : group_add) {
    auto gid = find_group(g);
    if (!gid) return gid.error();
    if (std::find(out.additional_gids.begin(), out.additional_gids.end(), *gid) == out.additional_gids.end()) {
      out.additional_gids.push_back(*gid);
    }
  }
  // The primary group is also a supplementary one, as dockerd sets it (since the fix for
  // CVE-2022-36109): `id` then shows `groups=<gid>`, and dropping the primary group with
  // setgroups cannot be used to get around a group's negative permissions.
  std::erase(out.additional_gids, out.gid);
  out.additional_gids.insert(out.additional_gids.begin(), out.gid);
  return out;
}

Result<ResolvedUser> resolve_user_in_root(const std::string& root_path, const std::string& spec,
                                          const std::vector<std::string>& group_add) {
  UniqueFd root(::open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return errno_error("open container root " + root_path);
  auto passwd = read_in_root(root.get(), "etc/passwd");
  if (!passwd) return passwd.error();
  auto group = read_in_root(root.get(), "etc/group");
  if (!group) return group.error();
  return resolve_user(spec, *passwd, *group, group_add);
}

}  // namespace berth::core::container
