// Docker's --userns-remap: every container gets a user namespace whose root is an unprivileged
// host id. "<user>[:<group>]" names the first ranges of that user in /etc/subuid and of the group
// (the user when omitted) in /etc/subgid, as shadow's useradd and usermod write them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::core::config {

struct IdRange {
  uint32_t host = 0;  // the host id of the container's id 0
  uint32_t size = 0;
};

struct UsernsRemap {
  std::string user, group;
  IdRange uids, gids;
};

// Resolves `spec`; the files are /etc/subuid and /etc/subgid but for tests. A line may name the
// user or hold its numeric uid (gid for the group). Errors say what to add.
Result<UsernsRemap> resolve_userns_remap(std::string_view spec,
                                         const std::string& subuid = "/etc/subuid",
                                         const std::string& subgid = "/etc/subgid");

}  // namespace berth::core::config
