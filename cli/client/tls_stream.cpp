#include "cli/client/tls_stream.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/error.hpp>
#include <cerrno>
#include <cstring>

#include "cli/client/connect_error.hpp"

namespace berth::cli {

namespace {

std::string openssl_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    // "error:0A000086:SSL routines::certificate verify failed" -> "certificate verify failed"
    std::string text = buf;
    if (auto colon = text.rfind(':'); colon != std::string::npos) text = text.substr(colon + 1);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown TLS error" : out;
}

std::string file_error(const std::string& what, const std::string& path) {
  std::string reason = openssl_errors();
  if (::access(path.c_str(), R_OK) != 0) reason = std::strerror(errno);
  return "could not read " + what + " \"" + path + "\": " + reason;
}

int ex_index() {
  static int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool is_ip(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Where the user fixes a file: the flags (and BERTH_CERT_PATH), or the context that stores it.
std::string where_to_fix(const TlsConfig& c, const std::string& flags, const std::string& files) {
  if (c.origin == "flags") return flags + " (or " + files + " in BERTH_CERT_PATH)";
  return "the " + files + " stored in " + c.origin +
         " (berth context inspect; recreate it to change them)";
}

std::string ca_hint(const TlsConfig& c) {
  if (c.ca_file.empty()) return "the system's trusted CAs (no --tlscacert given)";
  return "the CA in " + c.ca_file;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TlsClientContext

TlsClientContext::TlsClientContext(const TlsConfig& config) : config_(config) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr)
    throw ConnectError("TLS: cannot create a context: " + openssl_errors(), true);
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);  // Go's (and docker's) floor
  SSL_CTX_set_ex_data(ctx_, ex_index(), this);
  auto fail = [&](const std::string& message) {
    SSL_CTX_free(ctx_);
    ctx_ = nullptr;
    throw ConnectError(message, true);
  };
  if (config_.verify) {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!config_.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx_, config_.ca_file.c_str(), nullptr) != 1)
        fail(file_error("CA certificate", config_.ca_file) + "; fix " +
             where_to_fix(config_, "--tlscacert", "ca.pem"));
    } else if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
      fail("TLS: cannot load the system's trusted CAs: " + openssl_errors());
    }
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
  if (!config_.cert_file.empty() || !config_.key_file.empty()) {
    if (config_.cert_file.empty() || config_.key_file.empty())
      fail("TLS: a client certificate needs both --tlscert and --tlskey (got only " +
           std::string(config_.cert_file.empty() ? "the key " + config_.key_file
                                                 : "the certificate " + config_.cert_file) +
           ")");
    if (SSL_CTX_use_certificate_chain_file(ctx_, config_.cert_file.c_str()) != 1)
      fail(file_error("client certificate", config_.cert_file));
    if (SSL_CTX_use_PrivateKey_file(ctx_, config_.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      fail(file_error("client key", config_.key_file));
    if (SSL_CTX_check_private_key(ctx_) != 1)
      fail("TLS: the key " + config_.key_file + " does not belong to the certificate " +
           config_.cert_file);
  }
  // Client-side session cache held here (not in OpenSSL's internal store): the new-session
  // callback keeps the newest ticket, offer_session() hands it to the next connection.
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx_, &TlsClientContext::on_new_session);
}

TlsClientContext::~TlsClientContext() {
  if (session_) SSL_SESSION_free(session_);
  if (ctx_) SSL_CTX_free(ctx_);
}

int TlsClientContext::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* self =
      static_cast<TlsClientContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index()));
  if (self == nullptr) return 0;
  std::lock_guard lock(self->mu_);
  if (self->session_) SSL_SESSION_free(self->session_);
  self->session_ = session;  // returning 1 keeps the reference OpenSSL passed us
  return 1;
}

bool TlsClientContext::offer_session(SSL* ssl) {
  std::lock_guard lock(mu_);
  if (resumption_disabled_ || !session_ || !SSL_SESSION_is_resumable(session_)) return false;
  return SSL_set_session(ssl, session_) == 1;
}

void TlsClientContext::disable_resumption() {
  std::lock_guard lock(mu_);
  resumption_disabled_ = true;
}

int TlsClientContext::handshakes() const {
  std::lock_guard lock(mu_);
  return handshakes_;
}

int TlsClientContext::resumed_count() const {
  std::lock_guard lock(mu_);
  return resumed_;
}

void TlsClientContext::count_handshake(bool resumed) {
  std::lock_guard lock(mu_);
  ++handshakes_;
  if (resumed) ++resumed_;
}

// ---------------------------------------------------------------------------------------------
// TlsStream

