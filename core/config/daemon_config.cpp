#include "core/config/daemon_config.hpp"

#include <boost/json.hpp>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <set>

#include "core/common/fs.hpp"

namespace json = boost::json;

namespace berth::core::config {
namespace {

Error bad(std::string_view source, std::string message) {
  std::string where = source.empty() ? "configuration" : std::string(source);
  return make_error(ErrorCode::kInvalidArgument, where + ": " + message);
}

Result<std::string> as_string(const json::value& v, std::string_view key, std::string_view src) {
  if (!v.is_string()) return bad(src, "\"" + std::string(key) + "\" must be a string");
  return std::string(v.get_string());
}

Result<bool> as_bool(const json::value& v, std::string_view key, std::string_view src) {
  if (!v.is_bool()) return bad(src, "\"" + std::string(key) + "\" must be true or false");
  return v.get_bool();
}

Result<std::vector<std::string>> as_strings(const json::value& v, std::string_view key,
                                            std::string_view src) {
  if (!v.is_array()) return bad(src, "\"" + std::string(key) + "\" must be an array of strings");
  std::vector<std::string> out;
  for (const auto& item : v.get_array()) {
    if (!item.is_string()) {
      return bad(src, "\"" + std::string(key) + "\" must be an array of strings");
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

Status parse_log_opts(const json::value& v, LogOpts& out, std::string_view src) {
  if (!v.is_object()) return bad(src, "\"log-opts\" must be an object of strings");
  std::map<std::string, std::string> options;
  for (const auto& [k, val] : v.get_object()) {
    if (!val.is_string()) return bad(src, "\"log-opts\": \"" + std::string(k) + "\" must be a string");
    options[std::string(k)] = std::string(val.get_string());
  }
  auto parsed = parse_log_options(options, out);
  if (!parsed) return bad(src, "\"log-opts\": " + parsed.error().message);
  out = *parsed;
  return {};
}

// A whole number of at least `min` (timeouts, counts), named in the error.
Result<int> as_count(const json::value& v, std::string_view key, int min, int max,
                     std::string_view src) {
  std::string what = "\"" + std::string(key) + "\" must be a whole number from " +
                     std::to_string(min) + " to " + std::to_string(max);
  if (!v.is_int64() && !v.is_uint64()) return bad(src, what);
  auto n = v.is_int64() ? v.get_int64() : static_cast<int64_t>(std::min<uint64_t>(v.get_uint64(), INT64_MAX));
  if (n < min || n > max) return bad(src, what + ", got " + std::to_string(n));
  return static_cast<int>(n);
}

// The integer keys: daemon.json and command line share the table.
int* count_field(DaemonConfig& c, std::string_view key) {
  if (key == "api-header-timeout") return &c.api_limits.header_timeout_s;
  if (key == "api-idle-timeout") return &c.api_limits.idle_timeout_s;
  if (key == "api-body-timeout") return &c.api_limits.body_timeout_s;
  if (key == "api-max-connections") return &c.api_limits.max_connections;
  if (key == "max-expansion-ratio") return &c.archive_limits.max_expansion_ratio;
  if (key == "max-concurrent-downloads") return &c.registry.max_concurrent_downloads;
  if (key == "max-concurrent-uploads") return &c.registry.max_concurrent_uploads;
  return nullptr;
}

std::pair<int, int> count_range(std::string_view key) {
  if (key == "api-max-connections") return {1, 1000000};
  if (key == "max-expansion-ratio") return {1, 1000000};
  if (key == "max-concurrent-downloads" || key == "max-concurrent-uploads") return {1, 64};
  return {1, 86400};  // timeouts, in seconds
}

Status set_max_layer_size(DaemonConfig& c, std::string_view text, std::string_view src) {
  auto size = parse_byte_size(text);
  if (!size || *size < (1 << 20)) {
    return bad(src, "\"max-layer-size\" must be a size of at least 1m (\"64g\", \"500m\"), got \"" +
                        std::string(text) + "\"");
  }
  c.archive_limits.max_layer_size = *size;
  return {};
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view part = value.substr(start, comma - start);
    if (!part.empty()) out.emplace_back(part);
    start = comma + 1;
  }
  return out;
}

bool is_list_key(std::string_view key) {
  return key == "hosts" || key == "plugin-dirs" || key == "required-plugins" ||
         key == "disabled-plugins" || key == "dns" || key == "insecure-registries" ||
         key == "registry-mirrors";
}

std::vector<std::string>& list_field(DaemonConfig& c, std::string_view key) {
  if (key == "hosts") return c.hosts;
  if (key == "plugin-dirs") return c.plugin_dirs;
  if (key == "required-plugins") return c.required_plugins;
  if (key == "dns") return c.dns;
  if (key == "insecure-registries") return c.registry.insecure_registries;
  if (key == "registry-mirrors") return c.registry.mirrors;
  return c.disabled_plugins;
}

}  // namespace

Result<LogOpts> parse_log_options(const std::map<std::string, std::string>& options,
                                  const LogOpts& base) {
  LogOpts out = base;
  for (const auto& [k, s] : options) {
    if (k == "max-size") {
      auto size = parse_byte_size(s);
      if (!size || *size <= 0) {
        return make_error(ErrorCode::kInvalidArgument,
                          "invalid max-size \"" + s + "\": a size such as 10m, 512k or 1g");
      }
      out.max_size = *size;
    } else if (k == "max-file") {
      int n = 0;
      bool digits = !s.empty() && s.size() < 7;
      for (char c : s) digits = digits && c >= '0' && c <= '9';
      if (digits) n = std::stoi(s);
      if (!digits || n < 1) {
        return make_error(ErrorCode::kInvalidArgument,
                          "invalid max-file \"" + s + "\": a whole number of at least 1");
      }
      out.max_file = n;
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "unknown log opt '" + k + "' for json-file log driver (supported: max-size, max-file)");
    }
  }
  return out;
}

Result<int64_t> parse_byte_size(std::string_view text) {
  if (text.empty()) return make_error(ErrorCode::kInvalidArgument, "empty size");
  int64_t value = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (value > (int64_t{1} << 50)) return make_error(ErrorCode::kInvalidArgument, "size too large");
    value = value * 10 + (text[i] - '0');
  }
  if (i == 0) return make_error(ErrorCode::kInvalidArgument, "invalid size \"" + std::string(text) + "\"");
  std::string unit(text.substr(i));
  for (auto& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (unit.size() == 2 && unit[1] == 'b') unit.pop_back();
  int64_t mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k") mult = 1024;
  else if (unit == "m") mult = 1024 * 1024;
  else if (unit == "g") mult = int64_t{1024} * 1024 * 1024;
  else return make_error(ErrorCode::kInvalidArgument, "invalid size unit in \"" + std::string(text) + "\"");
  // The digit loop caps the number near 2^53; a unit can still push it past int64, so check the product.
  if (value > INT64_MAX / mult) {
    return make_error(ErrorCode::kInvalidArgument, "size \"" + std::string(text) + "\" is too large");
  }
  return value * mult;
}

Result<DaemonConfig> parse_config(std::string_view json_text, std::string_view source) {
  json::error_code ec;
  json::value root = json::parse(json_text, ec);
  if (ec) return bad(source, "not valid JSON: " + ec.message());
  if (!root.is_object()) return bad(source, "must be a JSON object");

  DaemonConfig c;
  c.source = std::string(source);
  for (const auto& [key_sv, v] : root.get_object()) {
    std::string key(key_sv);
    if (key == "data-root" || key == "exec-root" || key == "storage-driver" ||
        key == "isolation-backend" || key == "log-level" || key == "tlscacert" ||
        key == "tlscert" || key == "tlskey" || key == "userns-remap" || key == "bridge") {
      auto s = as_string(v, key, source);
      if (!s) return s.error();
      if (key == "data-root") c.data_root = *s;
      else if (key == "exec-root") c.exec_root = *s;
      else if (key == "storage-driver") c.storage_driver = *s;
      else if (key == "isolation-backend") c.isolation_backend = *s;
      else if (key == "log-level") c.log_level = *s;
      else if (key == "tlscacert") c.tlscacert = *s;
      else if (key == "tlscert") c.tlscert = *s;
      else if (key == "userns-remap") c.userns_remap = *s;
      else if (key == "bridge") c.bridge = *s;
      else c.tlskey = *s;
    } else if (is_list_key(key)) {
      auto list = as_strings(v, key, source);
      if (!list) return list.error();
      list_field(c, key) = std::move(*list);
    } else if (key == "icc") {
      auto b = as_bool(v, key, source);
      if (!b) return b.error();
      c.icc = *b;
    } else if (key == "tls" || key == "tlsverify") {
      auto b = as_bool(v, key, source);
      if (!b) return b.error();
      (key == "tls" ? c.tls : c.tlsverify) = *b;
      if (!*b) c.unauthenticated_tcp_opt_in = true;
    } else if (int* field = count_field(c, key)) {
      auto [min, max] = count_range(key);
      auto n = as_count(v, key, min, max, source);
      if (!n) return n.error();
      *field = *n;
    } else if (key == "max-layer-size") {
      auto s = as_string(v, key, source);
      if (!s) return s.error();
      BERTH_TRY_STATUS(set_max_layer_size(c, *s, source));
    } else if (key == "build-max-context-size") {
      auto s = as_string(v, key, source);
      if (!s) return s.error();
      auto size = parse_byte_size(*s);
      if (!size || *size <= 0) return bad(source, "\"build-max-context-size\" must be a size such as \"8g\" or \"500m\"");
      c.build_max_context_size = *size;
    } else if (key == "log-opts") {
      BERTH_TRY_STATUS(parse_log_opts(v, c.log_opts, source));
    } else if (key == "plugins") {
      if (!v.is_object()) return bad(source, "\"plugins\" must be an object keyed by driver id");
      for (const auto& [id, section] : v.get_object()) {
        if (!section.is_object()) {
          return bad(source, "\"plugins\": the section of \"" + std::string(id) +
                                 "\" must be an object");
        }
        c.plugins[std::string(id)] = json::serialize(section);
      }
    } else if (key == "bip") {
      auto s = as_string(v, key, source);
      if (!s) return s.error();
      c.bip = *s;
    } else if (key == "mtu") {
      auto n = as_count(v, key, 68, 65535, source);
      if (!n) return n.error();
      c.mtu = *n;
    } else if (key == "default-address-pools") {
      if (!v.is_array()) return bad(source, "\"default-address-pools\" must be a list of {\"base\", \"size\"}");
      for (const auto& p : v.get_array()) {
        const auto* base = p.is_object() ? p.get_object().if_contains("base") : nullptr;
        const auto* size = p.is_object() ? p.get_object().if_contains("size") : nullptr;
        if (base == nullptr || !base->is_string() || size == nullptr || !size->is_int64() ||
            size->get_int64() < 1 || size->get_int64() > 30) {
          return bad(source, "\"default-address-pools\": each entry needs \"base\" (CIDR) and \"size\" (1-30)");
        }
        c.default_address_pools.push_back({std::string(base->get_string()), static_cast<int>(size->get_int64())});
      }
    } else {
      return bad(source, "unknown key \"" + key + "\"");
    }
  }
  BERTH_TRY_STATUS(validate(c));
  return c;
}

Result<DaemonConfig> load_config(const std::string& path, bool must_exist) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (must_exist) {
      return make_error(ErrorCode::kNotFound, "configuration file " + path + " does not exist");
    }
    return DaemonConfig{};
  }
  auto text = fs::read_file(path);
  if (!text) return text.error().wrap("read configuration");
  return parse_config(*text, path);
}

