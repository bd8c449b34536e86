// The CLI's TLS client against an in-process OpenSSL server on 127.0.0.1 (no root, no berthd):
// verification against the CA and the dialed IP, session resumption between the connections
// of one command, the hijack relay's bytes and half-closes, and the clear-text refusal.
// Certificates are made here with the OpenSSL API (EC P-256, valid for a day).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cli/client/dialer.hpp"
#include "cli/client/tls_relay.hpp"

using namespace berth::cli;
namespace fs = std::filesystem;

namespace {

struct KeyCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

EVP_PKEY* new_key() { return EVP_EC_gen("P-256"); }

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `cn`, signed by `issuer` (self-signed when null), with extensions.
KeyCert make_cert(const char* cn, const KeyCert* issuer,
                  std::vector<std::pair<int, const char*>> exts) {
  static long serial = 1;
  KeyCert kc;
  kc.key = new_key();
  kc.cert = X509_new();
  X509_set_version(kc.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(kc.cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(kc.cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(kc.cert), 86400);
  X509_set_pubkey(kc.cert, kc.key);
  X509_NAME* name = X509_get_subject_name(kc.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(kc.cert, issuer ? X509_get_subject_name(issuer->cert) : name);
  for (auto& [nid, value] : exts) add_ext(kc.cert, issuer ? issuer->cert : kc.cert, nid, value);
  X509_sign(kc.cert, issuer ? issuer->key : kc.key, EVP_sha256());
  return kc;
}

void write_pem(const fs::path& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  if (cert) PEM_write_X509(f, cert);
  if (key) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

// An echo server with mutual TLS: each connection gets its bytes back; at the client's EOF
// (close_notify or FIN) it writes "<EOF>" and closes.
class EchoServer {
 public:
  EchoServer(const fs::path& dir) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_file(ctx_, (dir / "server.pem").c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx_, (dir / "server-key.pem").c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_load_verify_locations(ctx_, (dir / "ca.pem").c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    static const unsigned char id[] = "test";
    SSL_CTX_set_session_id_context(ctx_, id, sizeof id - 1);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~EchoServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    for (auto& t : workers_) t.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      workers_.emplace_back([this, c] {
        SSL* ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) == 1) {
          char buf[4096];
          int n;
          while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) SSL_write(ssl, buf, n);
          SSL_write(ssl, "<EOF>", 5);
          SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        ::close(c);
      });
    }
  }
  SSL_CTX* ctx_;
  int fd_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

class TlsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-tls-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    KeyCert ca = make_cert(
        "test-ca", nullptr,
        {{NID_basic_constraints, "critical,CA:TRUE"}, {NID_key_usage, "critical,keyCertSign"}});
    KeyCert server =
        make_cert("127.0.0.1", &ca,
                  {{NID_subject_alt_name, "IP:127.0.0.1"}, {NID_ext_key_usage, "serverAuth"}});
    KeyCert client = make_cert("client", &ca, {{NID_ext_key_usage, "clientAuth"}});
    KeyCert other = make_cert("other-ca", nullptr, {{NID_basic_constraints, "critical,CA:TRUE"}});
    write_pem(dir_ / "ca.pem", ca.cert, nullptr);
    write_pem(dir_ / "server.pem", server.cert, nullptr);
    write_pem(dir_ / "server-key.pem", nullptr, server.key);
    write_pem(dir_ / "cert.pem", client.cert, nullptr);
    write_pem(dir_ / "key.pem", nullptr, client.key);
    write_pem(dir_ / "other-ca.pem", other.cert, nullptr);
    for (KeyCert* k : {&ca, &server, &client, &other}) {
      X509_free(k->cert);
      EVP_PKEY_free(k->key);
    }
    server_ = std::make_unique<EchoServer>(dir_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  Endpoint endpoint(const std::string& ca = "ca.pem", bool client_cert = true) {
    Endpoint ep;
    ep.address = Address::parse("tcp://127.0.0.1:" + std::to_string(server_->port()), true);
    ep.tls = TlsConfig{.enabled = true, .verify = true, .ca_file = dir_ / ca};
    if (client_cert) {
      ep.tls.cert_file = dir_ / "cert.pem";
      ep.tls.key_file = dir_ / "key.pem";
    }
    return ep;
  }
  static std::string read_n(Connection& c, size_t n) {
    std::string out;
    char buf[256];
    while (out.size() < n) {
      boost::system::error_code ec;
      size_t got = c.read_some(boost::asio::buffer(buf, std::min(sizeof buf, n - out.size())), ec);
      if (ec) break;
      out.append(buf, got);
    }
    return out;
  }
  fs::path dir_;
  std::unique_ptr<EchoServer> server_;
};

TEST_F(TlsClientTest, VerifiedSessionCarriesBytes) {
  Dialer dialer(endpoint());
  auto conn = dialer.dial();
  ASSERT_TRUE(conn->is_tls());
  conn->write_all("hello");
  EXPECT_EQ(read_n(*conn, 5), "hello");
}

TEST_F(TlsClientTest, LaterConnectionsResumeTheFirstSession) {
  Dialer dialer(endpoint());
  auto first = dialer.dial();
  first->write_all("x");
  EXPECT_EQ(read_n(*first, 1), "x");  // the session tickets arrive with the first answer
  auto second = dialer.dial();
  second->write_all("y");
  EXPECT_EQ(read_n(*second, 1), "y");
  EXPECT_TRUE(second->tls()->resumed());
  EXPECT_EQ(dialer.tls_handshakes(), std::make_pair(2, 1));
}

TEST_F(TlsClientTest, RelayedHijackPassesBytesAndHalfCloses) {
  Dialer dialer(endpoint());
  auto relayed = relay_hijacked_tls(dialer.dial());
  ASSERT_FALSE(relayed->is_tls());
  int fd = relayed->native_handle();
  std::string big(200000, 'z');  // more than one TLS record and socket buffer
  std::thread writer([&] {
    ASSERT_EQ(::send(fd, big.data(), big.size(), MSG_NOSIGNAL), static_cast<ssize_t>(big.size()));
    ::shutdown(fd, SHUT_WR);  // stdin EOF: the daemon (here: the echo) must see it
  });
  std::string got;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  writer.join();
  EXPECT_EQ(got, big + "<EOF>");  // everything echoed, then the far side's EOF reached us
  relayed->close();
}

TEST_F(TlsClientTest, DaemonFromAnotherCaIsNotTrusted) {
  Dialer dialer(endpoint("other-ca.pem"));
  try {
    dialer.dial();
    FAIL() << "expected a refusal";
  } catch (const ConnectError& e) {
    EXPECT_TRUE(e.self_explanatory());
    EXPECT_NE(std::string(e.what()).find("does not trust"), std::string::npos) << e.what();
  }
}

TEST_F(TlsClientTest, DaemonNameMustMatchTheAddressDialed) {
  // Same daemon, reached as "localhost": its certificate names only the IP 127.0.0.1.
  Endpoint ep = endpoint();
  ep.address = Address::parse("tcp://localhost:" + std::to_string(server_->port()), true);
  Dialer dialer(ep);
  try {
    dialer.dial();
    FAIL() << "expected a refusal";
  } catch (const ConnectError& e) {
    EXPECT_NE(std::string(e.what()).find("mismatch"), std::string::npos) << e.what();
  }
}

TEST_F(TlsClientTest, MissingClientCertificateIsExplained) {
  Dialer dialer(endpoint("ca.pem", false));
  try {
    auto conn = dialer.dial();  // TLS 1.3: the refusal comes with the first read
    conn->write_all("x");
    char c;
    boost::system::error_code ec;
    conn->read_some(boost::asio::buffer(&c, 1), ec);
    ASSERT_TRUE(ec);
    throw conn->failure("reading", ec);
  } catch (const ConnectError& e) {
    EXPECT_TRUE(e.self_explanatory()) << e.what();
    EXPECT_NE(std::string(e.what()).find("no client certificate was sent"), std::string::npos)
        << e.what();
  }
}

TEST(ClearTextTcp, RefusedOffLoopbackBeforeAnyConnection) {
  Endpoint ep;
  ep.address = Address::parse("tcp://192.0.2.1:2375");  // TEST-NET-1: nothing answers there
  Dialer dialer(ep);
  try {
    dialer.dial();
    FAIL() << "expected a refusal";
  } catch (const ConnectError& e) {
    EXPECT_TRUE(e.self_explanatory());
    EXPECT_NE(std::string(e.what()).find("in clear text"), std::string::npos);
  }
}

}  // namespace
