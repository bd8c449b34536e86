// The distribution wire library (digests, names, manifests, error table) and the registry's
// URL routing and pagination helpers.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "distribution/digest.hpp"
#include "distribution/errors.hpp"
#include "distribution/manifest.hpp"
#include "distribution/media_types.hpp"
#include "distribution/names.hpp"
#include "registry/api.hpp"
#include "registry/routes.hpp"
#include "registry/url.hpp"

namespace berth::distribution {
namespace {

const std::string kHex64(64, 'a');
const std::string kHex128(128, 'b');

TEST(Digest, ParsesSha256AndSha512) {
  auto d = parse_digest("sha256:" + kHex64);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->algorithm, "sha256");
  EXPECT_EQ(d->hex, kHex64);
  EXPECT_EQ(d->string(), "sha256:" + kHex64);
  ASSERT_TRUE(parse_digest("sha512:" + kHex128));
}

TEST(Digest, RefusesMalformedDigests) {
  EXPECT_FALSE(parse_digest("sha256:" + kHex128));   // wrong length for the algorithm
  EXPECT_FALSE(parse_digest("sha512:" + kHex64));
  EXPECT_FALSE(parse_digest("sha256:" + std::string(64, 'A')));  // uppercase hex
  EXPECT_FALSE(parse_digest(kHex64));                 // no algorithm
  EXPECT_FALSE(parse_digest(":" + kHex64));
  auto md5 = parse_digest("md5:" + std::string(32, 'a'));
  ASSERT_FALSE(md5);
  EXPECT_EQ(md5.error().code, berth::ErrorCode::kUnsupported);
}

TEST(Digest, HashesKnownVectors) {
  EXPECT_EQ(Digester::sha256_of("abc").hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto sha512 = Digester::create("sha512");
  ASSERT_TRUE(sha512);
  sha512->update("a");
  sha512->update("bc");
  EXPECT_EQ(sha512->finish().hex,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_FALSE(Digester::create("md5"));
}

TEST(Errors, CodesAndStatuses) {
  EXPECT_EQ(error_code_string(RegistryErrorCode::kBlobUnknown), "BLOB_UNKNOWN");
  EXPECT_EQ(error_http_status(RegistryErrorCode::kBlobUnknown), 404u);
  EXPECT_EQ(error_http_status(RegistryErrorCode::kBlobUploadUnknown), 404u);
  EXPECT_EQ(error_http_status(RegistryErrorCode::kManifestUnknown), 404u);
  EXPECT_EQ(error_http_status(RegistryErrorCode::kNameUnknown), 404u);
  EXPECT_EQ(error_http_status(RegistryErrorCode::kDigestInvalid), 400u);
  EXPECT_EQ(error_http_status(RegistryErrorCode::kManifestBlobUnknown), 400u);
  EXPECT_EQ(error_http_status(RegistryErrorCode::kUnauthorized), 401u);
  EXPECT_EQ(error_http_status(RegistryErrorCode::kDenied), 403u);
  EXPECT_EQ(error_http_status(RegistryErrorCode::kUnsupported), 405u);
  EXPECT_EQ(error_http_status(RegistryErrorCode::kTooManyRequests), 429u);
  EXPECT_EQ(error_code_string(RegistryErrorCode::kTooManyRequests), "TOOMANYREQUESTS");
  EXPECT_EQ(error_http_status(RegistryErrorCode::kRangeInvalid), 416u);
  EXPECT_EQ(error_http_status(RegistryErrorCode::kUnknown), 500u);
}

TEST(Errors, BodyShape) {
  auto body = boost::json::parse(
      error_body({RegistryErrorCode::kNameInvalid, "", boost::json::object{{"name", "X"}}}));
  const auto& entry = body.at("errors").at(0);
  EXPECT_EQ(entry.at("code"), "NAME_INVALID");
  EXPECT_EQ(entry.at("message"), "invalid repository name");
  EXPECT_EQ(entry.at("detail").at("name"), "X");
}

TEST(Names, RepositoryNames) {
  for (const char* good : {"a", "library/busybox", "a/b/c", "a-b", "a__b", "a.b", "a---b", "0"}) {
    EXPECT_TRUE(is_valid_repository_name(good)) << good;
  }
  for (const char* bad : {"", "A", "a/", "/a", "a//b", "-a", "a-", "a_-b", "a/../b", "a/.b",
                          "a b", "_catalog", "a___b"}) {
    EXPECT_FALSE(is_valid_repository_name(bad)) << bad;
  }
  EXPECT_TRUE(is_valid_repository_name(std::string(255, 'a')));
  EXPECT_FALSE(is_valid_repository_name(std::string(256, 'a')));
}

TEST(Names, TagsAndReferences) {
  EXPECT_TRUE(is_valid_tag("latest"));
  EXPECT_TRUE(is_valid_tag("_x.Y-1"));
  EXPECT_TRUE(is_valid_tag(std::string(128, 'a')));
  EXPECT_FALSE(is_valid_tag(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_tag(".hidden"));
  EXPECT_FALSE(is_valid_tag("-x"));
  EXPECT_FALSE(is_valid_tag(".."));
  auto tag = parse_manifest_reference("v1");
  ASSERT_TRUE(tag);
  EXPECT_EQ(std::get<std::string>(*tag), "v1");
  auto digest = parse_manifest_reference("sha256:" + kHex64);
  ASSERT_TRUE(digest);
  EXPECT_EQ(std::get<Digest>(*digest).hex, kHex64);
  EXPECT_FALSE(parse_manifest_reference("sha256:abc"));
  EXPECT_FALSE(parse_manifest_reference("bad/tag"));
}

std::string descriptor(const std::string& media_type, const std::string& hex, int size) {
  return R"({"mediaType":")" + media_type + R"(","digest":"sha256:)" + hex +
         R"(","size":)" + std::to_string(size) + "}";
}

TEST(Manifest, ImageManifestReferences) {
  std::string body = R"({"schemaVersion":2,"mediaType":")" +
                     std::string(media_type::kOciManifest) + R"(","config":)" +
                     descriptor("application/vnd.oci.image.config.v1+json", kHex64, 10) +
                     R"(,"layers":[)" +
                     descriptor("application/vnd.oci.image.layer.v1.tar+gzip",
                                std::string(64, 'c'), 20) +
                     "," +
                     descriptor(std::string(media_type::kDockerForeignLayer), std::string(64, 'd'), 30) +
                     "]}";
  auto m = parse_manifest(body, media_type::kOciManifest);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_FALSE(m->is_index());
  EXPECT_EQ(m->layers.size(), 2u);
  auto required = m->required_blobs();
  ASSERT_EQ(required.size(), 2u);  // the foreign layer is not required
  EXPECT_EQ(required[0].digest.hex, kHex64);
  EXPECT_EQ(required[1].digest.hex, std::string(64, 'c'));
  EXPECT_EQ(m->referrer_artifact_type(), "application/vnd.oci.image.config.v1+json");
  EXPECT_FALSE(m->subject);
}

