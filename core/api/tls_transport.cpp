#include "core/api/tls_transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace berth::core::api {
namespace {

std::string openssl_error(std::string_view what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return std::string(what) + ": " + buf;
}

}  // namespace

Result<std::unique_ptr<TlsContext>> TlsContext::create(const TlsSettings& s) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return make_error(ErrorCode::kInternal, openssl_error("create TLS context"));
  std::unique_ptr<TlsContext> out(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, s.cert.c_str()) != 1) {
    return make_error(ErrorCode::kInvalidArgument, openssl_error("tlscert " + s.cert));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, s.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return make_error(ErrorCode::kInvalidArgument, openssl_error("tlskey " + s.key));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return make_error(ErrorCode::kInvalidArgument, "tlskey " + s.key + " does not match tlscert " + s.cert);
  }
  if (s.verify) {
    if (SSL_CTX_load_verify_locations(ctx, s.ca_cert.c_str(), nullptr) != 1) {
      return make_error(ErrorCode::kInvalidArgument, openssl_error("tlscacert " + s.ca_cert));
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  // Lets a client resume its session (one handshake per `berth run` instead of one per
  // connection). With client verification on and no id context, OpenSSL fails such a
  // handshake outright instead of falling back to a full one.
  static const unsigned char kSessionContext[] = "berthd";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

PendingTlsTransport::PendingTlsTransport(UniqueFd fd, const TlsContext& ctx) : fd_(std::move(fd)) {
  ssl_ = SSL_new(ctx.get());
  if (ssl_ != nullptr) SSL_set_fd(ssl_, fd_.get());
}

PendingTlsTransport::~PendingTlsTransport() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

Status PendingTlsTransport::handshake() {
  if (ssl_ == nullptr) return make_error(ErrorCode::kInternal, "no TLS session");
  BERTH_TRY_STATUS(arm_read_deadline());
  if (SSL_accept(ssl_) != 1) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return read_timed_out();
    return make_error(ErrorCode::kPermissionDenied, openssl_error("TLS handshake"));
  }
  return {};
}

Result<size_t> PendingTlsTransport::read_some(char* buffer, size_t capacity) {
  if (SSL_pending(ssl_) == 0) BERTH_TRY_STATUS(arm_read_deadline());
  errno = 0;
  int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(capacity, 1 << 30)));
  if (n > 0) return static_cast<size_t>(n);
  int err = SSL_get_error(ssl_, n);
  if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_SYSCALL) &&
      (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return read_timed_out();
  }
  if (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL) return size_t{0};
  return make_error(ErrorCode::kUnavailable, openssl_error("TLS read"));
}

Status PendingTlsTransport::write_all(const char* data, size_t size) {
  while (size > 0) {
    int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
    if (n <= 0) return make_error(ErrorCode::kUnavailable, openssl_error("TLS write"));
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

void PendingTlsTransport::shutdown_write() {
  SSL_shutdown(ssl_);
  ::shutdown(fd_.get(), SHUT_WR);
}

void PendingTlsTransport::shutdown_both() { ::shutdown(fd_.get(), SHUT_RDWR); }

bool PendingTlsTransport::peer_closed() {
  pollfd p{fd_.get(), POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

bool PendingTlsTransport::peer_hung_up() {
  pollfd p{fd_.get(), 0, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

size_t PendingTlsTransport::pending() { return static_cast<size_t>(SSL_pending(ssl_)); }

}  // namespace berth::core::api
