// A connected client socket, as the HTTP layer and hijacked streams see it. Plain unix/TCP
// sockets and TLS sessions implement it, so the rest of the server is written once.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "core/common/result.hpp"
#include "core/common/unique_fd.hpp"

namespace berth::core::api {

class Transport {
 public:
  virtual ~Transport() = default;
  // Bytes read (> 0), 0 at EOF.
  virtual Result<size_t> read_some(char* buffer, size_t capacity) = 0;
  // Writes everything or fails (EPIPE when the peer went away).
  virtual Status write_all(const char* data, size_t size) = 0;
  // Half-close: no more bytes from us (the peer sees EOF).
  virtual void shutdown_write() = 0;
  // Both directions: unblocks a thread stuck in read_some (daemon shutdown).
  virtual void shutdown_both() = 0;
  // True when the peer closed or reset the connection, or half-closed it (shutdown SHUT_WR);
  // never blocks. Unread request bytes do not count as closed.
  virtual bool peer_closed() = 0;
  // True only when the peer is gone for good (hang-up or error), not merely done sending: the
  // docker CLI half-closes an attach without stdin and still reads the output.
  virtual bool peer_hung_up() = 0;
  // Bytes already decrypted/buffered inside the transport that a poll() on fd() would miss.
  virtual size_t pending() { return 0; }
  virtual int fd() const = 0;
  // Credentials of a unix-socket peer, for logs ("" when not a unix socket).
  virtual std::string peer() const { return {}; }

  // Reads (read_some, and a TLS handshake) fail with kDeadlineExceeded once `deadline` has
  // passed, instead of waiting for a client that stopped sending: the server bounds header and
  // body reads this way. Hijacked and streaming requests run with no deadline (cleared).
  void set_read_deadline(std::chrono::steady_clock::time_point deadline) { deadline_ = deadline; }
  void clear_read_deadline();
  // Waits until a byte can be read (or the peer closed): true, or false after `timeout`.
  bool wait_readable(std::chrono::milliseconds timeout);
  // Waits (at most `timeout`) until the peer has taken everything written so far. After a 101
  // this keeps the head apart from the first stream bytes: docker-py reads the head through a
  // buffered reader and loses any stream bytes that arrived with it.
  void wait_peer_took(std::chrono::milliseconds timeout);

 protected:
  // Before a blocking read: arms the socket's receive timeout with the time left (so a read
  // that needs several packets, a TLS record, still ends at the deadline); kDeadlineExceeded
  // when none is left.
  Status arm_read_deadline();
  // A read that failed with EAGAIN/EWOULDBLOCK under an armed deadline.
  static Error read_timed_out();

 private:
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool timeout_armed_ = false;
};

class FdTransport final : public Transport {
 public:
  explicit FdTransport(UniqueFd fd, std::string peer) : fd_(std::move(fd)), peer_(std::move(peer)) {}
  Result<size_t> read_some(char* buffer, size_t capacity) override;
  Status write_all(const char* data, size_t size) override;
  void shutdown_write() override;
  void shutdown_both() override;
  bool peer_closed() override;
  bool peer_hung_up() override;
  int fd() const override { return fd_.get(); }
  std::string peer() const override { return peer_; }

 private:
  UniqueFd fd_;
  std::string peer_;
};

}  // namespace berth::core::api
