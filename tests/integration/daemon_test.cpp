// berthd as a process: startup, configuration, the lock on data-root, signals, and the HTTP
// surface every client depends on (ping, version negotiation, errors, keep-alive).
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <thread>

#include "tests/support/berthd_process.hpp"

namespace json = boost::json;
using namespace berth::testing;

namespace {

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "integration tests run berthd as root";
  }
  TempDir dir_{"berth-daemon"};
};

TEST_F(DaemonTest, PingVersionAndInfoSpeakTheDockerApi) {
  BerthdProcess d(dir_.path());
  ASSERT_TRUE(d.start()) << d.log();
  auto c = d.client();

  auto head = c.request({"HEAD", "/_ping"});
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("api-version"), "1.41");
  EXPECT_EQ(head->header("ostype"), "linux");
  EXPECT_EQ(head->header("docker-experimental"), "false");
  // The docker CLI parses "Docker/<version> (<os>)" out of this header.
  EXPECT_TRUE(head->header("server").rfind("Docker/", 0) == 0) << head->header("server");
  EXPECT_NE(head->header("server").find("(linux)"), std::string::npos);

  auto ping = c.get("/_ping");
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->body, "OK");

  auto version = c.get("/v1.41/version");
  ASSERT_TRUE(version);
  ASSERT_EQ(version->status, 200);
  EXPECT_EQ(version->header("content-type"), "application/json");
  auto v = json::parse(version->body).as_object();
  EXPECT_EQ(v.at("ApiVersion").as_string(), "1.41");
  auto engine = v.at("Components").as_array().at(0).as_object();
  EXPECT_EQ(engine.at("Name").as_string(), "Engine");
  // Details must be strings only, or `docker version` fails to decode the whole answer.
  for (const auto& [k, val] : engine.at("Details").as_object()) {
    EXPECT_TRUE(val.is_string()) << "Details." << k << " is not a string";
  }

  auto info = c.get("/info");  // unversioned paths are served too
  ASSERT_TRUE(info);
  ASSERT_EQ(info->status, 200);
  auto i = json::parse(info->body).as_object();
  EXPECT_EQ(i.at("Driver").as_string(), "overlay");
  EXPECT_EQ(i.at("DockerRootDir").as_string(), d.data_root());
  EXPECT_TRUE(i.at("NCPU").is_int64());
  EXPECT_TRUE(i.at("MemTotal").is_int64());
  EXPECT_TRUE(i.at("DriverStatus").is_array());
  EXPECT_TRUE(i.at("Plugins").as_object().at("Volume").is_array());
  EXPECT_EQ(i.at("Swarm").as_object().at("LocalNodeState").as_string(), "inactive");
  EXPECT_EQ(d.stop(), 0);
}

TEST_F(DaemonTest, VersionNegotiationAndErrors) {
  BerthdProcess d(dir_.path());
  ASSERT_TRUE(d.start()) << d.log();
  auto c = d.client();
  auto too_new = c.get("/v1.99/version");
  ASSERT_TRUE(too_new);
  EXPECT_EQ(too_new->status, 400);
  EXPECT_EQ(too_new->header("content-type"), "application/json");
  EXPECT_EQ(json::parse(too_new->body).as_object().at("message").as_string(),
            "client version 1.99 is too new. Maximum supported API version is 1.41");
  auto too_old = c.get("/v1.12/version");
  ASSERT_TRUE(too_old);
  EXPECT_EQ(too_old->status, 400);
  EXPECT_NE(std::string(json::parse(too_old->body).as_object().at("message").as_string())
                .find("is too old. Minimum supported API version is 1.24"),
            std::string::npos);
  auto old_ok = c.get("/v1.24/version");
  ASSERT_TRUE(old_ok);
  EXPECT_EQ(old_ok->status, 200);

  auto missing = c.get("/v1.41/nothing/here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  // Exactly this content type, or the docker CLI prints the raw JSON.
  EXPECT_EQ(missing->header("content-type"), "application/json");
  EXPECT_EQ(json::parse(missing->body).as_object().at("message").as_string(), "page not found");

  auto no_image = c.get("/v1.41/images/nosuch:img/json");
  ASSERT_TRUE(no_image);
  EXPECT_EQ(no_image->status, 404);
  EXPECT_EQ(json::parse(no_image->body).as_object().at("message").as_string(),
            "No such image: nosuch:img");
}

TEST_F(DaemonTest, KeepAliveAndPipelinedRequestsOnOneConnection) {
  BerthdProcess d(dir_.path());
  ASSERT_TRUE(d.start()) << d.log();
  std::string two = "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\nGET /v1.41/version HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n";
  auto out = raw_exchange(d.socket(), two, 5000);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->find("HTTP/1.1 200"), 0u);
  EXPECT_NE(out->find("HTTP/1.1 200", 10), std::string::npos) << *out;
  EXPECT_NE(out->find("\"ApiVersion\":\"1.41\""), std::string::npos);
}

TEST_F(DaemonTest, MalformedRequestGetsA400AndTheDaemonLivesOn) {
  BerthdProcess d(dir_.path());
  ASSERT_TRUE(d.start()) << d.log();
  auto out = raw_exchange(d.socket(), "THIS IS NOT HTTP\r\n\r\n", 3000);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->rfind("HTTP/1.1 400", 0), 0u) << *out;
  auto ping = d.client().get("/_ping");
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 200);
}

