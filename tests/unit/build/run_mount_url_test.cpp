// RUN --mount option parsing and ADD <url>'s HTTP fetch against an in-process loopback server.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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
  ASSERT_FALSE(tls);
  EXPECT_NE(tls.error().message.find("https URLs are not supported"), std::string::npos);
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

}  // namespace