TlsStream::TlsStream(int fd, TlsClientContext& ctx, const std::string& host,
                     const std::string& address, bool resume)
    : fd_(fd), ctx_(ctx), address_(address) {
  const TlsConfig& c = ctx.config();
  ssl_ = SSL_new(ctx.get());
  if (ssl_ == nullptr) {
    close();
    throw ConnectError("TLS: cannot create a session: " + openssl_errors(), true);
  }
  SSL_set_fd(ssl_, fd_);
  if (!is_ip(host)) SSL_set_tlsext_host_name(ssl_, host.c_str());  // SNI: names only
  if (c.verify) {
    // The name check Go does for docker: the certificate must be issued for the host we dialed.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (is_ip(host))
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    else
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  }
  if (resume) offered_ = ctx.offer_session(ssl_);
  ERR_clear_error();
  if (SSL_connect(ssl_) != 1) {
    std::string reason = openssl_errors();
    long verify = SSL_get_verify_result(ssl_);
    std::string message;
    if (c.verify && verify != X509_V_OK) {
      message = "TLS: the daemon at " + address_ +
                " presented a certificate berth does not trust: " +
                X509_verify_cert_error_string(verify) + ". It must be issued for \"" + host +
                "\" and signed by " + ca_hint(c) + "; check " +
                where_to_fix(c, "--tlscacert", "ca.pem") + ".";
    } else if (reason.find("wrong version number") != std::string::npos ||
               reason.find("packet length too long") != std::string::npos) {
      message = "TLS: " + address_ + " does not speak TLS (" + reason +
                "); it looks like a plain-HTTP endpoint: drop --tls/--tlsverify, or use the "
                "daemon's TLS port.";
    } else if (reason == "unknown TLS error" ||
               reason.find("unexpected eof") != std::string::npos) {
      message = "TLS: the daemon at " + address_ + " closed the connection during the handshake" +
                (c.cert_file.empty()
                     ? " (no client certificate was sent: it may require one, see " +
                           where_to_fix(c, "--tlscert and --tlskey", "cert.pem and key.pem") + ")"
                     : "") +
                ".";
    } else {
      message = "TLS handshake with " + address_ + " failed: " + reason;
      if (reason.find("alert") != std::string::npos)
        message +=
            ". The daemon refused this client" +
            std::string(c.cert_file.empty()
                            ? ": no client certificate was sent; give one with " +
                                  where_to_fix(c, "--tlscert and --tlskey", "cert.pem and key.pem")
                            : ": is " + c.cert_file + " signed by the daemon's CA and valid?");
    }
    close();
    throw ConnectError(message, true);
  }
  resumed_ = SSL_session_reused(ssl_) == 1;
  ctx.count_handshake(resumed_);
}

TlsStream::~TlsStream() { close(); }

void TlsStream::close() {
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

size_t TlsStream::read(char* data, size_t size, boost::system::error_code& ec) {
  ec = {};
  if (size == 0) return 0;
  ERR_clear_error();
  errno = 0;
  int n = SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return static_cast<size_t>(n);
  int err = SSL_get_error(ssl_, n);
  if (err == SSL_ERROR_ZERO_RETURN) {
    ec = boost::asio::error::eof;
    return 0;
  }
  if (err == SSL_ERROR_SYSCALL && errno == 0) {
    // The peer closed TCP without close_notify (as Go's daemon does after a hijack): the HTTP
    // layer above knows whether the body was complete.
    ec = boost::asio::error::eof;
    return 0;
  }
  if (err == SSL_ERROR_SYSCALL) {
    last_error_ = std::strerror(errno);
    ec = boost::system::error_code(errno, boost::system::system_category());
    return 0;
  }
  last_error_ = openssl_errors();
  ec = boost::asio::error::connection_aborted;
  return 0;
}

size_t TlsStream::write(const char* data, size_t size, boost::system::error_code& ec) {
  ec = {};
  if (size == 0) return 0;
  ERR_clear_error();
  errno = 0;
  int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return static_cast<size_t>(n);
  int err = SSL_get_error(ssl_, n);
  if (err == SSL_ERROR_SYSCALL && errno != 0) {
    int saved = errno;
    last_error_ = std::strerror(saved);
    // With TLS 1.3 a daemon that refuses our certificate does so after our handshake ended:
    // its alert is already waiting, and says more than "Broken pipe".
    std::string alert = pending_alert();
    if (!alert.empty()) last_error_ = alert;
    ec = boost::system::error_code(saved, boost::system::system_category());
    return 0;
  }
  last_error_ = openssl_errors();
  ec = boost::asio::error::connection_aborted;
  return 0;
}

std::string TlsStream::pending_alert() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 200) <= 0) return "";
  char scratch[256];
  ERR_clear_error();
  int n = SSL_read(ssl_, scratch, sizeof scratch);
  if (n > 0 || SSL_get_error(ssl_, n) != SSL_ERROR_SSL) return "";
  std::string text = openssl_errors();
  return text.find("alert") != std::string::npos ? text : "";
}

size_t TlsStream::pending() const { return ssl_ ? static_cast<size_t>(SSL_pending(ssl_)) : 0; }

void TlsStream::shutdown_write() {
  if (write_shut_ || !ssl_) return;
  write_shut_ = true;
  SSL_shutdown(ssl_);  // sends close_notify; reading stays possible
  ::shutdown(fd_, SHUT_WR);
}

std::string TlsStream::explain_failure() const {
  if (last_error_.empty()) return "";
  const TlsConfig& c = ctx_.config();
  std::string out = "TLS session with " + address_ + " failed: " + last_error_;
  if (last_error_.find("alert") != std::string::npos) {
    // With TLS 1.3 the daemon checks our certificate after the client's handshake is done: its
    // refusal arrives as an alert on the first read.
    if (c.cert_file.empty())
      out += ". The daemon refused this client: no client certificate was sent; give one with " +
             where_to_fix(c, "--tlscert and --tlskey", "cert.pem and key.pem");
    else
      out += ". The daemon refused the client certificate " + c.cert_file +
             ": it must be signed by the daemon's CA (tlscacert) and still valid";
  }
  return out;
}

}  // namespace berth::cli
