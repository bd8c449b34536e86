#pragma once

#include <memory>
#include <mutex>

#include "cli/client/connection.hpp"
#include "cli/client/endpoint.hpp"

namespace berth::cli {

// Opens connections to one endpoint: unix socket, TCP (TLS when the endpoint asks for it;
// clear text only to loopback addresses) or ssh. One TLS context per command, so later
// connections resume the first one's session.
class Dialer {
 public:
  explicit Dialer(Endpoint endpoint) : endpoint_(std::move(endpoint)) {}
  const Endpoint& endpoint() const { return endpoint_; }
  // Throws ConnectError.
  std::unique_ptr<Connection> dial();
  // TLS handshakes of this command: done, and resumed from an earlier session.
  std::pair<int, int> tls_handshakes();

 private:
  std::unique_ptr<Connection> dial_tcp();
  TlsClientContext& tls_context();

  Endpoint endpoint_;
  std::mutex mu_;
  std::unique_ptr<TlsClientContext> tls_;
};

// The refusal printed for clear text to a remote address (exposed for the unit tests).
std::string clear_text_refusal(const Address& address);

}  // namespace berth::cli
