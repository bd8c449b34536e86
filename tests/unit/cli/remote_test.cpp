// The pure parts of remote use: which daemon a command picks (docker's precedence), TLS from
// flags and environment, ssh:// addresses and the ssh command line, the clear-text refusal,
// and the context store's docker-compatible layout (in a temporary folder, no root).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "cli/app/endpoint_choice.hpp"
#include "cli/app/errors.hpp"
#include "cli/client/address.hpp"
#include "cli/client/context_store.hpp"
#include "cli/client/dialer.hpp"
#include "cli/client/ssh_transport.hpp"
#include "cli/util/files.hpp"

using namespace berth::cli;
namespace fs = std::filesystem;

namespace {

// ------------------------------------------------------------------------------------------
// Precedence

TEST(EndpointChoice, NothingGivenIsTheDefaultSocket) {
  auto c = choose_endpoint({});
  EXPECT_EQ(c.context, "default");
  EXPECT_EQ(c.host, "");
}

TEST(EndpointChoice, HostFlagAndContextFlagConflict) {
  try {
    choose_endpoint({.host_flag = "tcp://h:1", .context_flag = "prod"});
    FAIL() << "expected an error";
  } catch (const StatusError& e) {
    EXPECT_STREQ(e.what(), "conflicting options: either specify --host or --context, not both");
  }
}

TEST(EndpointChoice, ContextFlagWinsOverEverythingButHostFlag) {
  auto c = choose_endpoint({.host_env = "tcp://env:1",
                            .context_flag = "prod",
                            .context_env = "staging",
                            .current_context = "dev"});
  EXPECT_EQ(c.context, "prod");
  EXPECT_EQ(c.decided_by, "--context");
}

TEST(EndpointChoice, HostFlagWinsOverEnvironmentAndCurrentContext) {
  auto c = choose_endpoint({.host_flag = "tcp://flag:1",
                            .host_env = "tcp://env:1",
                            .context_env = "staging",
                            .current_context = "dev"});
  EXPECT_EQ(c.context, "default");
  EXPECT_EQ(c.host, "tcp://flag:1");
}

TEST(EndpointChoice, HostEnvironmentWinsOverContextEnvironment) {
  auto c = choose_endpoint(
      {.host_env = "tcp://env:1", .context_env = "staging", .current_context = "dev"});
  EXPECT_EQ(c.context, "default");
  EXPECT_EQ(c.host, "tcp://env:1");
  EXPECT_EQ(c.decided_by, "BERTH_HOST");
}

TEST(EndpointChoice, ContextEnvironmentWinsOverCurrentContext) {
  auto c = choose_endpoint({.context_env = "staging", .current_context = "dev"});
  EXPECT_EQ(c.context, "staging");
}

TEST(EndpointChoice, CurrentContextBeforeTheDefault) {
  auto c = choose_endpoint({.current_context = "dev"});
  EXPECT_EQ(c.context, "dev");
  EXPECT_EQ(c.decided_by, "config.json");
}

// ------------------------------------------------------------------------------------------
// TLS from flags

auto exists_in(std::set<std::string> files) {
  return [files](const std::string& p) { return files.count(p) > 0; };
}

TEST(TlsFromFlags, OffByDefault) {
  auto c = tls_from_flags({}, "", "/certs",
                          exists_in({"/certs/ca.pem", "/certs/cert.pem", "/certs/key.pem"}));
  EXPECT_FALSE(c.enabled);
  EXPECT_FALSE(c.verify);
}

TEST(TlsFromFlags, TlsverifyUsesTheCertPathFiles) {
  auto c = tls_from_flags({.tlsverify = true, .tlsverify_given = true}, "", "/certs",
                          exists_in({"/certs/ca.pem", "/certs/cert.pem", "/certs/key.pem"}));
  EXPECT_TRUE(c.enabled);
  EXPECT_TRUE(c.verify);
  EXPECT_EQ(c.ca_file, "/certs/ca.pem");
  EXPECT_EQ(c.cert_file, "/certs/cert.pem");
  EXPECT_EQ(c.key_file, "/certs/key.pem");
}

TEST(TlsFromFlags, EnvironmentTurnsVerificationOnWithAnyValue) {
  // docker checks DOCKER_TLS_VERIFY != "": even "0" turns it on.
  for (std::string v : {"1", "0", "yes"}) {
    auto c = tls_from_flags({}, v, "/certs", exists_in({}));
    EXPECT_TRUE(c.enabled) << v;
    EXPECT_TRUE(c.verify) << v;
    EXPECT_EQ(c.ca_file, "/certs/ca.pem");  // kept even when missing: the error names it
  }
}

TEST(TlsFromFlags, TlsverifyFalseStillMeansTlsWithoutVerification) {
  auto c =
      tls_from_flags({.tlsverify = false, .tlsverify_given = true}, "1", "/certs", exists_in({}));
  EXPECT_TRUE(c.enabled);
  EXPECT_FALSE(c.verify);
  EXPECT_EQ(c.ca_file, "");
}

TEST(TlsFromFlags, MissingDefaultClientCertIsNotSentButExplicitOneIsKept) {
  auto c = tls_from_flags({.tls = true}, "", "/certs/", exists_in({}));
  EXPECT_TRUE(c.enabled);
  EXPECT_FALSE(c.verify);
  EXPECT_EQ(c.cert_file, "");
  EXPECT_EQ(c.key_file, "");
  auto d = tls_from_flags({.tls = true, .cert = "/x/c.pem", .key = "/x/k.pem"}, "", "/certs",
                          exists_in({}));
  EXPECT_EQ(d.cert_file, "/x/c.pem");
  EXPECT_EQ(d.key_file, "/x/k.pem");
}

TEST(TlsFromFlags, ExplicitCaWins) {
  auto c = tls_from_flags({.tlsverify = true, .tlsverify_given = true, .cacert = "/other/ca.pem"},
                          "", "/certs", exists_in({}));
  EXPECT_EQ(c.ca_file, "/other/ca.pem");
}

TEST(ConfigDir, FlagThenEnvironmentThenHome) {
  EXPECT_EQ(config_dir("/f", "/e", "/home/u"), "/f");
  EXPECT_EQ(config_dir("", "/e", "/home/u"), "/e");
  EXPECT_EQ(config_dir("", "", "/home/u"), "/home/u/.berth");
}

// ------------------------------------------------------------------------------------------
// Addresses

TEST(Address, TcpDefaultPortDependsOnTls) {
  EXPECT_EQ(Address::parse("tcp://10.0.0.1").port, "2375");
  EXPECT_EQ(Address::parse("tcp://10.0.0.1", true).port, "2376");
  EXPECT_EQ(Address::parse("tcp://10.0.0.1:1234", true).port, "1234");
  EXPECT_EQ(Address::parse("tcp://[::1]:99").host, "::1");
}

TEST(Address, SshForms) {
  auto a = Address::parse("ssh://alice@example.org:2222/run/user/berth.sock");
  EXPECT_EQ(a.kind, Address::Kind::kSsh);
  EXPECT_EQ(a.user, "alice");
  EXPECT_EQ(a.host, "example.org");
  EXPECT_EQ(a.port, "2222");
  EXPECT_EQ(a.path, "/run/user/berth.sock");
  auto b = Address::parse("ssh://example.org");
  EXPECT_EQ(b.user, "");
  EXPECT_EQ(b.port, "");
  EXPECT_EQ(b.path, "");
  EXPECT_THROW(Address::parse("ssh://alice:secret@example.org"), StatusError);
  EXPECT_THROW(Address::parse("ssh://"), StatusError);
  EXPECT_THROW(Address::parse("ssh://-oProxyCommand=x"), StatusError);
}

TEST(Address, Loopback) {
  EXPECT_TRUE(is_loopback_ip("127.0.0.1"));
  EXPECT_TRUE(is_loopback_ip("127.8.9.10"));
  EXPECT_TRUE(is_loopback_ip("::1"));
  EXPECT_TRUE(is_loopback_ip("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback_ip("10.0.0.1"));
  EXPECT_FALSE(is_loopback_ip("::ffff:10.0.0.1"));
  EXPECT_FALSE(is_loopback_ip("fe80::1"));
  EXPECT_FALSE(is_loopback_ip("not an ip"));
}

TEST(ClearText, RefusalSaysWhyAndHowToFix) {
  std::string m = clear_text_refusal(Address::parse("tcp://192.0.2.7:2375"));
  EXPECT_NE(m.find("tcp://192.0.2.7:2375"), std::string::npos);
  EXPECT_NE(m.find("clear text"), std::string::npos);
  EXPECT_NE(m.find("--tlsverify"), std::string::npos);
  EXPECT_NE(m.find("ssh://user@192.0.2.7"), std::string::npos);
}

TEST(Ssh, CommandLineIsDockers) {
  auto argv = ssh_command(Address::parse("ssh://bob@h:2200"));
  std::vector<std::string> want = {
      "ssh", "-o", "ConnectTimeout=30",      "-T", "-l", "bob", "-p", "2200",
      "--",  "h",  "berth system dial-stdio"};
  EXPECT_EQ(argv, want);
  auto argv2 = ssh_command(Address::parse("ssh://h/tmp/my sock's"));
  EXPECT_EQ(argv2.back(), "berth -H 'unix:///tmp/my sock'\\''s' system dial-stdio");
  EXPECT_EQ(ssh_command(Address::parse("ssh://h/run/b.sock")).back(),
            "berth -H unix:///run/b.sock system dial-stdio");
}

// ------------------------------------------------------------------------------------------
// Context store

class ContextStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-ctx-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

int mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

TEST_F(ContextStoreTest, NamesFollowDockersRule) {
  EXPECT_THROW(ContextStore::validate_name("default"), StatusError);
  EXPECT_THROW(ContextStore::validate_name(""), StatusError);
  EXPECT_THROW(ContextStore::validate_name("a"), StatusError);  // two characters at least
  EXPECT_THROW(ContextStore::validate_name("-x"), StatusError);
  EXPECT_THROW(ContextStore::validate_name("a/b"), StatusError);
  EXPECT_NO_THROW(ContextStore::validate_name("prod-1.eu_west+x"));
}

TEST_F(ContextStoreTest, LayoutIsDockersAndKeysArePrivate) {
  ContextStore store(dir_);
  store.save({.name = "prod", .description = "the cluster", .host = "tcp://10.0.0.1:2376"},
             {.ca = "CA", .cert = "CERT", .key = "KEY"});
  std::string id = context_dir_name("prod");
  EXPECT_EQ(id.size(), 64u);
  fs::path meta = dir_ / "contexts/meta" / id / "meta.json";
  ASSERT_TRUE(fs::exists(meta));
  auto text = read_file_if_exists(meta);
  EXPECT_EQ(
      *text,
      R"({"Name":"prod","Metadata":{"Description":"the cluster"},"Endpoints":{"docker":{"Host":"tcp://10.0.0.1:2376","SkipTLSVerify":false}}})");
  fs::path tls = dir_ / "contexts/tls" / id / "docker";
  EXPECT_EQ(*read_file_if_exists(tls / "key.pem"), "KEY");
  EXPECT_EQ(mode_of(tls / "key.pem"), 0600);
  EXPECT_EQ(mode_of(tls / "cert.pem"), 0600);
  EXPECT_EQ(mode_of(tls / "ca.pem"), 0600);
  EXPECT_EQ(mode_of(tls), 0700);
  EXPECT_EQ(mode_of(tls.parent_path()), 0700);
}

TEST_F(ContextStoreTest, KnownDockerDigest) {
  // docker names the folder digest.FromString(name).Encoded(): hex sha256 of the name.
  EXPECT_EQ(context_dir_name("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(ContextStoreTest, TlsConfigFollowsDockersRules) {
  ContextStore store(dir_);
  store.save({.name = "plain", .host = "tcp://127.0.0.1:2375"}, {});
  EXPECT_FALSE(store.tls_config(*store.get("plain")).enabled);
  store.save({.name = "mtls", .host = "tcp://h:2376"}, {.ca = "CA", .cert = "C", .key = "K"});
  auto t = store.tls_config(*store.get("mtls"));
  EXPECT_TRUE(t.enabled);
  EXPECT_TRUE(t.verify);
  EXPECT_EQ(t.ca_file, store.tls_dir("mtls") / "docker/ca.pem");
  EXPECT_EQ(t.cert_file, store.tls_dir("mtls") / "docker/cert.pem");
  store.save({.name = "skip", .host = "tcp://h:2376", .skip_tls_verify = true}, {.ca = "CA"});
  auto s = store.tls_config(*store.get("skip"));
  EXPECT_TRUE(s.enabled);
  EXPECT_FALSE(s.verify);
  EXPECT_EQ(s.ca_file, "");
}

TEST_F(ContextStoreTest, ListCurrentAndRemove) {
  ContextStore store(dir_);
  EXPECT_EQ(store.current(), "");
  store.save({.name = "b-ctx", .host = "unix:///b"}, {});
  store.save({.name = "a-ctx", .host = "unix:///a"}, {.ca = "CA"});
  auto all = store.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a-ctx");
  EXPECT_EQ(all[1].host, "unix:///b");
  // config.json keeps the keys it had (docker's config holds credentials too).
  write_file_atomic(dir_ / "config.json", R"({"auths":{"r":{}}})", 0600);
  store.set_current("a-ctx");
  EXPECT_EQ(store.current(), "a-ctx");
  EXPECT_NE(read_file_if_exists(dir_ / "config.json")->find("auths"), std::string::npos);
  EXPECT_EQ(mode_of(dir_ / "config.json"), 0600);
  store.set_current("default");
  EXPECT_EQ(store.current(), "");
  store.remove("a-ctx");
  EXPECT_FALSE(store.get("a-ctx"));
  EXPECT_FALSE(fs::exists(store.tls_dir("a-ctx")));
  EXPECT_THROW(store.remove("a-ctx"), StatusError);
}

TEST_F(ContextStoreTest, ExportImportRoundTrip) {
  ContextStore store(dir_);
  store.save({.name = "src", .description = "d", .host = "tcp://h:2376"},
             {.ca = "CA", .cert = "C", .key = "K"});
  std::string tar = store.export_tar("src");
  // docker's archive: meta.json and tls/docker/<file>.
  EXPECT_NE(tar.find("meta.json"), std::string::npos);
  EXPECT_NE(tar.find("tls/docker/key.pem"), std::string::npos);
  store.import_tar("copy", tar);
  auto m = store.get("copy");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "copy");  // the archive's name is replaced, as docker does
  EXPECT_EQ(m->host, "tcp://h:2376");
  EXPECT_EQ(m->description, "d");
  EXPECT_EQ(*read_file_if_exists(store.tls_dir("copy") / "docker/key.pem"), "K");
  EXPECT_EQ(mode_of(store.tls_dir("copy") / "docker/key.pem"), 0600);
  EXPECT_THROW(store.import_tar("copy", tar), StatusError);        // exists
  EXPECT_THROW(store.import_tar("x2", "not a tar"), StatusError);  // malformed
}

}  // namespace
