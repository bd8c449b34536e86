// A connected client socket, as the HTTP layer and hijacked streams see it. Plain unix/TCP
// sockets and TLS sessions implement it, so the rest of the server is written once.
#pragma once

#include <cstddef>
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
