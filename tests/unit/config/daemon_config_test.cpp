#include "core/config/daemon_config.hpp"

#include <gtest/gtest.h>

using namespace berth::core::config;

namespace {

TEST(DaemonConfig, EmptyObjectGivesTheDefaults) {
  auto c = parse_config("{}");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->data_root, "/var/lib/berth");
  EXPECT_EQ(c->exec_root, "/run/berth");
  ASSERT_EQ(c->hosts.size(), 1u);
  EXPECT_EQ(c->hosts[0], "unix:///run/berth.sock");
  EXPECT_EQ(c->storage_driver, "overlay");
  EXPECT_EQ(c->isolation_backend, "linux");
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->log_opts.max_size, 10 * 1024 * 1024);
  EXPECT_EQ(c->log_opts.max_file, 3);
}

TEST(DaemonConfig, ParsesEveryKey) {
  auto c = parse_config(R"({
    "data-root": "/srv/berth", "exec-root": "/run/b2",
    "hosts": ["unix:///run/b2.sock", "tcp://127.0.0.1:2376"],
    "plugin-dirs": ["/opt/berth/plugins"], "storage-driver": "btrfs",
    "isolation-backend": "none", "required-plugins": ["network.bridge"],
    "disabled-plugins": ["storage.overlay"], "log-level": "debug",
    "plugins": {"network.bridge": {"bridge": "b0", "mtu": 1400}},
    "log-opts": {"max-size": "5m", "max-file": "4"}, "userns-remap": "remap:grp",
    "tlsverify": true, "tlscacert": "/c/ca.pem", "tlscert": "/c/cert.pem", "tlskey": "/c/key.pem",
    "api-header-timeout": 5, "api-idle-timeout": 30, "api-body-timeout": 20,
    "api-max-connections": 100, "max-layer-size": "2g", "max-expansion-ratio": 50})",
                        "/etc/berth/daemon.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->data_root, "/srv/berth");
  EXPECT_EQ(c->hosts.size(), 2u);
  EXPECT_EQ(c->plugin_dirs[0], "/opt/berth/plugins");
  EXPECT_EQ(c->storage_driver, "btrfs");
  EXPECT_EQ(c->required_plugins[0], "network.bridge");
  EXPECT_EQ(c->disabled_plugins[0], "storage.overlay");
  EXPECT_EQ(c->plugins.at("network.bridge"), R"({"bridge":"b0","mtu":1400})");
  EXPECT_TRUE(c->tlsverify);
  EXPECT_FALSE(c->unauthenticated_tcp_opt_in);
  EXPECT_EQ(c->api_limits.header_timeout_s, 5);
  EXPECT_EQ(c->api_limits.idle_timeout_s, 30);
  EXPECT_EQ(c->api_limits.body_timeout_s, 20);
  EXPECT_EQ(c->api_limits.max_connections, 100);
  EXPECT_EQ(c->archive_limits.max_layer_size, int64_t{2} << 30);
  EXPECT_EQ(c->archive_limits.max_expansion_ratio, 50);
  EXPECT_EQ(c->log_opts.max_size, 5 * 1024 * 1024);
  EXPECT_EQ(c->log_opts.max_file, 4);
  EXPECT_EQ(c->userns_remap, "remap:grp");
  EXPECT_EQ(c->source, "/etc/berth/daemon.json");
}

struct BadCase {
  const char* json;
  const char* message;
};

class DaemonConfigErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(DaemonConfigErrors, NameTheProblem) {
  auto c = parse_config(GetParam().json, "/etc/berth/daemon.json");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, berth::ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, DaemonConfigErrors,
    ::testing::Values(
        BadCase{R"({"colour": "blue"})", "/etc/berth/daemon.json: unknown key \"colour\""},
        BadCase{R"({"data-root": 5})", "/etc/berth/daemon.json: \"data-root\" must be a string"},
        BadCase{R"({"hosts": "unix:///x"})",
                "/etc/berth/daemon.json: \"hosts\" must be an array of strings"},
        BadCase{R"({"hosts": [1]})", "/etc/berth/daemon.json: \"hosts\" must be an array of strings"},
        BadCase{R"({"data-root": "relative"})",
                "/etc/berth/daemon.json: \"data-root\" must be an absolute path, got \"relative\""},
        BadCase{R"({"hosts": ["http://x"]})",
                "/etc/berth/daemon.json: host \"http://x\": use unix:///path, tcp://address:port or fd://"},
        BadCase{R"({"hosts": ["tcp://127.0.0.1"]})",
                "/etc/berth/daemon.json: host \"tcp://127.0.0.1\": a tcp address needs a port "
                "(tcp://127.0.0.1:2376)"},
        BadCase{R"({"log-level": "chatty"})",
                "/etc/berth/daemon.json: \"log-level\" must be one of trace, debug, info, warn, "
                "error, got \"chatty\""},
        BadCase{R"({"plugins": {"storage.overlay": true}})",
                "/etc/berth/daemon.json: \"plugins\": the section of \"storage.overlay\" must be an "
                "object"},
        BadCase{R"({"log-opts": {"max-size": "lots"}})",
                "/etc/berth/daemon.json: \"log-opts\": invalid max-size \"lots\": a size such as "
                "10m, 512k or 1g"},
        BadCase{R"({"log-opts": {"max-file": "0"}})",
                "/etc/berth/daemon.json: \"log-opts\": invalid max-file \"0\": a whole number of "
                "at least 1"},
        BadCase{R"({"log-opts": {"compress": "true"}})",
                "/etc/berth/daemon.json: \"log-opts\": unknown log opt 'compress' for json-file log "
                "driver (supported: "
                "max-size, max-file)"},
        BadCase{R"({"tlsverify": true})",
                "/etc/berth/daemon.json: \"tlsverify\" needs \"tlscacert\", \"tlscert\" and "
                "\"tlskey\""},
        BadCase{R"({"hosts": ["tcp://127.0.0.1:2375"]})",
                "/etc/berth/daemon.json: refusing to serve tcp://127.0.0.1:2375 without client "
                "certificates: anyone who can connect to it, on loopback every local user and "
                "every --network host container, is root on this host. Set \"tlsverify\": true "
                "with \"tlscacert\", \"tlscert\" and \"tlskey\" (mutual TLS), or opt in to an "
                "unauthenticated API explicitly with \"tlsverify\": false (--tlsverify=false)"},
        BadCase{R"({"api-header-timeout": 0})",
                "/etc/berth/daemon.json: \"api-header-timeout\" must be a whole number from 1 to "
                "86400, got 0"},
        BadCase{R"({"api-max-connections": "many"})",
                "/etc/berth/daemon.json: \"api-max-connections\" must be a whole number from 1 "
                "to 1000000"},
        BadCase{R"({"max-layer-size": "12q"})",
                "/etc/berth/daemon.json: \"max-layer-size\" must be a size of at least 1m "
                "(\"64g\", \"500m\"), got \"12q\""},
        BadCase{R"({"max-expansion-ratio": 1.5})",
                "/etc/berth/daemon.json: \"max-expansion-ratio\" must be a whole number from 1 "
                "to 1000000"},
        BadCase{"[1,2]", "/etc/berth/daemon.json: must be a JSON object"},
        BadCase{"{nope", "/etc/berth/daemon.json: not valid JSON: syntax error"}));

TEST(DaemonConfig, FlagsOverrideAndListsReplaceThenAppend) {
  DaemonConfig c;
  c.hosts = {"unix:///from/file.sock"};
  std::vector<std::string> seen;
  ASSERT_TRUE(apply_override(c, "hosts", "unix:///a.sock", seen));
  ASSERT_TRUE(apply_override(c, "hosts", "tcp://127.0.0.1:1,unix:///b.sock", seen));
  ASSERT_TRUE(apply_override(c, "data-root", "/d", seen));
  EXPECT_EQ(c.hosts, (std::vector<std::string>{"unix:///a.sock", "tcp://127.0.0.1:1", "unix:///b.sock"}));
  EXPECT_EQ(c.data_root, "/d");
  auto bad = apply_override(c, "colour", "x", seen);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "command line: unknown option --colour");
}

