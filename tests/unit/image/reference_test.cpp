#include "core/image/reference.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace berth::core::image {
namespace {

const std::string kHex = "8b1a0c5a0b4fbd3b3dcf8c5e52f1e8f1a3c0f0f4d1a8f6e1f1a8a9bce3d2a1f0";
const std::string kDigest = "sha256:" + kHex;

struct ValidCase {
  std::string input;
  std::string domain;
  std::string path;
  std::string tag;
  std::string digest;
  std::string familiar;  // familiar_string()
};

void PrintTo(const ValidCase& c, std::ostream* os) { *os << '"' << c.input << '"'; }

class ValidReferenceTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidReferenceTest, ParsesAndNormalises) {
  const auto& c = GetParam();
  auto ref = parse_normalized(c.input);
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->domain, c.domain);
  EXPECT_EQ(ref->path, c.path);
  EXPECT_EQ(ref->tag, c.tag);
  EXPECT_EQ(ref->digest, c.digest);
  EXPECT_EQ(ref->familiar_string(), c.familiar);
  EXPECT_EQ(ref->name(), c.domain + "/" + c.path);

  std::string full = c.domain + "/" + c.path;
  if (!c.tag.empty()) full += ":" + c.tag;
  if (!c.digest.empty()) full += "@" + c.digest;
  EXPECT_EQ(ref->string(), full);

  // Normalisation is idempotent: both printed forms parse back to the same reference.
  auto again = parse_normalized(ref->string());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, *ref);
  auto familiar = parse_normalized(ref->familiar_string());
  ASSERT_TRUE(familiar) << familiar.error().message;
  EXPECT_EQ(*familiar, *ref);
}

const std::string k237(237, 'a');  // "docker.io/library/" is 18 characters: 18 + 237 = 255
const std::string kTag128 = "t" + std::string(127, '1');

INSTANTIATE_TEST_SUITE_P(
    Table, ValidReferenceTest,
    ::testing::Values(
        ValidCase{"busybox", "docker.io", "library/busybox", "", "", "busybox"},
        ValidCase{"busybox:local", "docker.io", "library/busybox", "local", "", "busybox:local"},
        ValidCase{"busybox:latest", "docker.io", "library/busybox", "latest", "", "busybox:latest"},
        ValidCase{"cap/bb:v1", "docker.io", "cap/bb", "v1", "", "cap/bb:v1"},
        ValidCase{"127.0.0.1:5000/cap/bb:v1", "127.0.0.1:5000", "cap/bb", "v1", "",
                  "127.0.0.1:5000/cap/bb:v1"},
        ValidCase{"localhost/x", "localhost", "x", "", "", "localhost/x"},
        ValidCase{"localhost:5000/x:1", "localhost:5000", "x", "1", "", "localhost:5000/x:1"},
        // Without a slash "localhost" is an image name and ":5000" its tag.
        ValidCase{"localhost", "docker.io", "library/localhost", "", "", "localhost"},
        ValidCase{"localhost:5000", "docker.io", "library/localhost", "5000", "", "localhost:5000"},
        ValidCase{"docker.io/library/busybox", "docker.io", "library/busybox", "", "", "busybox"},
        ValidCase{"docker.io/busybox", "docker.io", "library/busybox", "", "", "busybox"},
        ValidCase{"library/busybox", "docker.io", "library/busybox", "", "", "busybox"},
        ValidCase{"index.docker.io/x", "docker.io", "library/x", "", "", "x"},
        ValidCase{"index.docker.io/cap/x:2", "docker.io", "cap/x", "2", "", "cap/x:2"},
        ValidCase{"docker.io/library/a/b", "docker.io", "library/a/b", "", "", "library/a/b"},
        ValidCase{"gcr.io/library/x", "gcr.io", "library/x", "", "", "gcr.io/library/x"},
        ValidCase{"x@" + kDigest, "docker.io", "library/x", "", kDigest, "x@" + kDigest},
        ValidCase{"x:tag@" + kDigest, "docker.io", "library/x", "tag", kDigest, "x:tag@" + kDigest},
        ValidCase{"cap/bb@" + kDigest, "docker.io", "cap/bb", "", kDigest, "cap/bb@" + kDigest},
        ValidCase{"quay.io/prometheus/node-exporter:v1.7.0", "quay.io", "prometheus/node-exporter",
                  "v1.7.0", "", "quay.io/prometheus/node-exporter:v1.7.0"},
        ValidCase{"foo.com:8080/a/b/c:1.0-rc_1", "foo.com:8080", "a/b/c", "1.0-rc_1", "",
                  "foo.com:8080/a/b/c:1.0-rc_1"},
        ValidCase{"ab-c__d_e/f---g.h", "docker.io", "ab-c__d_e/f---g.h", "", "",
                  "ab-c__d_e/f---g.h"},
        ValidCase{"a_b", "docker.io", "library/a_b", "", "", "a_b"},
        ValidCase{"a__b", "docker.io", "library/a__b", "", "", "a__b"},
        ValidCase{"0", "docker.io", "library/0", "", "", "0"},
        // Uppercase is allowed in a domain (it is what makes "Foo" a domain) and in tags.
        ValidCase{"Foo/bar", "Foo", "bar", "", "", "Foo/bar"},
        ValidCase{"Registry.Example.com/x:TAG_1", "Registry.Example.com", "x", "TAG_1", "",
                  "Registry.Example.com/x:TAG_1"},
        ValidCase{"my-registry.local/x", "my-registry.local", "x", "", "", "my-registry.local/x"},
        ValidCase{"[::1]:5000/x", "[::1]:5000", "x", "", "", "[::1]:5000/x"},
        ValidCase{"[2001:db8::1]/ns/x", "[2001:db8::1]", "ns/x", "", "", "[2001:db8::1]/ns/x"},
        ValidCase{"x:" + kTag128, "docker.io", "library/x", kTag128, "", "x:" + kTag128},
        ValidCase{k237, "docker.io", "library/" + k237, "", "", k237}));