Status apply_override(DaemonConfig& c, std::string_view key, std::string_view value,
                      std::vector<std::string>& seen) {
  std::string k(key);
  if (is_list_key(k)) {
    auto& field = list_field(c, k);
    if (std::find(seen.begin(), seen.end(), k) == seen.end()) {
      field.clear();
      seen.push_back(k);
    }
    for (auto& item : split_list(value)) field.push_back(std::move(item));
    return {};
  }
  if (k == "data-root") c.data_root = value;
  else if (k == "exec-root") c.exec_root = value;
  else if (k == "storage-driver") c.storage_driver = value;
  else if (k == "isolation-backend") c.isolation_backend = value;
  else if (k == "log-level") c.log_level = value;
  else if (k == "userns-remap") c.userns_remap = value;
  else if (k == "bridge") c.bridge = value;
  else if (k == "tlscacert") c.tlscacert = value;
  else if (k == "tlscert") c.tlscert = value;
  else if (k == "tlskey") c.tlskey = value;
  else if (k == "max-layer-size") return set_max_layer_size(c, value, "command line");
  else if (k == "tls" || k == "tlsverify") {
    bool on = value.empty() || value == "true" || value == "1";
    if (!on && value != "false" && value != "0") {
      return bad("command line", "--" + k + " takes true or false, got \"" + std::string(value) + "\"");
    }
    (k == "tls" ? c.tls : c.tlsverify) = on;
    if (!on) c.unauthenticated_tcp_opt_in = true;
  } else if (int* field = count_field(c, k)) {
    auto [min, max] = count_range(k);
    int64_t n = 0;
    bool ok = !value.empty() && value.size() < 10;
    for (char ch : value) ok = ok && ch >= '0' && ch <= '9';
    if (ok) n = std::stoll(std::string(value));
    if (!ok || n < min || n > max) {
      return bad("command line", "--" + k + " must be a whole number from " + std::to_string(min) +
                                     " to " + std::to_string(max) + ", got \"" + std::string(value) + "\"");
    }
    *field = static_cast<int>(n);
  } else {
    return bad("command line", "unknown option --" + k);
  }
  return {};
}