TEST(DaemonConfig, UnauthenticatedTcpNeedsAnExplicitOptIn) {
  auto opted = parse_config(R"({"hosts": ["tcp://127.0.0.1:2375"], "tlsverify": false})");
  ASSERT_TRUE(opted) << opted.error().message;
  EXPECT_TRUE(opted->unauthenticated_tcp_opt_in);
  auto docker_style = parse_config(R"({"hosts": ["tcp://0.0.0.0:2375"], "tls": false})");
  ASSERT_TRUE(docker_style) << docker_style.error().message;
  // TLS without client certificates still lets anyone in: refused without the opt-in.
  auto server_only = parse_config(
      R"({"hosts": ["tcp://127.0.0.1:2376"], "tls": true, "tlscert": "/c", "tlskey": "/k"})");
  ASSERT_FALSE(server_only);
  DaemonConfig c;
  c.hosts = {"tcp://127.0.0.1:2375"};
  EXPECT_FALSE(validate(c));
  std::vector<std::string> seen;
  ASSERT_TRUE(apply_override(c, "tlsverify", "false", seen));
  EXPECT_TRUE(validate(c));
}

TEST(DaemonConfig, MissingFileIsFineUnlessAskedFor) {
  auto c = load_config("/nonexistent/daemon.json", false);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->data_root, "/var/lib/berth");
  auto must = load_config("/nonexistent/daemon.json", true);
  ASSERT_FALSE(must);
  EXPECT_EQ(must.error().message, "configuration file /nonexistent/daemon.json does not exist");
}

TEST(DaemonConfig, ByteSizes) {
  EXPECT_EQ(*parse_byte_size("100"), 100);
  EXPECT_EQ(*parse_byte_size("10k"), 10240);
  EXPECT_EQ(*parse_byte_size("10m"), 10 << 20);
  EXPECT_EQ(*parse_byte_size("2g"), int64_t{2} << 30);
  EXPECT_EQ(*parse_byte_size("3MB"), 3 << 20);
  EXPECT_FALSE(parse_byte_size("m"));
  EXPECT_FALSE(parse_byte_size("10q"));
  EXPECT_FALSE(parse_byte_size(""));
  // Found by fuzz_create_config: a large number times the unit overflowed int64.
  EXPECT_FALSE(parse_byte_size("9999999999999999g"));
  EXPECT_FALSE(parse_byte_size("99999999999999999999"));
  EXPECT_EQ(*parse_byte_size("8589934591g"), int64_t{8589934591} << 30);
}

}  // namespace

TEST(DaemonConfig, NetworkKeys) {
  auto c = parse_config(R"({"bridge": "none", "bip": "172.26.0.1/16", "mtu": 1400,
                            "dns": ["198.51.100.53"],
                            "default-address-pools": [{"base": "10.10.0.0/16", "size": 24}]})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->bridge, "none");
  EXPECT_EQ(c->bip, "172.26.0.1/16");
  EXPECT_EQ(c->mtu, 1400);
  EXPECT_EQ(c->dns, (std::vector<std::string>{"198.51.100.53"}));
  ASSERT_EQ(c->default_address_pools.size(), 1u);
  EXPECT_EQ(c->default_address_pools[0].base, "10.10.0.0/16");
  EXPECT_EQ(c->default_address_pools[0].size, 24);
  auto bad_pool = parse_config(R"({"default-address-pools": [{"base": "10.10.0.0/16"}]})");
  ASSERT_FALSE(bad_pool);
  EXPECT_NE(bad_pool.error().message.find("\"size\""), std::string::npos);
  EXPECT_FALSE(parse_config(R"({"mtu": 20})"));
  EXPECT_TRUE(c->icc);  // docker's default
  auto no_icc = parse_config(R"({"icc": false})");
  ASSERT_TRUE(no_icc) << no_icc.error().message;
  EXPECT_FALSE(no_icc->icc);
  EXPECT_FALSE(parse_config(R"({"icc": "no"})"));
  // --bridge none on the command line, as every test's berthd is started.
  DaemonConfig d;
  std::vector<std::string> seen;
  ASSERT_TRUE(apply_override(d, "bridge", "none", seen));
  EXPECT_EQ(d.bridge, "none");
}

namespace {

TEST(DaemonConfig, RegistryKeys) {
  auto d = parse_config("{}");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->registry.max_concurrent_downloads, 3);
  EXPECT_EQ(d->registry.max_concurrent_uploads, 5);
  auto c = parse_config(R"({"insecure-registries": ["10.0.0.0/8", "reg:5000"],
    "registry-mirrors": ["127.0.0.1:5000=http://127.0.0.1:6000"],
    "max-concurrent-downloads": 6, "max-concurrent-uploads": 2})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->registry.insecure_registries, (std::vector<std::string>{"10.0.0.0/8", "reg:5000"}));
  EXPECT_EQ(c->registry.mirrors.at(0), "127.0.0.1:5000=http://127.0.0.1:6000");
  EXPECT_EQ(c->registry.max_concurrent_downloads, 6);
  EXPECT_EQ(c->registry.max_concurrent_uploads, 2);
  EXPECT_FALSE(parse_config(R"({"max-concurrent-downloads": 0})"));
  EXPECT_FALSE(parse_config(R"({"insecure-registries": "reg:5000"})"));
}

}  // namespace
