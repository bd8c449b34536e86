#pragma once

#include <memory>
#include <string>

#include "cli/client/api_client.hpp"

namespace berth::cli {

struct GlobalOptions {
  std::string host;  // -H/--host or BERTH_HOST; empty = default socket
  bool debug = false;
  std::string log_level = "info";
};

// What every command gets: the global options and a lazily created API client (commands that
// never talk to the daemon, like `--help`, never ping).
class Context {
 public:
  explicit Context(GlobalOptions opts) : opts_(std::move(opts)) {}

  const GlobalOptions& options() const { return opts_; }
  ApiClient& api();
  // Address as given or defaulted, for messages.
  std::string host() const;

  bool stdin_is_tty() const;
  bool stdout_is_tty() const;

 private:
  GlobalOptions opts_;
  std::unique_ptr<ApiClient> api_;
};

}  // namespace berth::cli
