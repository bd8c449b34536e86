#include "cli/client/connection.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

namespace berth::cli {

namespace asio = boost::asio;

Connection::Connection(std::unique_ptr<asio::io_context> ioc, Unix s)
    : ioc_(std::move(ioc)), socket_(std::move(s)) {}
Connection::Connection(std::unique_ptr<asio::io_context> ioc, Tcp s)
    : ioc_(std::move(ioc)), socket_(std::move(s)) {}

std::unique_ptr<Connection> Connection::dial(const Address& address) {
  auto ioc = std::make_unique<asio::io_context>();
  boost::system::error_code ec;
  if (address.kind == Address::Kind::kUnix) {
    Unix s(*ioc);
    s.connect(asio::local::stream_protocol::endpoint(address.path), ec);
    if (ec) throw ConnectError(ec.message());
    return std::unique_ptr<Connection>(new Connection(std::move(ioc), std::move(s)));
  }
  asio::ip::tcp::resolver resolver(*ioc);
  auto endpoints = resolver.resolve(address.host, address.port, ec);
  if (ec) throw ConnectError(ec.message());
  Tcp s(*ioc);
  asio::connect(s, endpoints, ec);
  if (ec) throw ConnectError(ec.message());
  s.set_option(asio::ip::tcp::no_delay(true), ec);
  return std::unique_ptr<Connection>(new Connection(std::move(ioc), std::move(s)));
}

void Connection::write_all(std::string_view data) {
  std::visit([&](auto& s) { asio::write(s, asio::buffer(data.data(), data.size())); }, socket_);
}

int Connection::native_handle() {
  return std::visit([](auto& s) { return static_cast<int>(s.native_handle()); }, socket_);
}

void Connection::shutdown_write() { ::shutdown(native_handle(), SHUT_WR); }

void Connection::close() {
  boost::system::error_code ec;
  std::visit([&](auto& s) { s.close(ec); }, socket_);
}

}  // namespace berth::cli
