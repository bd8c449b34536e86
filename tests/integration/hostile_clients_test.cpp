// Hostile and unlucky clients against a real berthd: headers too big for Beast's field storage,
// clients that send one byte a second, bodies shorter than announced, more connections than
// allowed. berthd must answer each with a status and keep answering everyone else, while long
// streams (events, attach, logs -f, wait) stay open as long as they like.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/support/berthd_process.hpp"

using namespace berth::testing;
using Clock = std::chrono::steady_clock;

namespace {

class HostileClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "integration tests run berthd as root";
  }
  void start(const std::string& config_json = "") {
    BerthdOptions o;
    o.config_json = config_json;
    ASSERT_TRUE(d_.start(o)) << d_.log();
  }
  // Milliseconds a /_ping takes on a fresh connection, or -1 when it fails.
  double ping_ms() {
    auto t0 = Clock::now();
    auto r = d_.client().get("/_ping");
    if (!r || r->status != 200 || r->body != "OK") return -1;
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }
  static bool closed_by_peer(int fd, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[4096];
    while (Clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

  TempDir dir_{"berth-hostile"};
  BerthdProcess d_{dir_.path()};
};

TEST_F(HostileClientsTest, HeaderValueOver64KiBIsRefusedWith431AndBerthdLives) {
  start();
  for (size_t size : {70000u, 65536u, 300000u}) {
    std::string req = "GET /_ping HTTP/1.1\r\nHost: x\r\nX-A: " + std::string(size, 'a') + "\r\n\r\n";
    auto out = raw_exchange(d_.socket(), req, 5000);
    ASSERT_TRUE(out) << size;
    EXPECT_EQ(out->rfind("HTTP/1.1 431 ", 0), 0u) << size << ": " << out->substr(0, 200);
    EXPECT_NE(out->find("\"message\":"), std::string::npos);
    ASSERT_TRUE(d_.running()) << "berthd died on a " << size << "-byte header\n" << d_.log();
  }
  // A header name that long too (Beast throws for names as for values).
  auto out = raw_exchange(d_.socket(), "GET /_ping HTTP/1.1\r\n" + std::string(70000, 'N') + ": 1\r\n\r\n", 5000);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->rfind("HTTP/1.1 431 ", 0), 0u) << out->substr(0, 200);
  EXPECT_GE(ping_ms(), 0);
  EXPECT_EQ(d_.stop(), 0);
}

TEST_F(HostileClientsTest, SlowHeadersAreCutAtTheHeaderTimeoutWhilePingStaysFast) {
  start(R"({"api-header-timeout": 2})");
  constexpr int kClients = 500;
  std::vector<berth::UniqueFd> slow;
  for (int i = 0; i < kClients; ++i) {
    auto fd = d_.client().connect();
    ASSERT_TRUE(fd) << i;
    ASSERT_EQ(::send(fd->get(), "G", 1, MSG_NOSIGNAL), 1);
    slow.push_back(std::move(*fd));
  }
  // One byte a second from each: never a whole request.
  std::vector<double> pings;
  auto started = Clock::now();
  for (int second = 0; second < 3; ++second) {
    for (auto& fd : slow) (void)::send(fd.get(), "E", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    pings.push_back(ping_ms());
    std::this_thread::sleep_for(std::chrono::milliseconds(900));
  }
  for (double ms : pings) {
    EXPECT_GE(ms, 0);
    EXPECT_LT(ms, 500) << "a ping waited behind " << kClients << " slow clients";
  }
  // Every slow client is gone by the deadline (2 s from its first byte, plus slack).
  int cut = 0;
  for (auto& fd : slow) cut += closed_by_peer(fd.get(), 3000) ? 1 : 0;
  EXPECT_EQ(cut, kClients);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - started).count(), 10.0);
  ASSERT_TRUE(d_.running()) << d_.log();
  EXPECT_GE(ping_ms(), 0);
  EXPECT_EQ(d_.stop(), 0);
}

