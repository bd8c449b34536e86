#include "config.hpp"

#include <boost/json.hpp>
#include <string>

namespace berth::plugins::btrfs {
namespace {

namespace json = boost::json;

sdk::Error invalid(std::string message) {
  return sdk::make_error(sdk::ErrorCode::kInvalidArgument, std::move(message));
}

constexpr std::string_view kKnownKeys = "usage-source";

}  // namespace

std::string_view usage_source_name(UsageSource source) {
  switch (source) {
    case UsageSource::kAuto: return "auto";
    case UsageSource::kQgroups: return "qgroups";
    case UsageSource::kMeasured: return "measured";
  }
  return "auto";
}

sdk::Result<Config> parse_config(std::string_view text) {
  Config config;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return config;
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return invalid("config is not valid JSON: " + ec.message());
  if (v.is_null()) return config;
  if (!v.is_object()) return invalid("config must be a JSON object");
  std::string unknown;
  for (const auto& [key, value] : v.get_object()) {
    if (key == "usage-source") {
      if (!value.is_string()) {
        return invalid("usage-source: must be a string (\"auto\", \"qgroups\" or \"measured\")");
      }
      const std::string s(value.get_string());
      if (s == "auto") {
        config.usage_source = UsageSource::kAuto;
      } else if (s == "qgroups") {
        config.usage_source = UsageSource::kQgroups;
      } else if (s == "measured") {
        config.usage_source = UsageSource::kMeasured;
      } else {
        return invalid("usage-source: \"" + s +
                       "\" is not one of \"auto\", \"qgroups\", \"measured\"");
      }
    } else {
      unknown += (unknown.empty() ? "" : ", ") + ("\"" + std::string(key) + "\"");
    }
  }
  if (!unknown.empty()) {
    return invalid("unknown key" + std::string(unknown.find(',') == std::string::npos ? "" : "s") +
                   " " + unknown + " (known keys: " + std::string(kKnownKeys) + ")");
  }
  return config;
}

}  // namespace berth::plugins::btrfs
