#include "registry/config.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>

#include "core/common/fs.hpp"
#include "core/common/logging.hpp"
#include "registry/config_yaml.hpp"
#include "registry/http_server.hpp"

namespace berth::registry {
namespace json = boost::json;

namespace {

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  Error bad(std::string_view key, std::string_view message) const {
    return make_error(ErrorCode::kInvalidArgument,
                      "config " + path_ + ": " + std::string(key) + ": " + std::string(message));
  }

  Status string(const json::value& v, std::string_view key, std::string& out) const {
    if (!v.is_string()) return bad(key, "must be a string");
    out = std::string(v.get_string());
    return {};
  }
  Status boolean(const json::value& v, std::string_view key, bool& out) const {
    if (!v.is_bool()) return bad(key, "must be true or false");
    out = v.get_bool();
    return {};
  }
  Status bytes(const json::value& v, std::string_view key, uint64_t& out) const {
    if (v.is_uint64()) {
      out = v.get_uint64();
    } else if (v.is_int64() && v.get_int64() >= 0) {
      out = static_cast<uint64_t>(v.get_int64());
    } else {
      return bad(key, "must be a whole number of bytes, 0 or more");
    }
    return {};
  }
  Status duration(const json::value& v, std::string_view key, std::chrono::seconds& out) const {
    std::optional<std::chrono::seconds> parsed;
    if (v.is_string()) parsed = parse_duration(v.get_string());
    if (v.is_int64() && v.get_int64() >= 0) parsed = std::chrono::seconds(v.get_int64());
    if (!parsed) return bad(key, "must be a duration such as \"90s\", \"15m\", \"24h\" or seconds");
    out = *parsed;
    return {};
  }
  // Unknown keys are errors: a typo must not silently keep a default.
  Status known_keys(const json::object& object, std::string_view prefix,
                    std::initializer_list<std::string_view> keys) const {
    for (const auto& [key, value] : object) {
      (void)value;
      if (std::find(keys.begin(), keys.end(), std::string_view(key)) == keys.end()) {
        std::string list;
        for (auto k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
        return bad(std::string(prefix) + std::string(key), "unknown key (known here: " + list + ")");
      }
    }
    return {};
  }

 private:
  std::string path_;
};

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t unit = 1;
  switch (text.back()) {
    case 's': unit = 1; text.remove_suffix(1); break;
    case 'm': unit = 60; text.remove_suffix(1); break;
    case 'h': unit = 3600; text.remove_suffix(1); break;
    case 'd': unit = 86400; text.remove_suffix(1); break;
    default: break;
  }
  if (text.empty() || text.size() > 12 ||
      text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::chrono::seconds(std::stoll(std::string(text)) * unit);
}

Status load_config_file(const std::string& path, RegistryConfig& config) {
  Reader r(path);
  auto text = fs::read_file(path);
  if (!text) {
    return make_error(ErrorCode::kInvalidArgument,
                      "config " + path + ": cannot read it (" + text.error().message + ")");
  }
  json::value root;
  if (looks_like_yaml(path, *text)) {
    auto parsed = yaml_to_json(*text, path);
    if (!parsed) return std::move(parsed).error();
    if (!parsed->is_object()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "config " + path + ": not a YAML mapping (want lines of \"key: value\")");
    }
    root = std::move(*parsed);
  } else {
    boost::system::error_code ec;
    root = json::parse(*text, ec);
    if (ec || !root.is_object()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "config " + path + ": not a JSON object" +
                            (ec ? " (" + ec.message() + ")" : std::string()));
    }
  }
  const auto& top = root.get_object();
  BERTH_TRY_STATUS(r.known_keys(top, "", {"listen", "root", "threads", "log_level", "read_only",
                                          "limits", "gc", "auth", "tls"}));
  if (auto* v = top.if_contains("listen")) BERTH_TRY_STATUS(r.string(*v, "listen", config.listen));
  if (auto* v = top.if_contains("root")) BERTH_TRY_STATUS(r.string(*v, "root", config.root));
  if (auto* v = top.if_contains("log_level")) {
    BERTH_TRY_STATUS(r.string(*v, "log_level", config.log_level));
  }
  if (auto* v = top.if_contains("read_only")) {
    BERTH_TRY_STATUS(r.boolean(*v, "read_only", config.read_only));
  }
  if (auto* v = top.if_contains("threads")) {
    if (!v->is_int64() || v->get_int64() < 1 || v->get_int64() > 256) {
      return r.bad("threads", "must be a whole number from 1 to 256");
    }
    config.threads = static_cast<unsigned>(v->get_int64());
  }
  if (auto* v = top.if_contains("limits")) {
    if (!v->is_object()) return r.bad("limits", "must be an object");
    const auto& limits = v->get_object();
    BERTH_TRY_STATUS(r.known_keys(limits, "limits.",
                                  {"max_manifest_bytes", "max_upload_bytes", "upload_lifetime",
                                   "max_requests_in_flight"}));
    if (auto* x = limits.if_contains("max_manifest_bytes")) {
      BERTH_TRY_STATUS(r.bytes(*x, "limits.max_manifest_bytes", config.max_manifest_bytes));
    }
    if (auto* x = limits.if_contains("max_upload_bytes")) {
      BERTH_TRY_STATUS(r.bytes(*x, "limits.max_upload_bytes", config.max_upload_bytes));
    }
    if (auto* x = limits.if_contains("max_requests_in_flight")) {
      BERTH_TRY_STATUS(r.bytes(*x, "limits.max_requests_in_flight", config.max_requests_in_flight));
    }
    if (auto* x = limits.if_contains("upload_lifetime")) {
      BERTH_TRY_STATUS(r.duration(*x, "limits.upload_lifetime", config.upload_lifetime));
    }
  }
  if (auto* v = top.if_contains("gc")) {
    if (!v->is_object()) return r.bad("gc", "must be an object");
    const auto& gc = v->get_object();
    BERTH_TRY_STATUS(r.known_keys(gc, "gc.", {"interval", "grace_period", "delete_untagged"}));
    if (auto* x = gc.if_contains("interval")) {
      BERTH_TRY_STATUS(r.duration(*x, "gc.interval", config.gc_interval));
    }
    if (auto* x = gc.if_contains("grace_period")) {
      BERTH_TRY_STATUS(r.duration(*x, "gc.grace_period", config.gc_grace_period));
    }
    if (auto* x = gc.if_contains("delete_untagged")) {
      BERTH_TRY_STATUS(r.boolean(*x, "gc.delete_untagged", config.gc_delete_untagged));
    }
  }
  if (auto* v = top.if_contains("tls")) {
    if (!v->is_object()) return r.bad("tls", "must be an object {cert, key, client_ca}");
    const auto& t = v->get_object();
    BERTH_TRY_STATUS(r.known_keys(t, "tls.", {"cert", "key", "client_ca"}));
    if (auto* x = t.if_contains("cert")) BERTH_TRY_STATUS(r.string(*x, "tls.cert", config.tls.cert));
    if (auto* x = t.if_contains("key")) BERTH_TRY_STATUS(r.string(*x, "tls.key", config.tls.key));
    if (auto* x = t.if_contains("client_ca")) {
      BERTH_TRY_STATUS(r.string(*x, "tls.client_ca", config.tls.client_ca));
    }
  }
  if (auto* v = top.if_contains("auth")) {
    if (!v->is_object()) return r.bad("auth", "must be an object");
    const auto& a = v->get_object();
    BERTH_TRY_STATUS(r.known_keys(a, "auth.", {"mode", "htpasswd", "realm", "service",
                                               "secret_file", "token_ttl", "access"}));
    auto& settings = config.auth;
    if (auto* x = a.if_contains("mode")) {
      std::string mode;
      BERTH_TRY_STATUS(r.string(*x, "auth.mode", mode));
      if (mode == "none") {
        settings.mode = auth::AuthMode::kNone;
      } else if (mode == "basic") {
        settings.mode = auth::AuthMode::kBasic;
      } else if (mode == "token") {
        settings.mode = auth::AuthMode::kToken;
      } else {
        return r.bad("auth.mode", "must be \"none\", \"basic\" or \"token\"");
      }
    }
    if (auto* x = a.if_contains("htpasswd")) {
      BERTH_TRY_STATUS(r.string(*x, "auth.htpasswd", settings.htpasswd_path));
    }
    if (auto* x = a.if_contains("realm")) BERTH_TRY_STATUS(r.string(*x, "auth.realm", settings.realm));
    if (auto* x = a.if_contains("service")) {
      BERTH_TRY_STATUS(r.string(*x, "auth.service", settings.service));
    }
    if (auto* x = a.if_contains("token_ttl")) {
      BERTH_TRY_STATUS(r.duration(*x, "auth.token_ttl", settings.token_ttl));
    }
    if (auto* x = a.if_contains("secret_file")) {
      std::string secret_file;
      BERTH_TRY_STATUS(r.string(*x, "auth.secret_file", secret_file));
      auto secret = fs::read_file(secret_file);
      if (!secret || secret->size() < 32) {
        return r.bad("auth.secret_file", "must name a readable file of at least 32 random bytes "
                                         "(head -c 32 /dev/urandom > FILE)");
      }
      settings.secret = std::move(*secret);
    }
    if (auto* x = a.if_contains("access")) {
      auto rules = auth::AccessRules::from_json(*x, "auth.access");
      if (!rules) return r.bad("auth.access", rules.error().message);
      settings.rules = std::move(*rules);
    }
  }
  return {};
}

