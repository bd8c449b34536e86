#include "config.hpp"

#include "berth/sdk/config_reader.hpp"

namespace berth::plugins::overlay {
namespace {

// Options the driver computes per snapshot: letting the config set them would point every
// snapshot at the same directories.
constexpr std::string_view kDriverOwned[] = {"lowerdir", "upperdir", "workdir", "datadir"};

}  // namespace

sdk::Result<Config> parse_config(std::string_view text) {
  auto reader = sdk::ConfigReader::parse(text, {"mount_options"});
  if (!reader) return std::move(reader).error();
  Config config;
  BERTH_TRY_STATUS(reader->read("mount_options", config.mount_options));
  for (size_t i = 0; i < config.mount_options.size(); ++i) {
    const std::string& opt = config.mount_options[i];
    const std::string where = "mount_options[" + std::to_string(i) + "]";
    if (opt.empty()) return sdk::config_error(where + ": must not be empty");
    if (opt.find(',') != std::string::npos) {
      return sdk::config_error(where + ": \"" + opt + "\" holds a comma; give one option per entry");
    }
    std::string_view name = std::string_view(opt).substr(0, opt.find('='));
    if (name.size() > 1 && name.back() == '+') name.remove_suffix(1);
    for (auto owned : kDriverOwned) {
      if (name == owned) {
        return sdk::config_error(where + ": \"" + std::string(name) + "\" is set by the driver");
      }
    }
  }
  return config;
}

}  // namespace berth::plugins::overlay
