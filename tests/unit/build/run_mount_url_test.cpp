// RUN --mount option parsing and ADD <url>'s HTTP fetch against an in-process loopback server, and
// its HTTPS fetch against python3's http.server over TLS with certificates made by openssl.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/build/run_mount.hpp"
#include "core/build/url_fetch.hpp"

using namespace berth::core::build;

namespace {

TEST(RunMount, BindFromAStageAndCacheDefaults) {
  auto m = parse_run_mount("type=bind,from=tools,source=/out,target=/mnt/out", 3);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->type, "bind");
  EXPECT_EQ(m->from, "tools");
  EXPECT_EQ(m->source, "/out");
  EXPECT_TRUE(m->readonly);
  auto c = parse_run_mount("type=cache,target=/root/.cache,id=pip", 4);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->readonly);  // a cache is written to
}

TEST(RunMount, SecretsSshAndUnknownKeysAreRefusedNamingTheLine) {
  for (const char* spec : {"type=secret,id=tok,env=TOKEN", "type=ssh"}) {
    auto m = parse_run_mount(spec, 7);
    ASSERT_FALSE(m) << spec;
    EXPECT_NE(m.error().message.find("Dockerfile line 7"), std::string::npos) << m.error().message;
    EXPECT_NE(m.error().message.find("is not supported by this berthd"), std::string::npos) << m.error().message;
  }
  auto unknown = parse_run_mount("type=bind,target=/x,colour=blue", 2);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown key \"colour\""), std::string::npos);
  EXPECT_FALSE(parse_run_mount("type=cache,from=tools,target=/x", 2));
  EXPECT_FALSE(parse_run_mount("type=bind,target=relative", 2));
}

TEST(HttpUrl, PartsAndRefusals) {
  auto u = parse_http_url("http://127.0.0.1:8080/a/b.txt?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->path, "/a/b.txt?x=1");
  auto v6 = parse_http_url("http://[::1]/f");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "80");
  auto bare = parse_http_url("http://127.0.0.1");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/");
  auto tls = parse_http_url("https://127.0.0.1/f");
  ASSERT_TRUE(tls);
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->port, "443");
  EXPECT_FALSE(u->tls);
  EXPECT_FALSE(parse_http_url("ftp://127.0.0.1/f"));
  EXPECT_FALSE(parse_http_url("http://127.0.0.1:port/f"));
  EXPECT_FALSE(parse_http_url("http://user:pw@127.0.0.1/f"));
}

