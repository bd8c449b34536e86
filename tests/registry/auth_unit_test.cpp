// The registry's auth pieces: htpasswd parsing and bcrypt checks, access rules, scopes and
// the HS256 tokens it signs and verifies.
#include <gtest/gtest.h>

#include "registry/auth/access.hpp"
#include "registry/auth/htpasswd.hpp"
#include "registry/auth/token.hpp"
#include "registry/config.hpp"

#include <boost/json/parse.hpp>

namespace berth::registry::auth {
namespace {

// htpasswd -B -b -C 5 -n alice secret
constexpr const char* kAlice = "alice:$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a\n";

TEST(Htpasswd, VerifiesBcrypt) {
  auto users = Htpasswd::parse(std::string("# comment\n\n") + kAlice, "test");
  ASSERT_TRUE(users) << users.error().message;
  EXPECT_EQ(users->size(), 1u);
  EXPECT_TRUE(users->verify("alice", "secret"));
  EXPECT_FALSE(users->verify("alice", "Secret"));
  EXPECT_FALSE(users->verify("alice", ""));
  EXPECT_FALSE(users->verify("bob", "secret"));
}

TEST(Htpasswd, RefusesWeakAndMalformedLines) {
  auto md5 = Htpasswd::parse("bob:$apr1$abc$def\n", "f");
  ASSERT_FALSE(md5);
  EXPECT_NE(md5.error().message.find("f line 1"), std::string::npos);
  EXPECT_NE(md5.error().message.find("htpasswd -B"), std::string::npos);
  EXPECT_FALSE(Htpasswd::parse("no colon here\n", "f"));
  EXPECT_FALSE(Htpasswd::parse(":$2y$05$x\n", "f"));
}

TEST(AccessRules, DefaultsAndMatching) {
  AccessRules none;
  EXPECT_EQ(none.allowed("alice", "x").size(), 3u);
  EXPECT_TRUE(none.allowed("", "x").empty());

  auto rules = AccessRules::from_json(boost::json::parse(R"([
    {"repository": "team/*", "users": ["alice"], "actions": ["pull", "push"]},
    {"repository": "*", "users": ["*"], "actions": ["pull"]},
    {"repository": "pub", "users": ["anonymous"], "actions": ["pull"]}])"), "auth.access");
  ASSERT_TRUE(rules) << rules.error().message;
  EXPECT_EQ(rules->allowed("alice", "team/app"), (std::set<std::string>{"pull", "push"}));
  EXPECT_EQ(rules->allowed("bob", "team/app"), (std::set<std::string>{"pull"}));
  EXPECT_TRUE(rules->allowed("alice", "teamx").count("pull"));
  EXPECT_FALSE(rules->allowed("alice", "teamx").count("push"));
  EXPECT_TRUE(rules->allowed("", "pub").count("pull"));
  EXPECT_TRUE(rules->allowed("", "team/app").empty());
}

TEST(AccessRules, ErrorsNameTheEntry) {
  auto bad = AccessRules::from_json(
      boost::json::parse(R"([{"repository": "x", "users": ["a"], "actions": ["write"]}])"),
      "auth.access");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("auth.access[0]: actions"), std::string::npos);
  EXPECT_FALSE(AccessRules::from_json(boost::json::parse(R"({})"), "auth.access"));
  EXPECT_FALSE(AccessRules::from_json(boost::json::parse(R"([{"repository": "x", "users": []}])"),
                                      "auth.access"));
}

TEST(Token, Scopes) {
  auto g = parse_scope("repository:team/app:pull,push");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->type, "repository");
  EXPECT_EQ(g->name, "team/app");
  EXPECT_EQ(g->actions, (std::set<std::string>{"pull", "push"}));
  EXPECT_EQ(scope_string(*g), "repository:team/app:pull,push");
  EXPECT_EQ(parse_scope("registry:catalog:*")->name, "catalog");
  EXPECT_FALSE(parse_scope("repository"));
  EXPECT_FALSE(parse_scope("repository:pull"));
}

TEST(Token, SignsAndVerifies) {
  TokenSigner signer(std::string(32, 'k'), "issuer", "svc");
  std::string token = signer.issue("alice", {{"repository", "a/b", {"pull"}}},
                                   std::chrono::seconds(60), 1000);
  auto claims = signer.verify(token, 1010);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->subject, "alice");
  ASSERT_EQ(claims->access.size(), 1u);
  EXPECT_EQ(claims->access[0].name, "a/b");
  EXPECT_EQ(claims->expires_at, 1060);

  EXPECT_FALSE(signer.verify(token, 1061));  // expired
  TokenSigner other_key(std::string(32, 'x'), "issuer", "svc");
  EXPECT_FALSE(other_key.verify(token, 1010));
  TokenSigner other_service(std::string(32, 'k'), "issuer", "other");
  EXPECT_FALSE(other_service.verify(token, 1010));
  std::string tampered = token;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_FALSE(signer.verify(tampered, 1010));
  EXPECT_FALSE(signer.verify("garbage", 1010));
}

TEST(Base64, RoundTrips) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\xff\x00\xfe", 3)}) {
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
  }
  EXPECT_EQ(base64_decode("YWxpY2U6c2VjcmV0"), "alice:secret");
  EXPECT_EQ(base64_decode("YQ=="), "a");
  EXPECT_FALSE(base64_decode("!!!"));
}

TEST(Config, Durations) {
  EXPECT_EQ(parse_duration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(parse_duration("15m"), std::chrono::seconds(900));
  EXPECT_EQ(parse_duration("24h"), std::chrono::seconds(86400));
  EXPECT_EQ(parse_duration("2d"), std::chrono::seconds(172800));
  EXPECT_EQ(parse_duration("42"), std::chrono::seconds(42));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("h"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("1.5h"));
}

}  // namespace
}  // namespace berth::registry::auth