TEST(Manifest, SubjectAndArtifactType) {
  std::string body = R"({"schemaVersion":2,"artifactType":"application/x-sig","config":)" +
                     descriptor(std::string(media_type::kOciEmpty), kHex64, 2) +
                     R"(,"layers":[],"subject":)" +
                     descriptor(std::string(media_type::kOciManifest), std::string(64, 'e'), 5) +
                     "}";
  auto m = parse_manifest(body, "");  // no Content-Type: the shape decides
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->media_type, media_type::kOciManifest);
  ASSERT_TRUE(m->subject);
  EXPECT_EQ(m->subject->digest.hex, std::string(64, 'e'));
  EXPECT_EQ(m->referrer_artifact_type(), "application/x-sig");
}

TEST(Manifest, IndexAndDockerList) {
  std::string children = "[" + descriptor(std::string(media_type::kOciManifest), kHex64, 3) + "]";
  auto index = parse_manifest(R"({"schemaVersion":2,"manifests":)" + children + "}",
                              media_type::kOciIndex);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_TRUE(index->is_index());
  EXPECT_EQ(index->manifests.size(), 1u);
  auto list = parse_manifest(R"({"schemaVersion":2,"mediaType":")" +
                                 std::string(media_type::kDockerManifestList) +
                                 R"(","manifests":)" + children + "}",
                             "");
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->media_type, media_type::kDockerManifestList);
}