// Answers each connection with the next canned response.
class CannedServer {
 public:
  explicit CannedServer(std::vector<std::string> answers) : answers_(std::move(answers)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 4);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (const auto& answer : answers_) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = ::recv(c, buf, sizeof(buf), 0);
          if (n <= 0) break;
          request.append(buf, static_cast<size_t>(n));
        }
        requests.push_back(request);
        (void)::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~CannedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::vector<std::string> requests;

 private:
  std::vector<std::string> answers_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(FetchUrl, FollowsARedirectAndKeepsNameModeAndLastModified) {
  auto dir = std::filesystem::temp_directory_path() / ("berth-url-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  CannedServer server({"HTTP/1.0 301 Moved\r\nLocation: /real/data.txt\r\n\r\n",
                       "HTTP/1.0 200 OK\r\nContent-Length: 6\r\nLast-Modified: Tue, 15 Nov 1994 08:12:31 GMT\r\n\r\nhello\n"});
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/old";
  auto got = fetch_url(url, (dir / "f").string(), 0, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->name, "data.txt");
  EXPECT_EQ(got->size, 6);
  EXPECT_EQ(got->mtime, 784887151);
  EXPECT_EQ(read_file(dir / "f"), "hello\n");
  struct stat st{};
  ASSERT_EQ(::stat((dir / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(server.requests.size(), 2u);
  EXPECT_EQ(server.requests[1].rfind("GET /real/data.txt HTTP/1.0\r\n", 0), 0u) << server.requests[1];
  std::filesystem::remove_all(dir);
}

TEST(FetchUrl, StatusShortBodyAndRefusedConnectionAreClearErrors) {
  auto dir = std::filesystem::temp_directory_path() / ("berth-url-test2-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    CannedServer server({"HTTP/1.0 404 Not Found\r\n\r\n", "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort"});
    std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    auto missing = fetch_url(base + "/x", (dir / "x").string(), 0, {});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("the server answered 404 Not Found"), std::string::npos) << missing.error().message;
    auto cut = fetch_url(base + "/y", (dir / "y").string(), 0, {});
    ASSERT_FALSE(cut);
    EXPECT_NE(cut.error().message.find("ended after 5 of 10 bytes"), std::string::npos) << cut.error().message;
  }
  // A port nothing listens on (bound, then closed).
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(s);
  auto refused = fetch_url("http://127.0.0.1:" + std::to_string(port) + "/z", (dir / "z").string(), 0, {});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << refused.error().message;
  std::filesystem::remove_all(dir);
}

// A CA, and certificates it signs, made with the openssl CLI in `dir`; python3's http.server
// serves `dir/www` over TLS with one of them.
struct TestPki {
  std::filesystem::path dir;

  static bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

  bool make_ca(const std::string& name) {
    return run("cd '" + dir.string() + "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
               "-keyout " + name + ".key -out " + name + ".crt -subj /CN=" + name + " -days 2 >/dev/null 2>&1");
  }
  // A server certificate for `san` ("IP:127.0.0.1", "DNS:other.example") signed by `ca`.
  bool make_server(const std::string& name, const std::string& ca, const std::string& san) {
    std::ofstream(dir / (name + ".ext")) << "subjectAltName=" << san << "\n";
    return run("cd '" + dir.string() + "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
               "-keyout " + name + ".key -out " + name + ".csr -subj /CN=" + name + " >/dev/null 2>&1 && "
               "openssl x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca + ".key -CAcreateserial "
               "-out " + name + ".crt -days 2 -extfile " + name + ".ext >/dev/null 2>&1");
  }
};

class TlsFileServer {
 public:
  TlsFileServer(const std::filesystem::path& dir, const std::string& cert) {
    std::filesystem::path port_file = dir / (cert + ".port");
    pid_ = ::fork();
    if (pid_ == 0) {
      const char* script =
          "import functools, http.server, os, ssl, sys\n"
          "d = sys.argv[1]\n"
          "h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=os.path.join(d, 'www'))\n"
          "s = http.server.HTTPServer(('127.0.0.1', 0), h)\n"
          "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
          "c.load_cert_chain(os.path.join(d, sys.argv[2] + '.crt'), os.path.join(d, sys.argv[2] + '.key'))\n"
          "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
          "open(sys.argv[3] + '.tmp', 'w').write(str(s.server_port))\n"
          "os.rename(sys.argv[3] + '.tmp', sys.argv[3])\n"
          "s.serve_forever()\n";
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execlp("python3", "python3", "-c", script, dir.c_str(), cert.c_str(), port_file.c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::ifstream(port_file) >> port_;
  }
  ~TlsFileServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST(FetchUrl, HttpsVerifiesTheServerAgainstTheCaStoreAndItsAddress) {
  auto dir = std::filesystem::temp_directory_path() / ("berth-url-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "www");
  std::ofstream(dir / "www" / "file.txt") << "over tls\n";
  TestPki pki{dir};
  ASSERT_TRUE(pki.make_ca("ca") && pki.make_ca("otherca")) << "openssl could not make the test CAs";
  ASSERT_TRUE(pki.make_server("good", "ca", "IP:127.0.0.1"));
  ASSERT_TRUE(pki.make_server("wrongname", "ca", "DNS:other.example"));
  TlsFileServer good(dir, "good");
  TlsFileServer wrongname(dir, "wrongname");
  ASSERT_GT(good.port(), 0) << "python3's TLS server did not start";
  ASSERT_GT(wrongname.port(), 0);
  std::string url = "https://127.0.0.1:" + std::to_string(good.port()) + "/file.txt";

  // OpenSSL's default paths honour SSL_CERT_FILE: the test's CA stands in for the system's.
  ::setenv("SSL_CERT_FILE", (dir / "ca.crt").c_str(), 1);
  auto got = fetch_url(url, (dir / "got").string(), 0, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->name, "file.txt");
  EXPECT_EQ(read_file(dir / "got"), "over tls\n");

  auto mismatch = fetch_url("https://127.0.0.1:" + std::to_string(wrongname.port()) + "/file.txt",
                            (dir / "mismatch").string(), 0, {});
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("certificate verify failed"), std::string::npos) << mismatch.error().message;

  ::setenv("SSL_CERT_FILE", (dir / "otherca.crt").c_str(), 1);
  auto untrusted = fetch_url(url, (dir / "untrusted").string(), 0, {});
  ::unsetenv("SSL_CERT_FILE");
  ASSERT_FALSE(untrusted);
  EXPECT_NE(untrusted.error().message.find("TLS handshake with 127.0.0.1"), std::string::npos) << untrusted.error().message;
  EXPECT_NE(untrusted.error().message.find("certificate verify failed"), std::string::npos) << untrusted.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir / "untrusted")) << "nothing is written from an unverified server";
  std::filesystem::remove_all(dir);
}

}  // namespace
