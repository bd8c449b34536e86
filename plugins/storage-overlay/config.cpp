#include "config.hpp"

#include <boost/json.hpp>

namespace berth::plugins::overlay {
namespace {

namespace json = boost::json;

sdk::Error invalid(std::string message) {
  return sdk::make_error(sdk::ErrorCode::kInvalidArgument, std::move(message));
}

// Options the driver computes per snapshot: letting the config set them would point every
// snapshot at the same directories.
constexpr std::string_view kDriverOwned[] = {"lowerdir", "upperdir", "workdir", "datadir"};

}  // namespace

sdk::Result<Config> parse_config(std::string_view text) {
  Config config;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return config;
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return invalid("config is not valid JSON: " + ec.message());
  if (v.is_null()) return config;
  if (!v.is_object()) return invalid("config must be a JSON object");
  for (const auto& [key, value] : v.get_object()) {
    if (key == "mount_options") {
      if (!value.is_array()) return invalid("mount_options: must be an array of strings");
      size_t i = 0;
      for (const auto& item : value.get_array()) {
        const std::string where = "mount_options[" + std::to_string(i++) + "]";
        if (!item.is_string()) return invalid(where + ": must be a string");
        std::string opt(item.get_string());
        if (opt.empty()) return invalid(where + ": must not be empty");
        if (opt.find(',') != std::string::npos) {
          return invalid(where + ": \"" + opt + "\" holds a comma; give one option per entry");
        }
        std::string_view name = std::string_view(opt).substr(0, opt.find('='));
        if (name.size() > 1 && name.back() == '+') name.remove_suffix(1);
        for (auto owned : kDriverOwned) {
          if (name == owned) {
            return invalid(where + ": \"" + std::string(name) + "\" is set by the driver");
          }
        }
        config.mount_options.push_back(std::move(opt));
      }
    } else {
      return invalid("unknown key \"" + std::string(key) + "\" (known keys: mount_options)");
    }
  }
  return config;
}

}  // namespace berth::plugins::overlay
