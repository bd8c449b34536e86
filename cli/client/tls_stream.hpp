#pragma once

#include <boost/system/error_code.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "cli/client/tls_config.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

namespace berth::cli {

// The OpenSSL client context of one command: the CA, the client key pair and the newest session
// ticket the daemon handed out, so the concurrent connections of one command (run: attach, wait,
// start) resume the first one's session instead of paying a full handshake each.
class TlsClientContext {
 public:
  // Loads the CA and key pair; throws ConnectError (self-explanatory) naming the file at fault.
  explicit TlsClientContext(const TlsConfig& config);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  const TlsConfig& config() const { return config_; }
  // Offers the remembered session to a new connection: false when there is none (yet), or
  // after resumption failed once (an OpenSSL daemon that verifies clients but set no session
  // id context fails such handshakes outright).
  bool offer_session(SSL* ssl);
  void disable_resumption();
  // Handshakes done, and how many resumed a session, for `-D` and the tests.
  int handshakes() const;
  int resumed_count() const;
  void count_handshake(bool resumed);

 private:
  static int on_new_session(SSL* ssl, SSL_SESSION* session);
  TlsConfig config_;
  SSL_CTX* ctx_ = nullptr;
  mutable std::mutex mu_;
  SSL_SESSION* session_ = nullptr;
  bool resumption_disabled_ = false;
  int handshakes_ = 0;
  int resumed_ = 0;
};

// A client TLS session over a connected TCP socket (blocking I/O). Owns the socket.
class TlsStream {
 public:
  // Runs the handshake and verifies the daemon (certificate chain, then `host` against its
  // names, as Go's crypto/tls does for docker). Throws ConnectError (self-explanatory).
  // `resume`: offer the session remembered by `ctx`, if any (see offer_session).
  TlsStream(int fd, TlsClientContext& ctx, const std::string& host, const std::string& address,
            bool resume);
  bool offered_session() const { return offered_; }
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // 0 with ec = eof at the end of the stream; other failures set ec and keep the OpenSSL text in
  // last_error().
  size_t read(char* data, size_t size, boost::system::error_code& ec);
  size_t write(const char* data, size_t size, boost::system::error_code& ec);
  // Bytes decrypted and waiting inside OpenSSL (a poll() on the socket would miss them).
  size_t pending() const;
  // close_notify, then TCP half-close: the daemon reads EOF while we keep reading.
  void shutdown_write();
  int fd() const { return fd_; }
  void close();
  bool resumed() const { return resumed_; }
  // Why the last read or write failed, in words (for the message printed to the user).
  std::string explain_failure() const;
  SSL* ssl() const { return ssl_; }

 private:
  // The alert the daemon sent before closing, if one is waiting ("" otherwise).
  std::string pending_alert();
  int fd_;
  SSL* ssl_ = nullptr;
  TlsClientContext& ctx_;
  std::string address_;
  std::string last_error_;
  bool resumed_ = false;
  bool offered_ = false;
  bool write_shut_ = false;
};

}  // namespace berth::cli
