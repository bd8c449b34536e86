#include "cli/client/dialer.hpp"

#include <boost/asio/connect.hpp>

#include "cli/client/ssh_transport.hpp"

namespace berth::cli {

namespace asio = boost::asio;

std::string clear_text_refusal(const Address& a) {
  return "berth: refusing to talk to " + a.original +
         " in clear text: it is not a loopback address, so anyone on the network path could read "
         "the requests and drive the daemon (which means root on its host).\n"
         "Use TLS with the daemon's CA and a client certificate: --tlsverify --tlscacert ca.pem "
         "--tlscert cert.pem --tlskey key.pem (or BERTH_TLS_VERIFY=1 and BERTH_CERT_PATH=<folder "
         "with ca.pem, cert.pem, key.pem>), or reach it over SSH: -H ssh://user@" +
         a.host + ". `berth context create` can remember either.";
}

TlsClientContext& Dialer::tls_context() {
  std::lock_guard lock(mu_);
  if (!tls_) tls_ = std::make_unique<TlsClientContext>(endpoint_.tls);
  return *tls_;
}

std::pair<int, int> Dialer::tls_handshakes() {
  std::lock_guard lock(mu_);
  if (!tls_) return {0, 0};
  return {tls_->handshakes(), tls_->resumed_count()};
}

std::unique_ptr<Connection> Dialer::dial() {
  const Address& address = endpoint_.address;
  switch (address.kind) {
    case Address::Kind::kUnix: {
      auto ioc = std::make_unique<asio::io_context>();
      boost::system::error_code ec;
      Connection::Unix s(*ioc);
      s.connect(asio::local::stream_protocol::endpoint(address.path), ec);
      if (ec) throw ConnectError(ec.message());
      return Connection::from_unix(std::move(ioc), std::move(s));
    }
    case Address::Kind::kSsh:
      return dial_ssh(address);
    case Address::Kind::kTcp:
      return dial_tcp();
  }
  throw ConnectError("unsupported address " + address.original);
}

std::unique_ptr<Connection> Dialer::dial_tcp() {
  const Address& address = endpoint_.address;
  bool tls = endpoint_.tls.enabled;
  // Load the certificates before any network traffic: a missing file is the likelier mistake.
  TlsClientContext* ctx = tls ? &tls_context() : nullptr;
  auto ioc = std::make_unique<asio::io_context>();
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(*ioc);
  auto endpoints = resolver.resolve(address.host, address.port, ec);
  if (ec) throw ConnectError(ec.message());
  if (!tls) {
    for (const auto& e : endpoints)
      if (!is_loopback_ip(e.endpoint().address().to_string()))
        throw ConnectError(clear_text_refusal(address), true);
  }
  for (bool resume : {true, false}) {
    Connection::Tcp s(*ioc);
    asio::connect(s, endpoints, ec);
    if (ec) throw ConnectError(ec.message());
    s.set_option(asio::ip::tcp::no_delay(true), ec);
    if (!tls) return Connection::from_tcp(std::move(ioc), std::move(s));
    int fd = s.release(ec);
    if (ec) throw ConnectError("socket: " + ec.message());
    try {
      auto stream = std::make_unique<TlsStream>(fd, *ctx, address.host, address.original, resume);
      return Connection::from_tls(std::move(stream));
    } catch (const ConnectError&) {
      // A daemon may refuse resumption outright (OpenSSL servers that verify clients without
      // a session id context): retry once with a full handshake and stop offering sessions.
      if (!resume || ctx->resumed_count() > 0 || ctx->handshakes() == 0) throw;
      ctx->disable_resumption();
    }
  }
  throw ConnectError("unreachable");
}

}  // namespace berth::cli
