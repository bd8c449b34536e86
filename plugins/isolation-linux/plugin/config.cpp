#include "plugin/config.hpp"

#include <utility>

#include "berth/sdk/config_reader.hpp"

namespace berth::plugins::isolation {

sdk::Result<Config> parse_config(std::string_view text) {
  auto invalid = [](std::string message) {
    return sdk::config_error("isolation.linux config: " + std::move(message));
  };
  auto reader = sdk::ConfigReader::parse(
      text, {"cgroup-parent", "monitor-path", "init-path", "cgroup-v2-root", "cgroup-layout"});
  if (!reader) return invalid(std::move(reader).error().message);
  Config config;
  for (auto [key, target] : {std::pair{"cgroup-parent", &config.cgroup_parent},
                             std::pair{"monitor-path", &config.monitor_path},
                             std::pair{"init-path", &config.init_path},
                             std::pair{"cgroup-v2-root", &config.cgroup_v2_root},
                             std::pair{"cgroup-layout", &config.cgroup_layout}}) {
    if (auto s = reader->read(key, *target); !s) return invalid(std::move(s).error().message);
  }
  while (!config.cgroup_parent.empty() && config.cgroup_parent.front() == '/') {
    config.cgroup_parent.erase(0, 1);
  }
  while (!config.cgroup_parent.empty() && config.cgroup_parent.back() == '/') {
    config.cgroup_parent.pop_back();
  }
  if (config.cgroup_layout != "auto" && config.cgroup_layout != "root" &&
      config.cgroup_layout != "delegated") {
    return invalid("cgroup-layout: \"" + config.cgroup_layout +
                   "\" is not one of auto, root, delegated");
  }
  if (config.cgroup_parent.empty()) return invalid("cgroup-parent: must not be empty");
  if (config.cgroup_parent.find("..") != std::string::npos) {
    return invalid("cgroup-parent: must not contain \"..\"");
  }
  return config;
}

}  // namespace berth::plugins::isolation
