// berthd's configuration: /etc/berth/daemon.json (Docker daemon.json style, kebab-case keys)
// overridden by command-line flags of the same names. Every key has a default, so the daemon
// runs with no file at all; an unknown key or a wrong type is an error naming it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::config {

inline constexpr std::string_view kDefaultConfigPath = "/etc/berth/daemon.json";

struct LogOpts {
  int64_t max_size = 10 * 1024 * 1024;  // json-file rotation is on by default: Docker's
  int max_file = 3;                     // unbounded default fills disks
};

// What one API client may hold (api-* keys); see api::ServerLimits for what each bounds.
struct ApiLimits {
  int header_timeout_s = 10;
  int idle_timeout_s = 120;
  int body_timeout_s = 60;
  int max_connections = 2048;
};

// What one request may write when it unpacks a tar (import, load, cp, commit, and later pull and
// build): the uncompressed size of one layer or archive, and how much larger than its
// compressed bytes it may grow (a 3 MB gzip of zeros must not become 3 GB on disk).
struct ArchiveLimits {
  int64_t max_layer_size = int64_t{64} << 30;
  int max_expansion_ratio = 100;
};

// Image distribution. insecure-registries: "host:port" or CIDRs where plain HTTP and unverified
// TLS are allowed (loopback always is). registry-mirrors: Docker's mirror URLs for docker.io,
// and "<registry host>=<mirror URL>" entries that give any registry its mirrors, tried in order
// before the origin.
struct RegistryOptions {
  std::vector<std::string> insecure_registries;
  std::vector<std::string> mirrors;
  int max_concurrent_downloads = 3;
  int max_concurrent_uploads = 5;
};

struct DaemonConfig {
  std::string data_root = "/var/lib/berth";
  std::string exec_root = "/run/berth";
  std::vector<std::string> hosts = {"unix:///run/berth.sock"};
  std::vector<std::string> plugin_dirs;  // empty: <berthd dir>/../lib/berth/plugins
  std::string storage_driver = "overlay";
  std::string isolation_backend = "linux";  // "none": no containers (image-only daemon)
  std::vector<std::string> required_plugins;
  std::vector<std::string> disabled_plugins;
  std::map<std::string, std::string> plugins;  // driver id -> its raw JSON section
  std::string log_level = "info";
  LogOpts log_opts;
  // Docker's --userns-remap: "<user>[:<group>]" whose first ranges in /etc/subuid and
  // /etc/subgid become every container's root and ids (empty: off).
  std::string userns_remap;
  // The largest build context POST /build accepts, in bytes (daemon.json "build-max-context-size").
  int64_t build_max_context_size = int64_t{8} << 30;
  // TCP hosts: mutual TLS (Docker's keys). A tcp:// host without client certificates
  // ("tlsverify") is refused on every address unless the operator opts in by writing
  // "tls": false or "tlsverify": false explicitly (Docker's --tls=false): on loopback too,
  // anyone who can connect (every local user, every --network host container) is root.
  bool tls = false;
  bool tlsverify = false;
  bool unauthenticated_tcp_opt_in = false;
  std::string tlscacert;
  std::string tlscert;
  std::string tlskey;

  ApiLimits api_limits;
  ArchiveLimits archive_limits;
  RegistryOptions registry;

  // Networking (docker's keys): the default bridge's "bip" ("172.20.0.1/16"), "mtu" of new
  // bridge networks (0: 1500), "default-address-pools" [{"base":"10.10.0.0/16","size":24}].
  struct AddressPool {
    std::string base;
    int size = 0;
  };
  std::string bip;
  // The default bridge network's bridge ("bridge", docker's -b): "" for berth0, "none" for no
  // default bridge (containers without --network get a namespace of their own, loopback only).
  std::string bridge;
  int mtu = 0;
  // "icc": false blocks traffic between containers on the default bridge (docker's --icc=false);
  // user networks choose with -o com.docker.network.bridge.enable_icc=false.
  bool icc = true;
  // Upstream resolvers the embedded DNS server forwards to (empty: the host's resolv.conf).
  std::vector<std::string> dns;
  std::vector<AddressPool> default_address_pools;

  std::string source;  // the file it came from, "" when none (for messages)
};

// Parses daemon.json text. Unknown keys and wrong types are errors naming the key.
Result<DaemonConfig> parse_config(std::string_view json_text, std::string_view source = "");

// Loads `path`. A missing file is fine (defaults) unless `must_exist`.
Result<DaemonConfig> load_config(const std::string& path, bool must_exist);

// Applies one command-line override `--<key> <value>` (keys as in daemon.json; list keys may
// be given several times or comma-separated). `seen` tracks list keys already overridden so
// that the first flag replaces the file's list and later ones append.
Status apply_override(DaemonConfig& config, std::string_view key, std::string_view value,
                      std::vector<std::string>& seen);

// Checks the combination (paths absolute, hosts well-formed, log level known, ...).
Status validate(const DaemonConfig& config);

// The json-file log driver's options ("max-size", "max-file"), over `base`: the one parser behind
// daemon.json's "log-opts" and a container's --log-opt, so both accept the same values.
// Errors name the option and what it takes.
Result<LogOpts> parse_log_options(const std::map<std::string, std::string>& options,
                                  const LogOpts& base);

// Parses "10m", "1g", "512k", "100" into bytes.
Result<int64_t> parse_byte_size(std::string_view text);

}  // namespace berth::core::config
