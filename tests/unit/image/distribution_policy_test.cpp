// The pure parts of pull and push: platform selection, registry hosts and mirrors, insecure
// registries, X-Registry-Auth, progress bars and the schema2 manifest dockerd writes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>

#include "berth/sdk/base64.hpp"
#include "core/common/sha256.hpp"
#include "core/image/image_pull.hpp"
#include "core/image/image_push.hpp"
#include "core/image/pull_progress.hpp"
#include "core/image/registry_auth.hpp"
#include "core/image/registry_hosts.hpp"

namespace json = boost::json;
using namespace berth::core::image;

namespace {

json::object index_of(std::initializer_list<const char*> platforms) {
  json::array manifests;
  int n = 0;
  for (const char* p : platforms) {
    std::string s(p);
    auto a = s.find('/'), b = s.find('/', a + 1);
    json::object platform{{"os", s.substr(0, a)},
                          {"architecture", s.substr(a + 1, b == std::string::npos ? b : b - a - 1)}};
    if (b != std::string::npos) platform["variant"] = s.substr(b + 1);
    manifests.push_back(json::object{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                     {"digest", "sha256:" + std::string(63, '0') + std::to_string(n++)},
                                     {"size", 10},
                                     {"platform", platform}});
  }
  return json::object{{"schemaVersion", 2}, {"manifests", manifests}};
}

std::string platform_of(const json::object& m) {
  const auto& p = m.at("platform").as_object();
  std::string out = std::string(p.at("os").as_string()) + "/" + std::string(p.at("architecture").as_string());
  if (p.contains("variant")) out += "/" + std::string(p.at("variant").as_string());
  return out;
}

}  // namespace

TEST(Platform, ParsesDockerForms) {
  auto p = parse_platform("linux/arm/v7");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->os, "linux");
  EXPECT_EQ(p->architecture, "arm");
  EXPECT_EQ(p->variant, "v7");
  EXPECT_EQ(parse_platform("linux/x86_64")->architecture, "amd64");
  EXPECT_EQ(parse_platform("aarch64")->architecture, "arm64");
  EXPECT_FALSE(parse_platform("linux//v7"));
  EXPECT_FALSE(parse_platform("a/b/c/d"));
  EXPECT_FALSE(parse_platform("").value().architecture.empty());  // the host's
}

