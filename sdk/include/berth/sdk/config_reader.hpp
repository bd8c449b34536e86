// A driver's section of daemon.json ("plugins": {"<driver-id>": {...}}), read the same way by every
// plugin: a JSON object (empty text and null are {}), every key known in advance (an unknown one
// is refused, naming it and listing the known ones), typed getters whose errors name the key
// ("mount_options[1]: must be a string"). All errors are kInvalidArgument. Part of
// berth::sdk_plugin (no root, no filesystem: a plugin's parse_config is unit-testable).
//
//   auto reader = sdk::ConfigReader::parse(text, {"cgroup-parent", "monitor-path"});
//   if (!reader) return std::move(reader).error();
//   BERTH_TRY_STATUS(reader->read("cgroup-parent", config.cgroup_parent));
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/result.hpp"

namespace berth::sdk {

class ConfigReader {
 public:
  // Fails on text that is not JSON, on a value that is not an object, and on any key not in
  // `known_keys` ("unknown key \"x\" (known keys: a, b)").
  static Result<ConfigReader> parse(std::string_view text,
                                    std::vector<std::string> known_keys);
  ConfigReader(ConfigReader&&) noexcept;
  ConfigReader& operator=(ConfigReader&&) noexcept;
  ~ConfigReader();

  // Whether the section sets `key` (to anything but null).
  [[nodiscard]] bool has(std::string_view key) const;

  // Each read leaves `out` as it is (the default) when the key is absent or null, and fails,
  // naming the key, when the value has another type.
  Status read(std::string_view key, std::string& out) const;
  Status read(std::string_view key, bool& out) const;
  Status read(std::string_view key, int64_t& out) const;
  // An array of strings; "<key>[<i>]: must be a string" names a bad element.
  Status read(std::string_view key, std::vector<std::string>& out) const;
  // A string that must be one of `choices` ("usage-source: \"x\" is not one of \"a\", \"b\"").
  Status read_choice(std::string_view key, std::initializer_list<std::string_view> choices,
                     std::string& out) const;

 private:
  struct Impl;
  explicit ConfigReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// kInvalidArgument with `message`: for a plugin's own checks after reading ("cgroup-parent: must
// not be empty"), so they read like the reader's.
Error config_error(std::string message);

}  // namespace berth::sdk
