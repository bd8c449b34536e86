#pragma once

#include <stdexcept>
#include <string>

namespace berth::cli {

// The daemon could not be reached or the transport to it failed (socket missing, refused, TLS
// handshake, ssh). Plain failures are printed as "cannot reach berthd at ...: is it running?";
// self-explanatory ones (TLS, ssh, refusing clear text) already say what went wrong and what
// to do, and are printed as they are.
class ConnectError : public std::runtime_error {
 public:
  explicit ConnectError(const std::string& message, bool self_explanatory = false)
      : std::runtime_error(message), self_explanatory_(self_explanatory) {}
  bool self_explanatory() const { return self_explanatory_; }

 private:
  bool self_explanatory_;
};

}  // namespace berth::cli
