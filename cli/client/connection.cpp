#include "cli/client/connection.hpp"

#include <sys/socket.h>

#include <boost/asio/write.hpp>

namespace berth::cli {

namespace asio = boost::asio;

std::unique_ptr<Connection> Connection::from_unix(std::unique_ptr<asio::io_context> ioc, Unix s,
                                                  std::unique_ptr<ConnectionCompanion> companion) {
  std::unique_ptr<Connection> c(new Connection());
  c->ioc_ = std::move(ioc);
  c->unix_.emplace(std::move(s));
  c->companion_ = std::move(companion);
  return c;
}

std::unique_ptr<Connection> Connection::from_tcp(std::unique_ptr<asio::io_context> ioc, Tcp s) {
  std::unique_ptr<Connection> c(new Connection());
  c->ioc_ = std::move(ioc);
  c->tcp_.emplace(std::move(s));
  return c;
}

std::unique_ptr<Connection> Connection::from_tls(std::unique_ptr<TlsStream> tls) {
  std::unique_ptr<Connection> c(new Connection());
  c->tls_ = std::move(tls);
  return c;
}

Connection::~Connection() { close(); }

void Connection::write_all(std::string_view data) {
  while (!data.empty()) {
    boost::system::error_code ec;
    size_t n = write_some(asio::buffer(data.data(), data.size()), ec);
    if (ec) throw failure("sending request", ec);
    data.remove_prefix(n);
  }
}

int Connection::native_handle() {
  if (tls_) return tls_->fd();
  return static_cast<int>(unix_ ? unix_->native_handle() : tcp_->native_handle());
}

void Connection::shutdown_write() {
  if (tls_)
    tls_->shutdown_write();
  else
    ::shutdown(native_handle(), SHUT_WR);
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  if (tls_) tls_->close();
  if (unix_) unix_->close(ec);
  if (tcp_) tcp_->close(ec);
  if (companion_) companion_->closed();
}

ConnectError Connection::failure(const std::string& what, const boost::system::error_code& ec) {
  if (tls_) {
    std::string why = tls_->explain_failure();
    if (!why.empty()) return ConnectError(why, true);
  }
  if (companion_) {
    std::string why = companion_->explain_failure();
    if (!why.empty()) return ConnectError(why, true);
  }
  return ConnectError(what + ": " + ec.message());
}

}  // namespace berth::cli
