#include <gtest/gtest.h>

#include "core/api/filters.hpp"
#include "core/api/request.hpp"

using namespace berth::core::api;
using berth::core::filter_bool;

namespace {

TEST(Query, DecodesLikeGo) {
  auto q = parse_query("a=1&b=x+y&c=%7B%22k%22%3A1%7D&flag&a=2&=empty");
  EXPECT_EQ(q.count("a"), 2u);
  EXPECT_EQ(q.find("b")->second, "x y");
  EXPECT_EQ(q.find("c")->second, R"({"k":1})");
  EXPECT_EQ(q.find("flag")->second, "");
  EXPECT_EQ(percent_decode("%2x%41", false), "%2xA");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
}

TEST(Query, BooleansAndIntegersAsDockerReadsThem) {
  Request r;
  r.query = parse_query("all=1&x=true&y=True&n=0&f=false&t=42&neg=-3&bad=4x");
  EXPECT_TRUE(r.query_bool("all"));
  EXPECT_TRUE(r.query_bool("x"));
  EXPECT_TRUE(r.query_bool("y"));
  EXPECT_FALSE(r.query_bool("n"));
  EXPECT_FALSE(r.query_bool("f"));
  EXPECT_TRUE(r.query_bool("missing", true));
  EXPECT_EQ(*r.query_int("t", 0), 42);
  EXPECT_EQ(*r.query_int("neg", 0), -3);
  EXPECT_EQ(*r.query_int("missing", 7), 7);
  auto bad = r.query_int("bad", 0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "invalid value for bad: \"4x\"");
}

TEST(Filters, CurrentAndLegacyShapes) {
  auto f = parse_filters(R"({"label":{"a=b":true,"c":true,"off":false},"name":["x","y"]})");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->at("label"), (std::set<std::string>{"a=b", "c"}));
  EXPECT_EQ(f->at("name"), (std::set<std::string>{"x", "y"}));
  EXPECT_FALSE(parse_filters("[1]"));
  EXPECT_FALSE(parse_filters(R"({"label":"x"})"));
  EXPECT_TRUE(parse_filters("")->empty());
}

TEST(Filters, UnknownKeysAreRefusedLikeDocker) {
  Request r;
  r.query = parse_query("filters=%7B%22colour%22%3A%7B%22x%22%3Atrue%7D%7D");
  auto f = request_filters(r, {"label"});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "invalid filter 'colour'");
}

TEST(Filters, BooleanValues) {
  auto f = parse_filters(R"({"dangling":{"true":true}})");
  EXPECT_TRUE(*filter_bool(*f, "dangling", false));
  auto g = parse_filters(R"({"dangling":{"maybe":true}})");
  EXPECT_FALSE(filter_bool(*g, "dangling", false));
  EXPECT_FALSE(*filter_bool(*f, "other", false));
}

}  // namespace
