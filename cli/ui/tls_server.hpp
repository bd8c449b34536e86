// TLS for `berth ui --listen ADDR --tls-cert F --tls-key F` (required beyond loopback): each
// accepted connection's handshake, then the session relayed to a socketpair (the same relay loop
// hijacked client sessions use), so the server's plain-socket code serves it unchanged.
#pragma once

#include <memory>
#include <string>
#include <thread>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace berth::cli::ui {

class TlsServerContext {
 public:
  // Loads the certificate chain and key; throws std::runtime_error naming the file at fault.
  TlsServerContext(const std::string& cert_file, const std::string& key_file);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;
  SSL_CTX* get() const { return ctx_; }

 private:
  SSL_CTX* ctx_ = nullptr;
};

class TlsSession {
 public:
  // Handshakes on the accepted socket `fd` (which the session then owns); nullptr when the
  // client did not complete one within 10 s (not TLS, a refused certificate, gone).
  static std::unique_ptr<TlsSession> accept(TlsServerContext& ctx, int fd);
  ~TlsSession();
  // The plain end to serve; the session closes it.
  int plain_fd() const { return plain_; }

 private:
  TlsSession() = default;
  SSL* ssl_ = nullptr;
  int net_ = -1, plain_ = -1, relay_end_ = -1;
  std::thread relay_;
};

}  // namespace berth::cli::ui
