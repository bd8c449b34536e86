#include "core/config/userns_remap.hpp"

#include <grp.h>
#include <pwd.h>

#include <charconv>
#include <optional>
#include <sstream>

#include "core/common/fs.hpp"

namespace berth::core::config {
namespace {

std::optional<uint32_t> number(std::string_view text) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// The first "name:start:count" line for `name` (or its numeric id) in `path`.
Result<IdRange> first_range(const std::string& path, const std::string& name,
                            std::optional<uint32_t> id, const char* kind) {
  auto text = fs::read_file(path);
  auto missing = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      "userns-remap: " + std::string(kind) + " \"" + name + "\" has no range in " +
                          path + " (add one, e.g. \"" + name + ":100000:65536\", or run usermod "
                          "--add-sub" + (std::string(kind) == "user" ? "uids" : "gids") +
                          " 100000-165535 " + name + ")");
  };
  if (!text) return missing();
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    auto c1 = line.find(':');
    auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    std::string_view who(line.data(), c1);
    if (who != name && !(id && number(who) == id)) continue;
    auto start = number(std::string_view(line).substr(c1 + 1, c2 - c1 - 1));
    auto count = number(std::string_view(line).substr(c2 + 1));
    if (!start || !count || *count == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "userns-remap: malformed line in " + path + ": \"" + line + "\"");
    }
    return IdRange{*start, *count};
  }
  return missing();
}

}  // namespace

Result<UsernsRemap> resolve_userns_remap(std::string_view spec, const std::string& subuid,
                                         const std::string& subgid) {
  UsernsRemap remap;
  auto colon = spec.find(':');
  remap.user = std::string(spec.substr(0, colon));
  remap.group = colon == std::string_view::npos ? remap.user : std::string(spec.substr(colon + 1));
  if (remap.user.empty() || remap.group.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "userns-remap: \"" + std::string(spec) + "\" must be user[:group]");
  }
  if (remap.user == "default") {
    // dockerd creates a "dockremap" user here; berthd changes no account: name one.
    return make_error(ErrorCode::kInvalidArgument,
                      "userns-remap: \"default\" is not supported: name a user with ranges in "
                      "/etc/subuid and /etc/subgid");
  }
  std::optional<uint32_t> uid, gid;
  if (const struct passwd* pw = ::getpwnam(remap.user.c_str())) uid = pw->pw_uid;
  if (const struct group* gr = ::getgrnam(remap.group.c_str())) gid = gr->gr_gid;
  auto uids = first_range(subuid, remap.user, uid, "user");
  if (!uids) return uids.error();
  auto gids = first_range(subgid, remap.group, gid, "group");
  if (!gids) return gids.error();
  remap.uids = *uids;
  remap.gids = *gids;
  return remap;
}

}  // namespace berth::core::config