Status validate(const DaemonConfig& c) {
  std::string_view src = c.source.empty() ? "configuration" : std::string_view(c.source);
  auto absolute = [&](const std::string& path, const char* key) -> Status {
    if (path.empty() || path[0] != '/') {
      return bad(src, "\"" + std::string(key) + "\" must be an absolute path, got \"" + path + "\"");
    }
    return {};
  };
  BERTH_TRY_STATUS(absolute(c.data_root, "data-root"));
  BERTH_TRY_STATUS(absolute(c.exec_root, "exec-root"));
  for (const auto& dir : c.plugin_dirs) BERTH_TRY_STATUS(absolute(dir, "plugin-dirs"));
  if (c.hosts.empty()) return bad(src, "\"hosts\" must list at least one address");
  for (const auto& h : c.hosts) {
    if (h.rfind("unix://", 0) == 0) {
      if (h.size() <= 7 || h[7] != '/') {
        return bad(src, "host \"" + h + "\": a unix socket needs an absolute path (unix:///run/berth.sock)");
      }
    } else if (h.rfind("tcp://", 0) == 0) {
      if (h.find(':', 6) == std::string::npos) {
        return bad(src, "host \"" + h + "\": a tcp address needs a port (tcp://127.0.0.1:2376)");
      }
    } else if (h != "fd://") {  // fd://: sockets from systemd socket activation
      return bad(src, "host \"" + h + "\": use unix:///path, tcp://address:port or fd://");
    }
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (!kLevels.contains(c.log_level)) {
    return bad(src, "\"log-level\" must be one of trace, debug, info, warn, error, got \"" +
                        c.log_level + "\"");
  }
  if (c.storage_driver.empty()) return bad(src, "\"storage-driver\" must not be empty");
  if (c.tlsverify && (c.tlscacert.empty() || c.tlscert.empty() || c.tlskey.empty())) {
    return bad(src, "\"tlsverify\" needs \"tlscacert\", \"tlscert\" and \"tlskey\"");
  }
  if (c.tls && (c.tlscert.empty() || c.tlskey.empty())) {
    return bad(src, "\"tls\" needs \"tlscert\" and \"tlskey\"");
  }
  for (const auto& h : c.hosts) {
    if (h.rfind("tcp://", 0) == 0 && !c.tlsverify && !c.unauthenticated_tcp_opt_in) {
      return bad(src, "refusing to serve " + h + " without client certificates: anyone who can "
                      "connect to it, on loopback every local user and every --network host "
                      "container, is root on this host. Set \"tlsverify\": true with "
                      "\"tlscacert\", \"tlscert\" and \"tlskey\" (mutual TLS), or opt in to an "
                      "unauthenticated API explicitly with \"tlsverify\": false (--tlsverify=false)");
    }
  }
  return {};
}

}  // namespace berth::core::config
