#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <memory>
#include <string_view>
#include <variant>

#include "cli/client/address.hpp"

namespace berth::cli {

// The daemon could not be reached at all (socket missing, refused, ...).
class ConnectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One byte stream to the daemon, unix or TCP. Models Beast's SyncReadStream/SyncWriteStream so
// the HTTP parser can read from either transport; also exposes the fd for hijacked sessions
// (poll, half-close).
class Connection {
 public:
  static std::unique_ptr<Connection> dial(const Address& address);

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    return std::visit([&](auto& s) { return s.read_some(buffers, ec); }, socket_);
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    return std::visit([&](auto& s) { return s.read_some(buffers); }, socket_);
  }
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers, boost::system::error_code& ec) {
    return std::visit([&](auto& s) { return s.write_some(buffers, ec); }, socket_);
  }
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers) {
    return std::visit([&](auto& s) { return s.write_some(buffers); }, socket_);
  }

  // Writes everything or throws std::system_error.
  void write_all(std::string_view data);
  int native_handle();
  // shutdown(SHUT_WR): tells the daemon stdin reached EOF while output keeps flowing.
  void shutdown_write();
  void close();

  // Bytes read from the socket but not yet consumed by a response parser.
  boost::beast::flat_buffer& buffer() { return buffer_; }

 private:
  using Unix = boost::asio::local::stream_protocol::socket;
  using Tcp = boost::asio::ip::tcp::socket;
  explicit Connection(std::unique_ptr<boost::asio::io_context> ioc, Unix s);
  explicit Connection(std::unique_ptr<boost::asio::io_context> ioc, Tcp s);

  std::unique_ptr<boost::asio::io_context> ioc_;
  std::variant<Unix, Tcp> socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace berth::cli
