#include "cli/ui/tls_server.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <stdexcept>

#include "cli/client/tls_relay.hpp"

namespace berth::cli::ui {

namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return e ? buf : "unknown error";
}

}  // namespace

TlsServerContext::TlsServerContext(const std::string& cert_file, const std::string& key_file) {
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (!ctx_) throw std::runtime_error("TLS: " + openssl_error());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx_, cert_file.c_str()) != 1) {
    std::string why = openssl_error();
    SSL_CTX_free(ctx_);
    throw std::runtime_error("--tls-cert " + cert_file + ": " + why);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx_) != 1) {
    std::string why = openssl_error();
    SSL_CTX_free(ctx_);
    throw std::runtime_error("--tls-key " + key_file + ": " + why + " (is it the certificate's key?)");
  }
}

TlsServerContext::~TlsServerContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<TlsSession> TlsSession::accept(TlsServerContext& ctx, int fd) {
  std::unique_ptr<TlsSession> s(new TlsSession());
  s->net_ = fd;
  // A client that connects and says nothing must not hold a thread forever.
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  s->ssl_ = SSL_new(ctx.get());
  if (!s->ssl_ || SSL_set_fd(s->ssl_, fd) != 1) return nullptr;
  ERR_clear_error();
  if (SSL_accept(s->ssl_) != 1) return nullptr;
  timeval none{0, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return nullptr;
  s->plain_ = pair[0];
  s->relay_end_ = pair[1];
  SSL* ssl = s->ssl_;
  int net = s->net_, local = s->relay_end_;
  // Ends when the browser closes its side after the server closed the plain end (every answer
  // says Connection: close), or at once when the browser goes away.
  s->relay_ = std::thread([ssl, net, local] { relay_tls_session(ssl, net, local, -1); });
  return s;
}

TlsSession::~TlsSession() {
  if (plain_ >= 0) ::close(plain_);  // the relay sees EOF, sends close_notify
  if (relay_.joinable()) relay_.join();
  if (relay_end_ >= 0) ::close(relay_end_);
  if (ssl_) SSL_free(ssl_);
  if (net_ >= 0) ::close(net_);
}

}  // namespace berth::cli::ui
