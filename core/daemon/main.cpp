// berthd [--config FILE] [--<daemon.json key> VALUE ...]
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/common/logging.hpp"
#include "core/config/daemon_config.hpp"
#include "core/daemon/daemon.hpp"
#include "core/version.hpp"

int main(int argc, char** argv) {
  using berth::core::config::DaemonConfig;
  // One malloc arena per thread is glibc's default; berthd's threads mostly wait, and a few
  // shared arenas keep its resident memory small.
  mallopt(M_ARENA_MAX, 2);
  CLI::App app{"berthd: the Berth container engine daemon (Docker Engine API compatible)",
               "berthd"};
  std::string config_path(berth::core::config::kDefaultConfigPath);
  bool config_given = false;
  bool show_version = false;
  std::vector<std::pair<std::string, std::string>> overrides;
  app.add_option_function<std::string>(
         "--config", [&](const std::string& v) { config_path = v; config_given = true; },
         "daemon configuration file (default /etc/berth/daemon.json)");
  app.add_flag("-v,--version", show_version, "print the version and exit");
  // Flags named like the daemon.json keys; they override the file.
  auto add = [&](const std::string& names, const std::string& key, const std::string& help) {
    app.add_option_function<std::vector<std::string>>(
           names,
           [&, key](const std::vector<std::string>& values) {
             for (const auto& v : values) overrides.emplace_back(key, v);
           },
           help)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  };
  add("--data-root", "data-root", "root of persistent state (default /var/lib/berth)");
  add("--exec-root", "exec-root", "root of runtime state (default /run/berth)");
  add("-H,--host,--hosts", "hosts", "address to serve: unix:///path or tcp://addr:port (repeatable)");
  add("--plugin-dir,--plugin-dirs", "plugin-dirs", "directory searched for berth-*.so plugins (repeatable)");
  add("-s,--storage-driver", "storage-driver", "storage driver (default overlay)");
  add("--isolation-backend", "isolation-backend", "isolation backend (default linux; none: images only)");
  add("--required-plugin,--required-plugins", "required-plugins", "driver id or plugin that must load (repeatable)");
  add("--disabled-plugin,--disabled-plugins", "disabled-plugins", "driver id or plugin not to load (repeatable)");
  add("-b,--bridge", "bridge", "the default bridge network's bridge (default berth0; none: no default bridge)");
  add("-l,--log-level", "log-level", "trace, debug, info, warn or error");
  add("--userns-remap", "userns-remap",
      "user[:group] whose subordinate ids (/etc/subuid, /etc/subgid) containers run as");
  add("--tlscacert", "tlscacert", "CA that client certificates must be signed by");
  add("--tlscert", "tlscert", "the server's TLS certificate");
  add("--tlskey", "tlskey", "the server's TLS key");
  bool tls = false, tlsverify = false;
  auto* tls_flag = app.add_flag("--tls", tls, "serve TLS on tcp:// hosts (--tls=false: opt in to "
                                              "cleartext TCP)");
  auto* tlsverify_flag = app.add_flag("--tlsverify", tlsverify,
                                      "require client certificates signed by --tlscacert "
                                      "(--tlsverify=false: opt in to an unauthenticated API)");
  for (const char* key : {"api-header-timeout", "api-idle-timeout", "api-body-timeout",
                          "api-max-connections", "max-layer-size", "max-expansion-ratio"}) {
    add(std::string("--") + key, key, "see daemon.json's key of the same name");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (tls_flag->count() > 0) overrides.emplace_back("tls", tls ? "true" : "false");
  if (tlsverify_flag->count() > 0) overrides.emplace_back("tlsverify", tlsverify ? "true" : "false");
  if (show_version) {
    std::printf("berthd %s (commit %s)\n", std::string(berth::core::kBerthVersion).c_str(),
                std::string(berth::core::kGitCommit).c_str());
    return 0;
  }
  auto config = berth::core::config::load_config(config_path, config_given);
  if (!config) {
    std::fprintf(stderr, "berthd: %s\n", config.error().message.c_str());
    return 1;
  }
  std::vector<std::string> seen;
  for (const auto& [key, value] : overrides) {
    if (auto s = berth::core::config::apply_override(*config, key, value, seen); !s) {
      std::fprintf(stderr, "berthd: %s\n", s.error().message.c_str());
      return 1;
    }
  }
  if (auto s = berth::core::config::validate(*config); !s) {
    std::fprintf(stderr, "berthd: %s\n", s.error().message.c_str());
    return 1;
  }
  if (auto s = berth::logging::set_level(config->log_level); !s) {
    std::fprintf(stderr, "berthd: %s\n", s.error().message.c_str());
    return 1;
  }
  berth::core::daemon::Daemon daemon(std::move(*config));
  return daemon.run();
}
