// berth-registry's config file in YAML and in JSON: the same keys land in the same settings,
// and every bad value is refused with a message naming the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "registry/config.hpp"
#include "registry/config_yaml.hpp"

namespace berth::registry {
namespace {

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("berth-registry-config-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  // The error message of loading `text` (YAML) into a default config; "" when it loads.
  std::string yaml_error(const std::string& text) {
    RegistryConfig config;
    auto st = load_config_file(write("bad.yaml", text), config);
    return st ? std::string() : st.error().message;
  }

  std::filesystem::path dir_;
};

constexpr const char* kFullYaml = R"(# every key
listen: 127.0.0.1:5001
root: /srv/registry
threads: 8
log_level: debug
read_only: true
limits:
  max_manifest_bytes: 8388608
  max_upload_bytes: 1073741824
  upload_lifetime: 2h
  max_requests_in_flight: 100
gc:
  interval: 15m
  grace_period: 3600
  delete_untagged: yes-not-a-bool-here-is-not-used
tls: {cert: server.pem, key: server.key}
auth:
  mode: basic
  htpasswd: /etc/berth-registry/htpasswd
  realm: "Berth"
  token_ttl: 5m
  access:
    - repository: "team/*"
      users: [alice]
      actions: [pull, push, delete]
    - {repository: "*", users: [anonymous], actions: [pull]}
)";

TEST_F(ConfigFile, YamlAndJsonGiveTheSameSettings) {
  std::string yaml = kFullYaml;
  yaml.replace(yaml.find("yes-not-a-bool-here-is-not-used"), 31, "true");
  RegistryConfig from_yaml;
  auto st = load_config_file(write("registry.yaml", yaml), from_yaml);
  ASSERT_TRUE(st) << st.error().message;

  RegistryConfig from_json;
  st = load_config_file(write("registry.json", R"({
    "listen": "127.0.0.1:5001", "root": "/srv/registry", "threads": 8, "log_level": "debug",
    "read_only": true,
    "limits": {"max_manifest_bytes": 8388608, "max_upload_bytes": 1073741824,
               "upload_lifetime": "2h", "max_requests_in_flight": 100},
    "gc": {"interval": "15m", "grace_period": 3600, "delete_untagged": true},
    "tls": {"cert": "server.pem", "key": "server.key"},
    "auth": {"mode": "basic", "htpasswd": "/etc/berth-registry/htpasswd", "realm": "Berth",
             "token_ttl": "5m",
             "access": [{"repository": "team/*", "users": ["alice"],
                         "actions": ["pull", "push", "delete"]},
                        {"repository": "*", "users": ["anonymous"], "actions": ["pull"]}]}})"),
                         from_json);
  ASSERT_TRUE(st) << st.error().message;

  for (const RegistryConfig* c : {&from_yaml, &from_json}) {
    EXPECT_EQ(c->listen, "127.0.0.1:5001");
    EXPECT_EQ(c->root, "/srv/registry");
    EXPECT_EQ(c->threads, 8u);
    EXPECT_EQ(c->log_level, "debug");
    EXPECT_TRUE(c->read_only);
    EXPECT_EQ(c->max_manifest_bytes, 8388608u);
    EXPECT_EQ(c->max_upload_bytes, 1073741824u);
    EXPECT_EQ(c->upload_lifetime, std::chrono::hours(2));
    EXPECT_EQ(c->max_requests_in_flight, 100u);
    EXPECT_EQ(c->gc_interval, std::chrono::minutes(15));
    EXPECT_EQ(c->gc_grace_period, std::chrono::seconds(3600));
    EXPECT_TRUE(c->gc_delete_untagged);
    EXPECT_EQ(c->tls.cert, "server.pem");
    EXPECT_EQ(c->tls.key, "server.key");
    EXPECT_EQ(c->auth.mode, auth::AuthMode::kBasic);
    EXPECT_EQ(c->auth.htpasswd_path, "/etc/berth-registry/htpasswd");
    EXPECT_EQ(c->auth.realm, "Berth");
    EXPECT_EQ(c->auth.token_ttl, std::chrono::minutes(5));
  }
}

TEST_F(ConfigFile, FormatFollowsTheExtensionThenTheContent) {
  EXPECT_TRUE(looks_like_yaml("a.yaml", "{}"));
  EXPECT_TRUE(looks_like_yaml("a.yml", "{}"));
  EXPECT_FALSE(looks_like_yaml("a.json", "root: x"));
  EXPECT_FALSE(looks_like_yaml("config", "  {\"root\": \"x\"}"));
  EXPECT_TRUE(looks_like_yaml("config", "root: x\n"));
  RegistryConfig config;
  ASSERT_TRUE(load_config_file(write("noext", "root: /r\nthreads: 2\n"), config));
  EXPECT_EQ(config.root, "/r");
  EXPECT_EQ(config.threads, 2u);
}

