#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli/format/json_text.hpp"

namespace berth::cli {
namespace {

TEST(JsonIndent, LikeGoJsonIndent) {
  EXPECT_EQ(json_indent(R"([{"Id":"x","L":[],"M":{},"N":[1,2],"S":"a,b:{c}"}])"),
            "[\n    {\n        \"Id\": \"x\",\n        \"L\": [],\n        \"M\": {},\n"
            "        \"N\": [\n            1,\n            2\n        ],\n"
            "        \"S\": \"a,b:{c}\"\n    }\n]");
  EXPECT_EQ(json_indent("[]"), "[]");
  EXPECT_EQ(json_indent(R"(["a\"b"])"), "[\n    \"a\\\"b\"\n]");
}

TEST(GoJson, CompactAndEscapes) {
  auto v = boost::json::parse(R"({"b":1,"a":"<x>&","n":null,"d":1.5,"big":1984132})");
  EXPECT_EQ(go_json(v), R"({"b":1,"a":"<x>&","n":null,"d":1.5,"big":1984132})");
  EXPECT_EQ(go_json(v, true), R"({"b":1,"a":"\u003cx\u003e\u0026","n":null,"d":1.5,"big":1984132})");
}

TEST(GoPrint, MapsAndSlices) {
  auto v = boost::json::parse(R"({"z":[1,"a"],"a":{"k":true},"n":null})");
  EXPECT_EQ(go_print(v), "map[a:map[k:true] n:<nil> z:[1 a]]");
}

}  // namespace
}  // namespace berth::cli
