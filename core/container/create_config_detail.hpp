// Internal to POST /containers/create's checks (create_config.cpp, create_host_config.cpp,
// create_mounts.cpp): the small body readers they share and the steps prepare_create calls.
#pragma once

#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"
#include "core/container/create_config.hpp"

namespace berth::core::container::create_detail {

inline Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

inline bool is_null_or_missing(const boost::json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v == nullptr || v->is_null();
}

// String arrays from the body: null and missing are "unset", anything but strings is refused.
inline Result<std::optional<std::vector<std::string>>> strings(const boost::json::object& o,
                                                               std::string_view k) {
  const auto* v = o.if_contains(k);
  if (v == nullptr || v->is_null()) return std::optional<std::vector<std::string>>();
  if (v->is_string()) {
    // Docker accepts a bare string for Cmd/Entrypoint (strslice).
    return std::optional<std::vector<std::string>>(std::vector<std::string>{std::string(v->get_string())});
  }
  if (!v->is_array()) return invalid(std::string(k) + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return invalid(std::string(k) + " must be an array of strings");
    out.emplace_back(e.get_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

inline bool absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

inline std::string clean_path(const std::string& p) {
  std::string out = std::filesystem::path(p).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// create_mounts.cpp
Status check_tmpfs_options(const std::string& options, const std::string& where);
Result<MountPoint> parse_mount_object(const boost::json::object& m);

// create_host_config.cpp: HostConfig defaults as dockerd fills them, and its create-time checks.
void fill_host_defaults(boost::json::object& hc, const CreateDefaults& d);
Status check_resources(boost::json::object& hc, const CreateDefaults& d, std::vector<std::string>& warnings);
Status check_restart_policy(const boost::json::object& hc);
Status check_security_opts(const boost::json::object& hc);
Status check_host_values(const boost::json::object& hc, const CreateDefaults& d);
Status check_user(const boost::json::object& config);
Status check_capabilities(boost::json::object& hc);

}  // namespace berth::core::container::create_detail
