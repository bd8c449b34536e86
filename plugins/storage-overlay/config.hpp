// The driver's section of daemon.json ("plugins": {"storage.overlay": {...}}):
//
//   {"mount_options": ["metacopy=on", "redirect_dir=on"]}
//
// mount_options are appended to every overlay mount the driver returns (after the driver's own
// "index=off"; an option the user sets for the same key wins). Unknown keys and wrong types are
// errors naming the key, like the rest of daemon.json.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/result.hpp"

namespace berth::plugins::overlay {

struct Config {
  std::vector<std::string> mount_options;
};

// Empty text is the empty object. Errors are kInvalidArgument: "mount_options[1]: must be a
// string".
sdk::Result<Config> parse_config(std::string_view json);

}  // namespace berth::plugins::overlay