TEST_F(HostileClientsTest, SlowHeadersGet408) {
  start(R"({"api-header-timeout": 1})");
  auto fd = d_.client().connect();
  ASSERT_TRUE(fd);
  ASSERT_EQ(::send(fd->get(), "GET /_ping HTTP/1.1\r\n", 21, MSG_NOSIGNAL), 21);
  std::string got;
  char buf[4096];
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    pollfd p{fd->get(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd->get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got.rfind("HTTP/1.1 408 ", 0), 0u) << got;
  EXPECT_NE(got.find("api-header-timeout"), std::string::npos) << got;
}

TEST_F(HostileClientsTest, ABodyShorterThanItsContentLengthIsCutAtTheBodyTimeout) {
  start(R"({"api-body-timeout": 1})");
  std::string req =
      "POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 100\r\n\r\n{\"Image\":";
  auto t0 = Clock::now();
  auto out = raw_exchange(d_.socket(), req, 10000);
  double waited = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->rfind("HTTP/1.1 408 ", 0), 0u) << *out;
  EXPECT_NE(out->find("api-body-timeout"), std::string::npos) << *out;
  EXPECT_LT(waited, 5.0);
  EXPECT_GE(ping_ms(), 0);
}

TEST_F(HostileClientsTest, IdleKeepAliveConnectionsAreClosed) {
  start(R"({"api-idle-timeout": 1})");
  auto fd = d_.client().connect();
  ASSERT_TRUE(fd);
  std::string req = "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd->get(), req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  // The answer arrives, then the connection stays open only for the idle timeout.
  char buf[4096];
  pollfd p{fd->get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  ASSERT_GT(::recv(fd->get(), buf, sizeof buf, 0), 0);
  auto t0 = Clock::now();
  EXPECT_TRUE(closed_by_peer(fd->get(), 5000));
  EXPECT_GE(std::chrono::duration<double>(Clock::now() - t0).count(), 0.5);
}

// One keep-alive exchange on an open connection; the raw answer.
std::string exchange(int fd, const std::string& request) {
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    return "";
  }
  std::string got;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 3000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got.find("\r\n\r\nOK") != std::string::npos || got.find("Connection: close") != std::string::npos) break;
  }
  return got;
}

TEST_F(HostileClientsTest, ConnectionsPastTheCapGet503AndThoseBeforeAreServed) {
  start(R"({"api-max-connections": 4})");
  const std::string ping = "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<berth::UniqueFd> held;
  // Four connections, each served once and kept open (the startup pings may still be closing:
  // a refused one is retried).
  for (int attempt = 0; held.size() < 4 && attempt < 50; ++attempt) {
    auto fd = d_.client().connect();
    ASSERT_TRUE(fd);
    std::string got = exchange(fd->get(), ping);
    if (got.rfind("HTTP/1.1 200 ", 0) == 0) {
      held.push_back(std::move(*fd));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_EQ(held.size(), 4u);
  // The fifth is answered at once, before it says anything (so read, don't write first: the
  // refused socket may already be closed).
  auto fifth = d_.client().connect();
  ASSERT_TRUE(fifth);
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fifth->get(), POLLIN, 0};
    if (::poll(&p, 1, 3000) <= 0) break;
    ssize_t n = ::recv(fifth->get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(out.rfind("HTTP/1.1 503 ", 0), 0u) << out;
  EXPECT_NE(out.find("api-max-connections"), std::string::npos) << out;
  // The held connections are still served.
  EXPECT_EQ(exchange(held[0].get(), ping).rfind("HTTP/1.1 200 ", 0), 0u);
  held.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_GE(ping_ms(), 0);
}

TEST_F(HostileClientsTest, LongStreamsOutliveEveryTimeout) {
  start(R"({"api-header-timeout": 1, "api-idle-timeout": 1, "api-body-timeout": 1})");
  auto events = d_.client().stream({"GET", "/events"});
  ASSERT_TRUE(events);
  EXPECT_EQ(events->head.status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  // Three timeouts later the stream still delivers.
  auto made = d_.client().post("/volumes/create", R"({"Name":"still-streaming"})");
  ASSERT_TRUE(made);
  ASSERT_EQ(made->status, 201) << made->body;
  auto got = events->read_until("still-streaming", 5000);
  EXPECT_TRUE(got) << (got ? "" : got.error().message);
}

}  // namespace
