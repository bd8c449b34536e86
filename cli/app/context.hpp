#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cli/app/endpoint_choice.hpp"
#include "cli/client/api_client.hpp"
#include "cli/client/context_store.hpp"

namespace berth::cli {

struct GlobalOptions {
  std::vector<std::string> hosts;  // -H/--host as given (docker's list flag: one value allowed)
  std::string host;     // -H/--host; empty = not given (BERTH_HOST is read at resolution)
  std::string context;  // -c/--context; empty = not given (BERTH_CONTEXT likewise)
  std::string config;   // --config; empty = BERTH_CONFIG or ~/.berth
  TlsFlags tls;
  bool debug = false;
  std::string log_level = "info";
};

// What every command gets: the global options and a lazily created API client (commands that
// never talk to the daemon, like `--help` or `context ls`, never resolve nor ping).
class Context {
 public:
  explicit Context(GlobalOptions opts) : opts_(std::move(opts)) {}

  const GlobalOptions& options() const { return opts_; }
  ApiClient& api();
  bool has_api() const { return api_ != nullptr; }
  // The daemon this command talks to (resolved once: flags, environment, current context).
  const Endpoint& endpoint();
  // Address as given or defaulted, for messages.
  std::string host();
  // The config folder and its context store.
  std::string config_dir() const;
  ContextStore store() const { return ContextStore(config_dir()); }
  // The context this command uses (flags, environment, config.json), without loading it.
  std::string current_context_name() const;

  bool stdin_is_tty() const;
  bool stdout_is_tty() const;

 private:
  GlobalOptions opts_;
  std::optional<Endpoint> endpoint_;
  std::unique_ptr<ApiClient> api_;
};

// The inputs of choose_endpoint: the flags, the environment and config.json.
EndpointSources endpoint_sources(const GlobalOptions& opts, const ContextStore& store);
// The "default" context: -H, else BERTH_HOST, else the local socket, with the TLS flags and
// BERTH_TLS_VERIFY/BERTH_CERT_PATH.
Endpoint default_endpoint(const GlobalOptions& opts, const ContextStore& store);
// Resolves the endpoint for `opts` with the environment (`getenv`) and the context store.
Endpoint resolve_endpoint(const GlobalOptions& opts, const ContextStore& store);

}  // namespace berth::cli
