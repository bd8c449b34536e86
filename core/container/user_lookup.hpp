// "app", "app:staff", "1000:1000" → uid, gid and supplementary groups, read from a container's
// own /etc/passwd and /etc/group (never the host's), with Docker's rules and messages.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::container {

struct ResolvedUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  std::string home;  // from passwd, "" when the user is numeric and unknown
};

// Parses the user spec against passwd/group file contents (either may be empty: absent file).
Result<ResolvedUser> resolve_user(const std::string& spec, const std::string& passwd,
                                  const std::string& group,
                                  const std::vector<std::string>& group_add = {});

// Reads etc/passwd and etc/group inside the tree whose root is `root_path` (a running
// container's /proc/<pid>/root), resolving symlinks inside that root only.
Result<ResolvedUser> resolve_user_in_root(const std::string& root_path, const std::string& spec,
                                          const std::vector<std::string>& group_add = {});

}  // namespace berth::core::container
