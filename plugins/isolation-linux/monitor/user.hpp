// Resolves a Docker user string ("app", "app:app", "1000", "1000:1000", "app:0") against the
// container's /etc/passwd and /etc/group, with moby's semantics (moby/sys/user GetExecUser):
// supplementary groups are the /etc/group memberships of a named user, only when no group was
// given explicitly; an unknown name fails with Docker's wording.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/result.hpp"

namespace berth::plugins::isolation {

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary
  std::string home = "/";
};

// `spec` empty: `uid`/`gid` as given (process.user), with the home of that uid when known.
sdk::Result<ResolvedUser> resolve_user(std::string_view spec, uint32_t uid, uint32_t gid,
                                       const std::string& passwd_path = "/etc/passwd",
                                       const std::string& group_path = "/etc/group");

// A group name or number from the container's /etc/group (Docker's --group-add).
sdk::Result<uint32_t> resolve_group(std::string_view group,
                                    const std::string& group_path = "/etc/group");

}  // namespace berth::plugins::isolation
