// TLS for tcp:// hosts (OpenSSL): server certificate always, client certificates verified
// against the CA with "tlsverify" (mutual TLS, Docker's daemon flags of the same names).
#pragma once

#include <memory>

#include "core/api/server.hpp"
#include "core/api/transport.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace berth::core::api {

class TlsContext {
 public:
  static Result<std::unique_ptr<TlsContext>> create(const TlsSettings& settings);
  ~TlsContext();
  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// A TCP connection whose TLS handshake has not happened yet; it runs on the connection's
// thread so a slow client cannot stall the accept loop.
class PendingTlsTransport final : public Transport {
 public:
  PendingTlsTransport(UniqueFd fd, const TlsContext& ctx);
  ~PendingTlsTransport() override;
  Status handshake();

  Result<size_t> read_some(char* buffer, size_t capacity) override;
  Status write_all(const char* data, size_t size) override;
  void shutdown_write() override;
  void shutdown_both() override;
  bool peer_closed() override;
  bool peer_hung_up() override;
  size_t pending() override;
  int fd() const override { return fd_.get(); }

 private:
  UniqueFd fd_;
  SSL* ssl_ = nullptr;
};

}  // namespace berth::core::api