struct InvalidCase {
  std::string input;
  std::string message;
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << '"' << c.input << '"'; }

class InvalidReferenceTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidReferenceTest, IsRefused) {
  const auto& c = GetParam();
  auto ref = parse_normalized(c.input);
  ASSERT_FALSE(ref) << "parsed as " << ref->string();
  EXPECT_EQ(ref.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ref.error().message, c.message);
  auto tagged = parse_normalized_tagged(c.input);
  ASSERT_FALSE(tagged);
  EXPECT_EQ(tagged.error().message, c.message);
}

const std::string kFormat = "invalid reference format";
const std::string kLower = "invalid reference format: repository name must be lowercase";
const std::string kTooLong = "repository name must not be more than 255 characters";

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidReferenceTest,
    ::testing::Values(
        InvalidCase{"", kFormat}, InvalidCase{"UPPER", kLower},
        InvalidCase{"Busybox:latest", kLower}, InvalidCase{"cap/BB", kLower},
        InvalidCase{"docker.io/Library/x", kLower}, InvalidCase{"a::b", kFormat},
        InvalidCase{"-a", kFormat}, InvalidCase{"a-", kFormat}, InvalidCase{"a/", kFormat},
        InvalidCase{"/a", kFormat}, InvalidCase{"a//b", kFormat}, InvalidCase{":tag", kFormat},
        InvalidCase{"x:", kFormat}, InvalidCase{"x@", kFormat}, InvalidCase{"x:tag:tag", kFormat},
        InvalidCase{"x:.tag", kFormat}, InvalidCase{"x:-tag", kFormat},
        InvalidCase{"x:" + kTag128 + "1", kFormat}, InvalidCase{"a...b", kFormat},
        InvalidCase{"a__.b", kFormat}, InvalidCase{"a_-b", kFormat}, InvalidCase{"a___b", kFormat},
        InvalidCase{"a b", kFormat}, InvalidCase{"a/b c", kFormat}, InvalidCase{"a+b", kFormat},
        InvalidCase{"foo.com:/x", kFormat}, InvalidCase{"foo.com:abc/x", kFormat},
        InvalidCase{"-foo.com/x", kFormat}, InvalidCase{"foo-.com/x", kFormat},
        InvalidCase{"foo..com/x", kFormat},
        // distribution/reference would read this as a domain-less path; we refuse it.
        InvalidCase{"foo_bar.com/x", kFormat}, InvalidCase{"[::1/x", kFormat},
        InvalidCase{"[::g]/x", kFormat}, InvalidCase{"x@sha256:short", kFormat},
        InvalidCase{"x@sha256:" + kHex.substr(0, 31), kFormat},
        InvalidCase{"x@sha256:" + kHex + "/x", kFormat}, InvalidCase{"x@" + kHex, kFormat},
        InvalidCase{"x@sha256:" + kHex.substr(0, 63), "invalid checksum digest length"},
        InvalidCase{"x@sha256:" + std::string(64, 'A'), "invalid checksum digest format"},
        InvalidCase{"x@sha512:" + std::string(128, 'a'), "unsupported digest algorithm"},
        InvalidCase{kHex, "invalid repository name (" + kHex +
                              "), cannot specify 64-byte hexadecimal strings"},
        InvalidCase{std::string(256, 'a'), kTooLong}, InvalidCase{std::string(238, 'a'), kTooLong},
        InvalidCase{"registry.example.com/" + std::string(235, 'a'), kTooLong}));

