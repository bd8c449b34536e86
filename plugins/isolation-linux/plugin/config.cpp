#include "plugin/config.hpp"

#include <boost/json.hpp>

namespace berth::plugins::isolation {

sdk::Result<Config> parse_config(std::string_view text) {
  auto invalid = [](std::string message) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "isolation.linux config: " + message);
  };
  Config config;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return config;
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return invalid("not valid JSON: " + ec.message());
  if (v.is_null()) return config;
  if (!v.is_object()) return invalid("must be a JSON object");
  std::string unknown;
  for (const auto& [key, value] : v.get_object()) {
    std::string* target = nullptr;
    if (key == "cgroup-parent") target = &config.cgroup_parent;
    if (key == "monitor-path") target = &config.monitor_path;
    if (key == "init-path") target = &config.init_path;
    if (key == "cgroup-v2-root") target = &config.cgroup_v2_root;
    if (target == nullptr) {
      unknown += unknown.empty() ? "" : ", ";
      unknown += "\"" + std::string(key) + "\"";
      continue;
    }
    if (!value.is_string()) return invalid(std::string(key) + ": must be a string");
    *target = std::string(value.get_string());
  }
  if (!unknown.empty()) {
    return invalid("unknown key(s) " + unknown +
                   " (known keys: cgroup-parent, monitor-path, init-path, cgroup-v2-root)");
  }
  while (!config.cgroup_parent.empty() && config.cgroup_parent.front() == '/') {
    config.cgroup_parent.erase(0, 1);
  }
  while (!config.cgroup_parent.empty() && config.cgroup_parent.back() == '/') {
    config.cgroup_parent.pop_back();
  }
  if (config.cgroup_parent.empty()) return invalid("cgroup-parent: must not be empty");
  if (config.cgroup_parent.find("..") != std::string::npos) {
    return invalid("cgroup-parent: must not contain \"..\"");
  }
  return config;
}

}  // namespace berth::plugins::isolation
