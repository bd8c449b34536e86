// berth-registry's settings: defaults, then a YAML or JSON config file (--config), then
// command-line flags. Every bad value stops startup with a message naming the key and the fix.
// The same keys in either format (YAML: "limits:" then indented "max_upload_bytes: 0", ...):
//
//   {
//     "listen": "127.0.0.1:5000",
//     "root": "/var/lib/berth-registry",
//     "threads": 4,
//     "log_level": "info",
//     "read_only": false,
//     "limits": {"max_manifest_bytes": 4194304, "max_upload_bytes": 0,
//                "upload_lifetime": "24h", "max_requests_in_flight": 0},
//     "gc": {"interval": "0s", "grace_period": "1h", "delete_untagged": false},
//     "tls": {"cert": "server.pem", "key": "server.key", "client_ca": ""},
//     "auth": {"mode": "token", "htpasswd": "/etc/berth-registry/htpasswd",
//              "realm": "", "service": "berth-registry", "secret_file": "", "token_ttl": "5m",
//              "access": [{"repository": "team/*", "users": ["alice"],
//                          "actions": ["pull", "push", "delete"]},
//                         {"repository": "*", "users": ["anonymous"], "actions": ["pull"]}]}
//   }
// Durations are "90s", "15m", "24h" or a number of seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.hpp"
#include "registry/auth/authenticator.hpp"
#include "registry/http_server.hpp"

namespace berth::registry {

struct RegistryConfig {
  std::string listen = "127.0.0.1:5000";
  std::string root;
  unsigned threads = 4;
  std::string log_level = "info";
  bool read_only = false;
  uint64_t max_manifest_bytes = 4 * 1024 * 1024;
  uint64_t max_upload_bytes = 0;  // 0: no limit
  std::chrono::seconds upload_lifetime{24 * 3600};
  // Past this many requests being served at once, new ones get 429 TOOMANYREQUESTS (0: no limit).
  uint64_t max_requests_in_flight = 0;
  // Garbage collection while serving: every `gc_interval` (0: only on demand); blobs and
  // manifests younger than `gc_grace_period` are never collected (pushes in flight).
  std::chrono::seconds gc_interval{0};
  std::chrono::seconds gc_grace_period{3600};
  bool gc_delete_untagged = false;
  auth::AuthSettings auth;
  TlsFiles tls;  // cert and key set: serve HTTPS
};

// Reads `path` over `config`. Errors: "config FILE: key: what is wrong, and what to write".
Status load_config_file(const std::string& path, RegistryConfig& config);

// Checks values that flags can set too (after everything is merged).
Status validate_config(const RegistryConfig& config);

// "90s", "15m", "24h", "2d" or plain seconds; nullopt when malformed.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace berth::registry