TEST_F(ConfigFile, QuotedYamlValuesStayText) {
  auto v = yaml_to_json("a: '3600'\nb: 3600\nc: \"true\"\nd: true\ne: ~\nf: !!str 12\n", "f");
  ASSERT_TRUE(v) << v.error().message;
  const auto& o = v->as_object();
  EXPECT_TRUE(o.at("a").is_string());
  EXPECT_EQ(o.at("b").as_int64(), 3600);
  EXPECT_TRUE(o.at("c").is_string());
  EXPECT_TRUE(o.at("d").as_bool());
  EXPECT_TRUE(o.at("e").is_null());
  EXPECT_TRUE(o.at("f").is_string());
  // A string where a number is wanted is refused, naming the key.
  EXPECT_NE(yaml_error("threads: '4'\n").find("threads: must be a whole number"),
            std::string::npos);
}

TEST_F(ConfigFile, EveryBadYamlValueNamesItsKey) {
  struct Case {
    const char* yaml;
    const char* key;
  } cases[] = {
      {"listen: [a, b]\n", "listen: must be a string"},
      {"root: {a: 1}\n", "root: must be a string"},
      {"threads: 0\n", "threads: must be a whole number from 1 to 256"},
      {"threads: 2.5\n", "threads: must be a whole number"},
      {"log_level: 3\n", "log_level: must be a string"},
      {"read_only: maybe\n", "read_only: must be true or false"},
      {"limits: 5\n", "limits: must be an object"},
      {"limits:\n  max_manifest_bytes: -1\n", "limits.max_manifest_bytes: must be a whole number"},
      {"limits:\n  max_upload_bytes: 1GB\n", "limits.max_upload_bytes: must be a whole number"},
      {"limits:\n  max_requests_in_flight: lots\n", "limits.max_requests_in_flight: must be"},
      {"limits:\n  upload_lifetime: 1 week\n", "limits.upload_lifetime: must be a duration"},
      {"limits:\n  upload_lifetim: 1h\n", "limits.upload_lifetim: unknown key"},
      {"gc:\n  interval: soon\n", "gc.interval: must be a duration"},
      {"gc:\n  grace_period: -5\n", "gc.grace_period: must be a duration"},
      {"gc:\n  delete_untagged: 1\n", "gc.delete_untagged: must be true or false"},
      {"tls: yes\n", "tls: must be an object"},
      {"tls:\n  cert: 5\n", "tls.cert: must be a string"},
      {"tls:\n  ca: x\n", "tls.ca: unknown key"},
      {"auth:\n  mode: ldap\n", "auth.mode: must be \"none\", \"basic\" or \"token\""},
      {"auth:\n  token_ttl: forever\n", "auth.token_ttl: must be a duration"},
      {"auth:\n  secret_file: /nonexistent/secret\n", "auth.secret_file: must name a readable file"},
      {"auth:\n  access: 7\n", "auth.access"},
      {"lisen: 127.0.0.1:5000\n", "lisen: unknown key"},
      {"root: /a\nroot: /b\n", "root: is given twice"},
      {"gc:\n  interval: 1h\n  interval: 2h\n", "gc.interval: is given twice"},
  };
  for (const auto& c : cases) {
    std::string message = yaml_error(c.yaml);
    EXPECT_NE(message.find(std::string(c.key)), std::string::npos)
        << "YAML:\n" << c.yaml << "message: " << message;
    EXPECT_NE(message.find("bad.yaml"), std::string::npos) << message;
  }
}

TEST_F(ConfigFile, MalformedFilesSayWhere) {
  std::string message = yaml_error("root: /r\nlimits:\n  a: [1, 2\n");
  EXPECT_NE(message.find("not valid YAML (line"), std::string::npos) << message;
  EXPECT_NE(yaml_error("- a\n- b\n").find("not a YAML mapping"), std::string::npos);
  RegistryConfig config;
  auto st = load_config_file(write("bad.json", "{\"root\": "), config);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("not a JSON object"), std::string::npos);
  st = load_config_file((dir_ / "missing.yaml").string(), config);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("cannot read it"), std::string::npos);
}

TEST_F(ConfigFile, MergedSettingsAreCheckedByKey) {
  // validate_config names keys the flags can set too (after file and flags are merged).
  RegistryConfig config;
  config.root = "/r";
  config.listen = "127.0.0.1";
  auto st = validate_config(config);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message.rfind("listen:", 0), 0u) << st.error().message;
}

}  // namespace
}  // namespace berth::registry
