#include "berth/sdk/config_reader.hpp"

#include <algorithm>
#include <boost/json.hpp>

namespace berth::sdk {

namespace json = boost::json;

struct ConfigReader::Impl {
  json::object object;
};

Error config_error(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

Error wrong_type(std::string_view key, std::string_view what) {
  return config_error(std::string(key) + ": must be " + std::string(what));
}

}  // namespace

ConfigReader::ConfigReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConfigReader::ConfigReader(ConfigReader&&) noexcept = default;
ConfigReader& ConfigReader::operator=(ConfigReader&&) noexcept = default;
ConfigReader::~ConfigReader() = default;

Result<ConfigReader> ConfigReader::parse(std::string_view text,
                                         std::vector<std::string> known_keys) {
  auto impl = std::make_unique<Impl>();
  if (text.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    json::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) return config_error("config is not valid JSON: " + ec.message());
    if (!v.is_null()) {
      if (!v.is_object()) return config_error("config must be a JSON object");
      impl->object = std::move(v.get_object());
    }
  }
  std::vector<std::string> unknown;
  for (const auto& [key, value] : impl->object) {
    if (std::find(known_keys.begin(), known_keys.end(), std::string_view(key)) ==
        known_keys.end()) {
      unknown.push_back("\"" + std::string(key) + "\"");
    }
  }
  if (!unknown.empty()) {
    return config_error(std::string(unknown.size() == 1 ? "unknown key " : "unknown keys ") +
                        join(unknown) + " (known keys: " + join(known_keys) + ")");
  }
  return ConfigReader(std::move(impl));
}

bool ConfigReader::has(std::string_view key) const {
  const json::value* v = impl_->object.if_contains(key);
  return v != nullptr && !v->is_null();
}

Status ConfigReader::read(std::string_view key, std::string& out) const {
  if (!has(key)) return {};
  const json::value& v = impl_->object.at(key);
  if (!v.is_string()) return wrong_type(key, "a string");
  out = std::string(v.get_string());
  return {};
}

Status ConfigReader::read(std::string_view key, bool& out) const {
  if (!has(key)) return {};
  const json::value& v = impl_->object.at(key);
  if (!v.is_bool()) return wrong_type(key, "true or false");
  out = v.get_bool();
  return {};
}

Status ConfigReader::read(std::string_view key, int64_t& out) const {
  if (!has(key)) return {};
  const json::value& v = impl_->object.at(key);
  if (v.is_int64()) {
    out = v.get_int64();
  } else if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    out = static_cast<int64_t>(v.get_uint64());
  } else {
    return wrong_type(key, "a whole number");
  }
  return {};
}

Status ConfigReader::read(std::string_view key, std::vector<std::string>& out) const {
  if (!has(key)) return {};
  const json::value& v = impl_->object.at(key);
  if (!v.is_array()) return wrong_type(key, "an array of strings");
  std::vector<std::string> items;
  size_t i = 0;
  for (const auto& item : v.get_array()) {
    if (!item.is_string()) {
      return wrong_type(std::string(key) + "[" + std::to_string(i) + "]", "a string");
    }
    items.emplace_back(item.get_string());
    ++i;
  }
  out = std::move(items);
  return {};
}

Status ConfigReader::read_choice(std::string_view key,
                                 std::initializer_list<std::string_view> choices,
                                 std::string& out) const {
  std::string value = out;
  BERTH_TRY_STATUS(read(key, value));
  if (!has(key)) return {};
  std::string listed;
  for (auto c : choices) {
    if (c == value) {
      out = std::move(value);
      return {};
    }
    listed += (listed.empty() ? "\"" : ", \"") + std::string(c) + "\"";
  }
  return config_error(std::string(key) + ": \"" + value + "\" is not one of " + listed);
}

}  // namespace berth::sdk
