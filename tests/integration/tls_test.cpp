// berthd on TCP with mutual TLS: a client certificate signed by the configured CA gets in, a
// client without one (or with another CA's) is refused, and the docker CLI speaks to it with
// --tlsverify.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/berthd_process.hpp"

using namespace berth::testing;
namespace fs = std::filesystem;

namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "integration tests run berthd as root";
    if (!fs::exists("/usr/bin/openssl") || !fs::exists("/usr/bin/curl")) {
      GTEST_SKIP() << "needs the openssl and curl commands (scripts/install-deps.sh installs them)";
    }
    certs_ = dir_.path() / "certs";
    fs::create_directories(certs_);
    // A CA, a server certificate for 127.0.0.1, a client certificate; and a second, foreign CA.
    std::string c = certs_.string();
    std::string script =
        "set -e; cd " + c + "\n"
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=berth-test-ca -keyout ca-key.pem -out ca.pem 2>/dev/null\n"
        "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr 2>/dev/null\n"
        "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext\n"
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 1 -extfile server.ext -out server.pem 2>/dev/null\n"
        "openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout key.pem -out client.csr 2>/dev/null\n"
        "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n"
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 1 -extfile client.ext -out cert.pem 2>/dev/null\n"
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca -keyout other-key.pem -out other.pem 2>/dev/null\n";
    auto r = run_command({"/bin/sh", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    port_ = free_port();
    BerthdOptions o;
    o.config_json = R"({"tlsverify": true, "tlscacert": ")" + c + R"(/ca.pem", "tlscert": ")" + c +
                    R"(/server.pem", "tlskey": ")" + c + R"(/server-key.pem"})";
    o.args = {"--host", "tcp://127.0.0.1:" + std::to_string(port_)};
    ASSERT_TRUE(d_.start(o)) << d_.log();
  }
  std::string url(const std::string& path) { return "https://127.0.0.1:" + std::to_string(port_) + path; }

  TempDir dir_{"berth-tls"};
  BerthdProcess d_{dir_.path()};
  fs::path certs_;
  int port_ = 0;
};

TEST_F(TlsTest, ClientCertificateSignedByTheCaGetsIn) {
  std::string c = certs_.string();
  auto r = run_command({"/usr/bin/curl", "-sS", "--cacert", c + "/ca.pem", "--cert", c + "/cert.pem",
                        "--key", c + "/key.pem", url("/_ping")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK");
}

TEST_F(TlsTest, NoClientCertificateIsRefused) {
  auto r = run_command({"/usr/bin/curl", "-sS", "--cacert", certs_.string() + "/ca.pem", url("/_ping")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out, "OK");
  // The daemon survives the refused handshake.
  std::string c = certs_.string();
  auto ok = run_command({"/usr/bin/curl", "-sS", "--cacert", c + "/ca.pem", "--cert", c + "/cert.pem",
                         "--key", c + "/key.pem", url("/version")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(TlsTest, CertificateFromAnotherCaIsRefused) {
  std::string c = certs_.string();
  auto r = run_command({"/usr/bin/curl", "-sS", "--cacert", c + "/ca.pem", "--cert", c + "/other.pem",
                        "--key", c + "/other-key.pem", url("/_ping")});
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(TlsTest, DockerCliWithTlsverify) {
  auto docker = fs::exists("/usr/local/bin/docker") ? "/usr/local/bin/docker"
                : fs::exists("/usr/bin/docker")     ? "/usr/bin/docker"
                                                    : "";
  if (std::string(docker).empty()) GTEST_SKIP() << "no docker CLI";
  std::string c = certs_.string();
  auto r = run_command({docker, "--tlsverify", "--tlscacert", c + "/ca.pem", "--tlscert", c + "/cert.pem",
                        "--tlskey", c + "/key.pem", "-H", "tcp://127.0.0.1:" + std::to_string(port_),
                        "version", "--format", "{{.Server.APIVersion}}"},
                       "", {{"DOCKER_CONFIG", dir_.path().string()}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1.41\n");
}

}  // namespace
