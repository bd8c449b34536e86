#include "core/image/image_config.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using berth::core::image::ImageConfig;

namespace {

const char* kDigest = "sha256:0b9a021f7a20d3d8ab2cb1e1e0e3ab0db4a5f8a2bd2b0a1c4f0e8e6e3d7b0c59";

TEST(ImageConfig, ReadsWhatTheStoreNeeds) {
  std::string text = std::string(R"({"architecture":"amd64","os":"linux","created":"2026-11-22T18:22:06.660845409Z",
    "author":"me","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[")") + kDigest + R"("]},
    "history":[{"created":"2026-11-22T18:22:06Z","comment":"Imported from -"},{"created_by":"ENV x","empty_layer":true}]})";
  auto c = ImageConfig::parse(text);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->bytes(), text);  // exact bytes: the id is their digest
  ASSERT_EQ(c->diff_ids().size(), 1u);
  EXPECT_EQ(c->diff_ids()[0], kDigest);
  EXPECT_EQ(c->created_unix_nano(), 1795371726660845409);
  EXPECT_EQ(c->comment(), "Imported from -");
  EXPECT_EQ(c->author(), "me");
  ASSERT_EQ(c->history().size(), 2u);
  EXPECT_TRUE(c->history()[1].empty_layer);
  EXPECT_EQ(boost::json::serialize(c->container_config()), R"({"Cmd":["sh"]})");
}

TEST(ImageConfig, RefusesWhatBerthCannotRun) {
  EXPECT_FALSE(ImageConfig::parse("[]"));
  EXPECT_FALSE(ImageConfig::parse(R"({"rootfs":{"diff_ids":["sha256:short"]}})"));
  auto windows = ImageConfig::parse(R"({"os":"windows"})");
  ASSERT_FALSE(windows);
  EXPECT_EQ(windows.error().message, "image is for os \"windows\", not linux");
}

TEST(ImageConfig, FullContainerConfigHasDockersKeys) {
  auto full = berth::core::image::full_container_config(boost::json::object{{"Cmd", boost::json::array{"sh"}}});
  for (const char* key : {"Hostname", "Domainname", "User", "AttachStdin", "AttachStdout",
                          "AttachStderr", "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd", "Image",
                          "Volumes", "WorkingDir", "Entrypoint", "OnBuild", "Labels"}) {
    EXPECT_TRUE(full.contains(key)) << key;
  }
  EXPECT_FALSE(full.contains("ExposedPorts"));  // only when set, like dockerd
}

}  // namespace
