#include "monitor/user.hpp"

#include <optional>

#include "berth/sdk/user_db.hpp"
#include "common/sys_util.hpp"

namespace berth::plugins::isolation {
namespace {

using sdk::userdb::GroupEntry;
using sdk::userdb::PasswdEntry;

std::optional<uint32_t> parse_id(std::string_view text) {
  uint32_t n = 0;
  if (!sdk::userdb::parse_id(text, n)) return std::nullopt;
  return n;
}

// An absent or unreadable file has no entries (an image without /etc/passwd).
std::vector<PasswdEntry> read_passwd(const std::string& path) {
  auto text = read_file(path);
  return text ? sdk::userdb::parse_passwd(*text) : std::vector<PasswdEntry>{};
}

std::vector<GroupEntry> read_groups(const std::string& path) {
  auto text = read_file(path);
  return text ? sdk::userdb::parse_group(*text) : std::vector<GroupEntry>{};
}

sdk::Error not_found(const std::string& what) {
  return sdk::make_error(sdk::ErrorCode::kInvalidArgument, what);
}

}  // namespace

sdk::Result<ResolvedUser> resolve_user(std::string_view spec, uint32_t uid, uint32_t gid,
                                       const std::string& passwd_path,
                                       const std::string& group_path) {
  ResolvedUser out;
  const auto passwd = read_passwd(passwd_path);
  if (spec.empty()) {
    out.uid = uid;
    out.gid = gid;
    for (const auto& p : passwd) {
      if (p.uid == uid) {
        if (!p.home.empty()) out.home = p.home;
        break;
      }
    }
    return out;
  }
  std::string_view user_part = spec;
  std::string_view group_part;
  const bool explicit_group = spec.find(':') != std::string_view::npos;
  if (explicit_group) {
    user_part = spec.substr(0, spec.find(':'));
    group_part = spec.substr(spec.find(':') + 1);
  }

  const PasswdEntry* match = nullptr;
  if (auto numeric = parse_id(user_part)) {
    out.uid = *numeric;
    for (const auto& p : passwd) {
      if (p.uid == *numeric) {
        match = &p;
        break;
      }
    }
  } else if (!user_part.empty()) {
    for (const auto& p : passwd) {
      if (p.name == user_part) {
        match = &p;
        break;
      }
    }
    if (match == nullptr) {
      return not_found("unable to find user " + std::string(user_part) +
                       ": no matching entries in passwd file");
    }
    out.uid = match->uid;
  }
  if (match != nullptr) {
    out.gid = match->gid;
    if (!match->home.empty()) out.home = match->home;
  }

  if (explicit_group || match != nullptr) {
    const auto groups = read_groups(group_path);
    if (explicit_group && !group_part.empty()) {
      if (auto numeric = parse_id(group_part)) {
        out.gid = *numeric;
      } else {
        bool found = false;
        for (const auto& g : groups) {
          if (g.name == group_part) {
            out.gid = g.gid;
            found = true;
            break;
          }
        }
        if (!found) {
          return not_found("unable to find group " + std::string(group_part) +
                           ": no matching entries in group file");
        }
      }
    } else if (!explicit_group && match != nullptr) {
      // Supplementary groups only in the implicit form: every group listing the user by name.
      for (const auto& g : groups) {
        for (const auto& m : g.members) {
          if (m == match->name) {
            out.groups.push_back(g.gid);
            break;
          }
        }
      }
    }
  }
  return out;
}

sdk::Result<uint32_t> resolve_group(std::string_view group, const std::string& group_path) {
  if (auto numeric = parse_id(group)) return *numeric;
  for (const auto& g : read_groups(group_path)) {
    if (g.name == group) return g.gid;
  }
  return not_found("unable to find group " + std::string(group) +
                   ": no matching entries in group file");
}

}  // namespace berth::plugins::isolation
