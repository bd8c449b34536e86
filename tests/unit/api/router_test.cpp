#include "core/api/router.hpp"

#include <gtest/gtest.h>

using namespace berth::core::api;

namespace {

Router make_router(std::string& hit) {
  Router r;
  auto h = [&hit](std::string name) {
    return [&hit, name](Request&, ResponseWriter&) { hit = name; };
  };
  r.add("GET", "/images/json", h("list"));
  r.add("GET", "/images/{name*}/json", h("inspect"));
  r.add("POST", "/images/{name*}/push", h("push"));
  r.add("DELETE", "/images/{name*}", h("delete"));
  r.add("GET", "/containers/{id}/json", h("container"));
  r.add("POST", "/containers/{id}/attach", h("attach"));
  return r;
}

TEST(Router, LiteralRoutesWinOverGreedyOnesThatNeedASegment) {
  std::string hit;
  Router r = make_router(hit);
  std::map<std::string, std::string> params;
  auto* h = r.match("GET", "/images/json", params);
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(params.empty());
}

TEST(Router, GreedySegmentsTakeRegistryPortsAndSlashes) {
  std::string hit;
  Router r = make_router(hit);
  std::map<std::string, std::string> params;
  ASSERT_NE(r.match("POST", "/images/127.0.0.1:5000/cap/bb/push", params), nullptr);
  EXPECT_EQ(params.at("name"), "127.0.0.1:5000/cap/bb");
  ASSERT_NE(r.match("GET", "/images/cap/bb:v1/json", params), nullptr);
  EXPECT_EQ(params.at("name"), "cap/bb:v1");
  ASSERT_NE(r.match("DELETE", "/images/docker.io/library/busybox:latest", params), nullptr);
  EXPECT_EQ(params.at("name"), "docker.io/library/busybox:latest");
  // A name that itself ends in "json" still routes to inspect, taking all but the last segment.
  ASSERT_NE(r.match("GET", "/images/json/json", params), nullptr);
  EXPECT_EQ(params.at("name"), "json");
}

TEST(Router, MethodAndShapeMustMatch) {
  std::string hit;
  Router r = make_router(hit);
  std::map<std::string, std::string> params;
  EXPECT_EQ(r.match("POST", "/images/json", params), nullptr);
  EXPECT_EQ(r.match("GET", "/containers/abc/json/extra", params), nullptr);
  EXPECT_EQ(r.match("GET", "/containers//json", params), nullptr);
  ASSERT_NE(r.match("GET", "/containers/abc/json", params), nullptr);
  EXPECT_EQ(params.at("id"), "abc");
}

TEST(Router, SplitPathIgnoresEmptySegments) {
  auto parts = split_path("//a///b/");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], "a");
  EXPECT_EQ(parts[1], "b");
}

}  // namespace