TEST_F(DaemonTest, ManyConcurrentClients) {
  BerthdProcess d(dir_.path());
  ASSERT_TRUE(d.start()) << d.log();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      auto c = d.client();
      for (int i = 0; i < 25; ++i) {
        if (auto r = c.get("/v1.41/version"); r && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);
}

TEST_F(DaemonTest, SigtermStopsCleanlyAndRemovesTheSocket) {
  BerthdProcess d(dir_.path());
  ASSERT_TRUE(d.start()) << d.log();
  EXPECT_EQ(d.stop(SIGTERM), 0) << d.log();
  EXPECT_FALSE(std::filesystem::exists(d.socket()));
  EXPECT_NE(d.log().find("received SIGTERM, shutting down"), std::string::npos);

  BerthdProcess again(dir_.path());
  ASSERT_TRUE(again.start()) << again.log();
  EXPECT_EQ(again.stop(SIGINT), 0);
}

// The test's exec-root is on a disk filesystem: berthd puts its runtime state on a tmpfs of its
// own there, and takes it away again on a clean stop with nothing running.
TEST_F(DaemonTest, ExecRootIsATmpfsThatACleanStopUnmounts) {
  auto on_tmpfs = [](const std::string& path) {
    struct statfs st {};
    return ::statfs(path.c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
  };
  if (on_tmpfs(dir_.path())) GTEST_SKIP() << "TMPDIR is a tmpfs already: nothing to mount";
  BerthdProcess d(dir_.path());
  ASSERT_TRUE(d.start()) << d.log();
  EXPECT_TRUE(on_tmpfs(d.exec_root()));
  EXPECT_EQ(d.stop(SIGTERM), 0) << d.log();
  EXPECT_FALSE(on_tmpfs(d.exec_root()));
}

TEST_F(DaemonTest, SecondDaemonOnTheSameDataRootIsRefused) {
  BerthdProcess first(dir_.path());
  ASSERT_TRUE(first.start()) << first.log();
  TempDir other{"berth-daemon-2"};
  BerthdProcess second(other.path());
  // Same data-root as the first, its own socket.
  auto s = second.start(BerthdOptions{{"--data-root", first.data_root()}});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("another berthd (pid " + std::to_string(first.pid()) +
                                   ") is using data-root " + first.data_root()),
            std::string::npos)
      << s.error().message;
  // The first one is untouched.
  auto ping = first.client().get("/_ping");
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 200);
}

TEST_F(DaemonTest, ConfigurationErrorsNameTheKey) {
  BerthdProcess d(dir_.path());
  BerthdOptions o;
  o.config_json = R"({"data-root": "/tmp/x", "colour": "blue"})";
  auto s = d.start(o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("unknown key \"colour\""), std::string::npos) << s.error().message;

  BerthdProcess d2(dir_.path());
  o.config_json = R"({"hosts": "unix:///tmp/x.sock"})";
  s = d2.start(o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("\"hosts\" must be an array of strings"), std::string::npos)
      << s.error().message;
}

TEST_F(DaemonTest, FlagsOverrideTheConfigFile) {
  BerthdProcess d(dir_.path());
  BerthdOptions o;
  // The file says debug and another data-root; the flags (set by the harness) win for data-root.
  o.config_json = R"({"data-root": "/nonexistent/elsewhere", "log-level": "warn"})";
  ASSERT_TRUE(d.start(o)) << d.log();
  auto info = d.client().get("/info");
  ASSERT_TRUE(info);
  EXPECT_EQ(json::parse(info->body).as_object().at("DockerRootDir").as_string(), d.data_root());
  // --log-level debug from the harness beat "warn" from the file.
  EXPECT_EQ(json::parse(info->body).as_object().at("Debug").as_bool(), true);
}

TEST_F(DaemonTest, TcpWithoutClientCertificatesIsRefusedOnEveryAddress) {
  for (std::string host : {"tcp://0.0.0.0:23750", "tcp://127.0.0.1:23751"}) {
    BerthdProcess d(dir_.path());
    auto s = d.start(BerthdOptions{{"--host", host}});
    ASSERT_FALSE(s) << host;
    EXPECT_NE(s.error().message.find("refusing to serve " + host + " without client certificates"),
              std::string::npos)
        << s.error().message;
    // The refusal must not call loopback safe, and must name the explicit opt-in.
    EXPECT_EQ(s.error().message.find("use a loopback address"), std::string::npos);
    EXPECT_NE(s.error().message.find("\"tlsverify\": false"), std::string::npos);
  }
}

TEST_F(DaemonTest, UnauthenticatedTcpServesOnlyWhenOptedInAndSaysWhoCanReach) {
  BerthdProcess d(dir_.path());
  int port = 23752 + static_cast<int>(::getpid() % 1000);
  std::string host = "tcp://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(d.start(BerthdOptions{{"--host", host, "--tlsverify=false"}})) << d.log();
  EXPECT_NE(d.log().find("WITHOUT client certificates (opted in): every local user, every "
                         "--network host container can reach it"),
            std::string::npos)
      << d.log();
  EXPECT_EQ(d.stop(), 0);
}

}  // namespace
