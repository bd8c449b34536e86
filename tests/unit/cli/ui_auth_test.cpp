// berth ui's access rules: who may load the page, call the daemon, open a terminal.
#include <gtest/gtest.h>

#include "cli/ui/http_io.hpp"
#include "cli/ui/ui_auth.hpp"

namespace berth::cli::ui {
namespace {

const std::string kToken(64, 'a');
constexpr int kPort = 8123;

RequestFacts facts(std::string method, std::string path) {
  RequestFacts r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.host = "127.0.0.1:8123";
  return r;
}

TEST(UiAuth, ThePageNeedsTheUrlTokenOrItsCookie) {
  auto r = facts("GET", "/");
  EXPECT_EQ(authorize(r, kToken, kPort, "").status, 403);
  r.query_token = kToken;
  EXPECT_TRUE(authorize(r, kToken, kPort, "").allowed);
  r.query_token.clear();
  r.cookie_token = kToken;
  EXPECT_TRUE(authorize(r, kToken, kPort, "").allowed);
  r.cookie_token = std::string(64, 'b');
  EXPECT_FALSE(authorize(r, kToken, kPort, "").allowed);
}

TEST(UiAuth, DaemonCallsNeedTheHeaderNotJustTheCookie) {
  auto r = facts("POST", "/api/containers/web/stop");
  r.cookie_token = kToken;  // what a cross-site form would carry along
  auto d = authorize(r, kToken, kPort, "");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 403);
  r.header_token = kToken;
  EXPECT_TRUE(authorize(r, kToken, kPort, "").allowed);
  auto get = facts("GET", "/api/containers/json");
  EXPECT_FALSE(authorize(get, kToken, kPort, "").allowed);  // reads are secrets too (logs, env)
}

TEST(UiAuth, AnotherHostOrOriginIsRefusedWhateverItCarries) {
  auto r = facts("GET", "/api/containers/json");
  r.header_token = kToken;
  r.host = "rebound.example:8123";
  EXPECT_EQ(authorize(r, kToken, kPort, "").status, 421);
  r.host = "127.0.0.1:9999";
  EXPECT_EQ(authorize(r, kToken, kPort, "").status, 421);
  r.host = "localhost:8123";
  EXPECT_TRUE(authorize(r, kToken, kPort, "").allowed);
  r.origin = "http://evil.example";
  EXPECT_EQ(authorize(r, kToken, kPort, "").status, 403);
  r.origin = "http://127.0.0.1:8123";
  EXPECT_TRUE(authorize(r, kToken, kPort, "").allowed);
  r.origin = "http://127.0.0.1:81234";  // a longer port is another origin
  EXPECT_FALSE(authorize(r, kToken, kPort, "").allowed);
}

TEST(UiAuth, WebsocketsNeedTheTokenAndOurOrigin) {
  auto r = facts("GET", "/ws/exec/web");
  r.query_token = kToken;
  EXPECT_FALSE(authorize(r, kToken, kPort, "").allowed);  // no Origin: not a page of ours
  r.origin = "http://127.0.0.1:8123";
  EXPECT_TRUE(authorize(r, kToken, kPort, "").allowed);
  r.query_token.clear();
  EXPECT_FALSE(authorize(r, kToken, kPort, "").allowed);
}

TEST(UiAuth, AssetsAreOpenButReadOnlyAndUnknownPathsAreNotFound) {
  EXPECT_TRUE(authorize(facts("GET", "/assets/app.js"), kToken, kPort, "").allowed);
  EXPECT_EQ(authorize(facts("POST", "/assets/app.js"), kToken, kPort, "").status, 405);
  EXPECT_EQ(authorize(facts("GET", "/etc/passwd"), kToken, kPort, "").status, 404);
}

TEST(UiAuth, TokensCompareWholeAndNeverEmpty) {
  EXPECT_TRUE(tokens_equal(kToken, kToken));
  EXPECT_FALSE(tokens_equal("", ""));
  EXPECT_FALSE(tokens_equal(kToken, kToken.substr(1)));
  std::string a = new_token(), b = new_token();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(UiAuth, CookieAndQueryValues) {
  EXPECT_EQ(cookie_value("a=1; berth_ui_token=xyz; b=2", "berth_ui_token"), "xyz");
  EXPECT_EQ(cookie_value("xberth_ui_token=no", "berth_ui_token"), "");
  EXPECT_EQ(cookie_value("", "berth_ui_token"), "");
  EXPECT_EQ(query_param("token=abc&cmd=%2Fbin%2Fsh+-l", "cmd"), "/bin/sh -l");
  EXPECT_EQ(query_param("token=abc&cmd=x", "token"), "abc");
  EXPECT_EQ(query_param("xtoken=abc", "token"), "");
  EXPECT_EQ(query_param("cmd=%zz", "cmd"), "%zz");  // a bad escape stays as it was
}

}  // namespace
}  // namespace berth::cli::ui