TEST(ReferenceTest, TaggedAddsLatestOnlyWhenNothingPins) {
  auto plain = parse_normalized_tagged("busybox");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->tag, "latest");
  EXPECT_EQ(plain->familiar_string(), "busybox:latest");
  EXPECT_EQ(plain->string(), "docker.io/library/busybox:latest");

  auto tagged = parse_normalized_tagged("cap/bb:v1");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->tag, "v1");

  auto digested = parse_normalized_tagged("cap/bb@" + kDigest);
  ASSERT_TRUE(digested);
  EXPECT_TRUE(digested->tag.empty());
  EXPECT_EQ(digested->familiar_string(), "cap/bb@" + kDigest);

  auto untagged = parse_normalized("busybox");
  ASSERT_TRUE(untagged);
  EXPECT_TRUE(untagged->tag.empty());
}

TEST(ReferenceTest, FamiliarNameForms) {
  EXPECT_EQ(parse_normalized("docker.io/library/busybox:1")->familiar_name(), "busybox");
  EXPECT_EQ(parse_normalized("cap/bb")->familiar_name(), "cap/bb");
  EXPECT_EQ(parse_normalized("127.0.0.1:5000/cap/bb")->familiar_name(), "127.0.0.1:5000/cap/bb");
  EXPECT_EQ(parse_normalized("busybox")->name(), "docker.io/library/busybox");
}

TEST(ReferenceTest, IdForms) {
  EXPECT_TRUE(is_full_id(kHex));
  EXPECT_TRUE(is_full_id(kDigest));
  EXPECT_FALSE(is_full_id(kHex.substr(0, 63)));
  EXPECT_FALSE(is_full_id(kHex + "0"));
  EXPECT_FALSE(is_full_id("sha256:"));
  EXPECT_FALSE(is_full_id(std::string(64, 'A')));
  EXPECT_FALSE(is_full_id("sha512:" + kHex));

  EXPECT_TRUE(is_id_prefix("8b1a"));
  EXPECT_TRUE(is_id_prefix("sha256:8b1a0c"));
  EXPECT_TRUE(is_id_prefix(kHex));
  EXPECT_TRUE(is_id_prefix(kDigest));
  EXPECT_FALSE(is_id_prefix(""));
  EXPECT_FALSE(is_id_prefix("sha256:"));
  EXPECT_FALSE(is_id_prefix("busybox"));
  EXPECT_FALSE(is_id_prefix("8B1A"));
  EXPECT_FALSE(is_id_prefix(kHex + "0"));
}

}  // namespace
}  // namespace berth::core::image
