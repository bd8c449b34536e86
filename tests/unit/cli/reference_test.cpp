#include <gtest/gtest.h>

#include "cli/util/reference.hpp"

namespace berth::cli {
namespace {

TEST(Reference, NormalisesLikeDocker) {
  Reference r;
  ASSERT_TRUE(Reference::parse("busybox", &r));
  EXPECT_EQ(r.name(), "docker.io/library/busybox");
  EXPECT_EQ(r.familiar_name(), "busybox");
  EXPECT_EQ(r.tag, "");
  ASSERT_TRUE(Reference::parse("cap/bb:v1", &r));
  EXPECT_EQ(r.name(), "docker.io/cap/bb");
  EXPECT_EQ(r.tag, "v1");
  ASSERT_TRUE(Reference::parse("127.0.0.1:5000/cap/bb:v1", &r));
  EXPECT_EQ(r.domain, "127.0.0.1:5000");
  EXPECT_EQ(r.familiar_string(), "127.0.0.1:5000/cap/bb:v1");
  ASSERT_TRUE(Reference::parse("localhost/x@sha256:abcd", &r));
  EXPECT_EQ(r.digest, "sha256:abcd");
  ASSERT_TRUE(Reference::parse("docker.io/library/busybox:local", &r));
  EXPECT_EQ(r.familiar_string(), "busybox:local");
}

TEST(Reference, RejectsInvalid) {
  Reference r;
  EXPECT_FALSE(Reference::parse("Busybox", &r));
  EXPECT_FALSE(Reference::parse("a:b:c", &r));
  EXPECT_FALSE(Reference::parse("", &r));
}

TEST(Reference, FullIds) {
  EXPECT_TRUE(is_full_image_id(std::string(64, 'a')));
  EXPECT_TRUE(is_full_image_id("sha256:" + std::string(64, '0')));
  EXPECT_FALSE(is_full_image_id("abc"));
}

}  // namespace
}  // namespace berth::cli