Status validate_config(const RegistryConfig& config) {
  auto bad = [](std::string key, std::string message) {
    return make_error(ErrorCode::kInvalidArgument, key + ": " + message);
  };
  if (config.root.empty()) {
    return bad("root", "required: the directory for blobs and manifests (--root DIR or \"root\")");
  }
  if (auto split = split_listen_address(config.listen); !split) {
    return bad("listen", split.error().message);
  }
  if (auto st = logging::set_level(config.log_level); !st) return bad("log_level", st.error().message);
  if (config.max_manifest_bytes < 1024) {
    return bad("limits.max_manifest_bytes", "must be at least 1024 (manifests are a few KB)");
  }
  if (config.upload_lifetime < std::chrono::seconds(1)) {
    return bad("limits.upload_lifetime", "must be at least 1s (hours in production: a slow "
                                         "push must not lose its upload)");
  }
  if (config.auth.mode != auth::AuthMode::kNone && config.auth.htpasswd_path.empty()) {
    return bad("auth.htpasswd", "required with basic or token auth: a file made with "
                                "`htpasswd -B -c FILE USER` (apache2-utils)");
  }
  if (config.tls.cert.empty() != config.tls.key.empty()) {
    return bad(config.tls.cert.empty() ? "tls.cert" : "tls.key",
               "TLS needs both a certificate and its key (--tls-cert and --tls-key)");
  }
  if (!config.tls.client_ca.empty() && config.tls.cert.empty()) {
    return bad("tls.client_ca", "client certificates need TLS: set tls.cert and tls.key too");
  }
  if (config.auth.token_ttl < std::chrono::seconds(1)) return bad("auth.token_ttl", "must be at least 1s");
  return {};
}

}  // namespace berth::registry