TEST(Platform, SelectsFromAnIndexSkippingAttestations) {
  auto index = index_of({"unknown/unknown", "linux/arm/v6", "linux/arm/v7", "linux/amd64", "linux/arm64/v8"});
  EXPECT_EQ(platform_of(*select_platform(index, *parse_platform("linux/amd64"))), "linux/amd64");
  EXPECT_EQ(platform_of(*select_platform(index, *parse_platform("linux/arm/v7"))), "linux/arm/v7");
  EXPECT_EQ(platform_of(*select_platform(index, *parse_platform("linux/arm64"))), "linux/arm64/v8");
  auto missing = select_platform(index, *parse_platform("linux/s390x"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("linux/s390x"), std::string::npos);
  EXPECT_NE(missing.error().message.find("linux/arm/v7"), std::string::npos);  // what it offers
  EXPECT_EQ(missing.error().message.find("unknown"), std::string::npos);
}

TEST(RegistryHosts, DockerHubAndOthers) {
  EXPECT_EQ(registry_host("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(registry_host("127.0.0.1:5000"), "127.0.0.1:5000");
  EXPECT_EQ(credentials_key("docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(credentials_key("127.0.0.1:5000"), "127.0.0.1:5000");
}

TEST(RegistryHosts, InsecureIsLoopbackOrListed) {
  std::vector<std::string> insecure{"10.1.0.0/16", "reg.internal:5000"};
  EXPECT_TRUE(is_insecure_registry("127.0.0.1:5000", {}));
  EXPECT_TRUE(is_insecure_registry("localhost:5000", {}));
  EXPECT_TRUE(is_insecure_registry("[::1]:5000", {}));
  EXPECT_TRUE(is_insecure_registry("10.1.2.3:443", insecure));
  EXPECT_FALSE(is_insecure_registry("10.2.0.1:443", insecure));
  EXPECT_TRUE(is_insecure_registry("reg.internal:5000", insecure));
  EXPECT_FALSE(is_insecure_registry("reg.internal:5001", insecure));
  EXPECT_FALSE(is_insecure_registry("example.com", insecure));
}

TEST(RegistryHosts, MirrorsForAnyRegistryThenTheOrigin) {
  berth::core::config::RegistryOptions options;
  options.mirrors = {"https://hub-mirror.internal", "127.0.0.1:5000=http://127.0.0.1:6000",
                     "127.0.0.1:5000=https://m2.internal:443/"};
  auto e = pull_endpoints("127.0.0.1:5000", options);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 3u);
  EXPECT_EQ((*e)[0].host, "127.0.0.1:6000");
  EXPECT_TRUE((*e)[0].mirror);
  EXPECT_TRUE((*e)[0].insecure);
  EXPECT_EQ((*e)[1].host, "m2.internal:443");
  EXPECT_FALSE((*e)[1].insecure);
  EXPECT_EQ((*e)[2].host, "127.0.0.1:5000");
  EXPECT_FALSE((*e)[2].mirror);
  auto hub = pull_endpoints("docker.io", options);
  ASSERT_EQ(hub->size(), 2u);
  EXPECT_EQ((*hub)[0].host, "hub-mirror.internal");
  EXPECT_EQ((*hub)[1].host, "registry-1.docker.io");
  options.mirrors = {"https://host/with/path"};
  EXPECT_FALSE(validate_registry_options(options));
  options.mirrors.clear();
  options.insecure_registries = {"http://x:5000"};
  EXPECT_FALSE(validate_registry_options(options));
}

TEST(RegistryAuth, DecodesWhatTheDockerCliSends) {
  auto empty = parse_registry_auth("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_TRUE(parse_registry_auth("e30=")->empty());  // {}
  std::string body = R"({"username":"alice","password":"s3cret","serveraddress":"127.0.0.1:5000"})";
  auto a = parse_registry_auth(berth::sdk::base64_encode(body));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->username, "alice");
  EXPECT_EQ(a->password, "s3cret");
  EXPECT_EQ(a->server_address, "127.0.0.1:5000");
  // "auth" (base64 user:password) as config.json keeps it.
  auto b = parse_registry_auth(berth::sdk::base64_encode(R"({"auth":"YWxpY2U6YWxpY2Utc2VjcmV0"})"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->username, "alice");
  EXPECT_EQ(b->password, "alice-secret");
  auto bad = parse_registry_auth("not base64 json!");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("not base64 json"), std::string::npos);  // never echoed
}

TEST(RegistryAuth, CredentialsAreBoundToTheCallingThread) {
  auto& provider = registry_credential_provider();
  EXPECT_TRUE(provider.lookup("h")->empty());
  AuthConfig auth{"bob", "pw", "", ""};
  {
    ScopedAuth scope(auth);
    EXPECT_EQ(provider.lookup("h")->username, "bob");
  }
  EXPECT_TRUE(provider.lookup("h")->empty());
}

TEST(PullProgress, BarsAsTheDockerCliShowsThem) {
  EXPECT_EQ(human_size(512), "512B");
  EXPECT_EQ(human_size(2'100), "2.1kB");
  EXPECT_EQ(human_size(1'234'567), "1.235MB");
  auto bar = progress_bar(50, 100);
  EXPECT_EQ(bar.substr(0, 27), "[=========================>");
  EXPECT_NE(bar.find("50B/100B"), std::string::npos);
  auto m = layer_progress("Downloading", "abc", 5, 10);
  EXPECT_EQ(m.at("progressDetail").as_object().at("current").as_int64(), 5);
  EXPECT_EQ(short_layer_id("sha256:0123456789abcdef0123"), "0123456789ab");
}

TEST(PushManifest, IsDockerdsSchema2Encoding) {
  berth::sdk::Descriptor config{"application/vnd.docker.container.image.v1+json",
                                "sha256:" + std::string(64, 'c'), 1234};
  berth::sdk::Descriptor layer{"application/vnd.docker.image.rootfs.diff.tar.gzip",
                               "sha256:" + std::string(64, 'a'), 99};
  std::string m = docker_manifest_json(config, {layer});
  EXPECT_EQ(m,
            "{\n   \"schemaVersion\": 2,\n"
            "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
            "   \"config\": {\n"
            "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
            "      \"size\": 1234,\n"
            "      \"digest\": \"sha256:" + std::string(64, 'c') + "\"\n"
            "   },\n"
            "   \"layers\": [\n"
            "      {\n"
            "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
            "         \"size\": 99,\n"
            "         \"digest\": \"sha256:" + std::string(64, 'a') + "\"\n"
            "      }\n"
            "   ]\n}");
  auto parsed = json::parse(m);
  EXPECT_EQ(parsed.at("layers").as_array().size(), 1u);
  EXPECT_NE(docker_manifest_json(config, {}).find("\"layers\": []\n}"), std::string::npos);
}

TEST(PushManifest, CompressedDigestsAreRemembered) {
  auto dir = std::filesystem::temp_directory_path() / ("berth-unit-digests-" + std::to_string(::getpid()));
  CompressedDigests digests(dir);
  std::string diff = "sha256:" + std::string(64, 'd');
  EXPECT_FALSE(digests.get(diff));
  digests.put(diff, {"application/vnd.docker.image.rootfs.diff.tar.gzip", "sha256:" + std::string(64, 'e'), 42});
  auto got = CompressedDigests(dir).get(diff);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->digest, "sha256:" + std::string(64, 'e'));
  EXPECT_EQ(got->size, 42);
  std::filesystem::remove_all(dir);
}

TEST(PushManifest, CompressedDigestsRememberWhereTheBlobWasSeen) {
  auto dir = std::filesystem::temp_directory_path() / ("berth-seen-" + std::to_string(::getpid()));
  CompressedDigests digests(dir);
  std::string diff = "sha256:" + std::string(64, 'd');
  berth::sdk::Descriptor blob{"application/vnd.docker.image.rootfs.diff.tar.gzip",
                              "sha256:" + std::string(64, 'e'), 42};
  berth::sdk::RepoRef a{"127.0.0.1:5000", "team/a", true}, b{"127.0.0.1:5000", "team/b", true};
  berth::sdk::RepoRef other{"127.0.0.1:6000", "team/c", true};
  digests.put(diff, blob, &a);
  digests.put(diff, blob, &other);
  digests.put(diff, blob, &b);
  digests.put(diff, blob);  // a put without a repository keeps the list
  // Most recent first, only the registry asked about.
  EXPECT_EQ(digests.seen_in(diff, "127.0.0.1:5000"), (std::vector<std::string>{"team/b", "team/a"}));
  EXPECT_EQ(digests.seen_in(diff, "127.0.0.1:6000"), std::vector<std::string>{"team/c"});
  EXPECT_TRUE(digests.seen_in(diff, "127.0.0.1:7000").empty());
  digests.put(diff, blob, &a);
  EXPECT_EQ(digests.seen_in(diff, "127.0.0.1:5000"), (std::vector<std::string>{"team/a", "team/b"}));
  // Another blob for the same diff id (compressed differently) was seen nowhere yet.
  berth::sdk::Descriptor other_blob = blob;
  other_blob.digest = "sha256:" + std::string(64, 'f');
  digests.put(diff, other_blob);
  EXPECT_TRUE(digests.seen_in(diff, "127.0.0.1:5000").empty());
  std::filesystem::remove_all(dir);
}