TEST(Manifest, RefusesInvalidManifests) {
  EXPECT_FALSE(parse_manifest("not json", ""));
  EXPECT_FALSE(parse_manifest("[]", ""));
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":1})", ""));
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":2})", media_type::kOciManifest));  // no config
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":2,"mediaType":")" +
                                  std::string(media_type::kOciIndex) + R"(","manifests":[]})",
                              media_type::kOciManifest));  // body and header disagree
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:1","size":1}})",
                              media_type::kOciManifest));  // bad digest
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":2,"config":)" +
                                  descriptor("x", kHex64, -1) + "}",
                              media_type::kOciManifest));  // negative size
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":2,"mediaType":"application/json","config":)" +
                                  descriptor("x", kHex64, 1) + "}",
                              ""));  // not a manifest media type
}

}  // namespace
}  // namespace berth::distribution

namespace berth::registry {
namespace {

TEST(Routes, ReadsNamesWithSlashesFromTheEnd) {
  auto r = match_route("/v2/a/b/c/manifests/latest");
  EXPECT_EQ(r.kind, RouteKind::kManifest);
  EXPECT_EQ(r.name, "a/b/c");
  EXPECT_EQ(r.reference, "latest");
  r = match_route("/v2/x/blobs/uploads/");
  EXPECT_EQ(r.kind, RouteKind::kUploadStart);
  EXPECT_EQ(r.name, "x");
  r = match_route("/v2/x/y/blobs/uploads/abc");
  EXPECT_EQ(r.kind, RouteKind::kUpload);
  EXPECT_EQ(r.name, "x/y");
  EXPECT_EQ(r.reference, "abc");
  EXPECT_EQ(match_route("/v2/x/blobs/sha256:00").kind, RouteKind::kBlob);
  EXPECT_EQ(match_route("/v2/x/tags/list").kind, RouteKind::kTags);
  EXPECT_EQ(match_route("/v2/x/referrers/sha256:00").kind, RouteKind::kReferrers);
  EXPECT_EQ(match_route("/v2/_catalog").kind, RouteKind::kCatalog);
  EXPECT_EQ(match_route("/v2/").kind, RouteKind::kBase);
  EXPECT_EQ(match_route("/v2").kind, RouteKind::kBase);
  EXPECT_EQ(match_route("/v1/").kind, RouteKind::kNotFound);
  EXPECT_EQ(match_route("/v1/search").kind, RouteKind::kSearch);
  EXPECT_EQ(match_route("/v2/x/manifests/").kind, RouteKind::kNotFound);
}

TEST(Paginate, Edges) {
  std::vector<std::string> all{"a", "b", "c", "d"};
  auto page = paginate(all, std::nullopt, 2);
  EXPECT_EQ(page.entries, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(page.more);
  page = paginate(all, std::string("b"), 2);
  EXPECT_EQ(page.entries, (std::vector<std::string>{"c", "d"}));
  EXPECT_FALSE(page.more);
  page = paginate(all, std::string("bb"), std::nullopt);  // `last` need not exist
  EXPECT_EQ(page.entries, (std::vector<std::string>{"c", "d"}));
  EXPECT_TRUE(paginate(all, std::nullopt, 0).entries.empty());
  EXPECT_TRUE(paginate(all, std::string("z"), 5).entries.empty());
}

TEST(Url, DecodesAndEncodes) {
  EXPECT_EQ(url::decode_path("/v2/a%2Fb"), "/v2/a/b");
  EXPECT_FALSE(url::decode_path("%G0"));
  EXPECT_FALSE(url::decode_path("%4"));
  auto q = url::parse_query("n=2&last=a%3Ab&artifactType=application%2Fx+y&flag");
  EXPECT_EQ(q.find("n")->second, "2");
  EXPECT_EQ(q.find("last")->second, "a:b");
  EXPECT_EQ(q.find("artifactType")->second, "application/x y");
  EXPECT_EQ(q.count("flag"), 1u);
  EXPECT_EQ(url::encode_component("a b&c/d:e"), "a%20b%26c/d:e");
}

}  // namespace
}  // namespace berth::registry
