#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <memory>
#include <optional>
#include <string_view>

#include "cli/client/connect_error.hpp"
#include "cli/client/tls_stream.hpp"

namespace berth::cli {

// Something that must live exactly as long as a connection: the ssh process at the other end
// of a socketpair, or the thread relaying a hijacked TLS session to one.
class ConnectionCompanion {
 public:
  virtual ~ConnectionCompanion() = default;
  // Called once the socket is closed (reap the process, join the thread).
  virtual void closed() {}
  // Why the far side failed, in the user's words ("" when nothing to add).
  virtual std::string explain_failure() { return ""; }
};

// One byte stream to the daemon: a unix socket (also the socketpair to an ssh process), plain
// TCP, or TLS over TCP. Models Beast's SyncReadStream/SyncWriteStream so the HTTP parser reads
// from any of them; also exposes the fd for hijacked sessions (poll, half-close), which for TLS
// go through a relay socket (see relay_hijacked_tls).
class Connection {
 public:
  using Unix = boost::asio::local::stream_protocol::socket;
  using Tcp = boost::asio::ip::tcp::socket;

  static std::unique_ptr<Connection> from_unix(std::unique_ptr<boost::asio::io_context> ioc, Unix s,
                                               std::unique_ptr<ConnectionCompanion> companion = {});
  static std::unique_ptr<Connection> from_tcp(std::unique_ptr<boost::asio::io_context> ioc, Tcp s);
  static std::unique_ptr<Connection> from_tls(std::unique_ptr<TlsStream> tls);
  ~Connection();

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    if (tls_) {
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::mutable_buffer b = *it;
        if (b.size() > 0) return tls_->read(static_cast<char*>(b.data()), b.size(), ec);
      }
      ec = {};
      return 0;
    }
    return unix_ ? unix_->read_some(buffers, ec) : tcp_->read_some(buffers, ec);
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers, boost::system::error_code& ec) {
    if (tls_) {
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
        if (b.size() > 0) return tls_->write(static_cast<const char*>(b.data()), b.size(), ec);
      }
      ec = {};
      return 0;
    }
    return unix_ ? unix_->write_some(buffers, ec) : tcp_->write_some(buffers, ec);
  }
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers) {
    boost::system::error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  // Writes everything or throws ConnectError.
  void write_all(std::string_view data);
  int native_handle();
  bool is_tls() const { return tls_ != nullptr; }
  TlsStream* tls() { return tls_.get(); }
  // Half-close: tells the daemon stdin reached EOF while output keeps flowing.
  void shutdown_write();
  void close();
  // The error to throw for a failed read or write: explained by TLS or the ssh process when
  // they know why, else "<what>: <system message>".
  ConnectError failure(const std::string& what, const boost::system::error_code& ec);

  // Bytes read from the socket but not yet consumed by a response parser.
  boost::beast::flat_buffer& buffer() { return buffer_; }

 private:
  Connection() = default;
  std::unique_ptr<boost::asio::io_context> ioc_;
  std::optional<Unix> unix_;
  std::optional<Tcp> tcp_;
  std::unique_ptr<TlsStream> tls_;
  std::unique_ptr<ConnectionCompanion> companion_;
  boost::beast::flat_buffer buffer_;
  bool closed_ = false;
};

}  // namespace berth::cli
