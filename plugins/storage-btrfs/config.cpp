#include "config.hpp"

#include <string>

#include "berth/sdk/config_reader.hpp"

namespace berth::plugins::btrfs {

std::string_view usage_source_name(UsageSource source) {
  switch (source) {
    case UsageSource::kAuto: return "auto";
    case UsageSource::kQgroups: return "qgroups";
    case UsageSource::kMeasured: return "measured";
  }
  return "auto";
}

sdk::Result<Config> parse_config(std::string_view text) {
  auto reader = sdk::ConfigReader::parse(text, {"usage-source"});
  if (!reader) return std::move(reader).error();
  Config config;
  std::string source(usage_source_name(config.usage_source));
  BERTH_TRY_STATUS(reader->read_choice("usage-source", {"auto", "qgroups", "measured"}, source));
  for (auto s : {UsageSource::kAuto, UsageSource::kQgroups, UsageSource::kMeasured}) {
    if (usage_source_name(s) == source) config.usage_source = s;
  }
  return config;
}

}  // namespace berth::plugins::btrfs
