#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli/format/template.hpp"

namespace berth::cli {
namespace {

std::string run(const std::string& tmpl, const std::string& data) {
  return Template::parse(tmpl).execute(boost::json::parse(data));
}

TEST(Template, Fields) {
  EXPECT_EQ(run("{{.A}}", R"({"A":"x"})"), "x");
  EXPECT_EQ(run("{{.A.B}}-{{.C}}", R"({"A":{"B":1},"C":true})"), "1-true");
  EXPECT_EQ(run("plain", "{}"), "plain");
}

TEST(Template, IfElse) {
  EXPECT_EQ(run("{{if .A}}yes{{else}}no{{end}}", R"({"A":""})"), "no");
  EXPECT_EQ(run("{{if .A }}{{.A}}{{else}}N/A{{end}}", R"({"A":"v"})"), "v");
  EXPECT_EQ(run("{{if eq .A \"x\"}}1{{else if eq .A \"y\"}}2{{else}}3{{end}}", R"({"A":"y"})"),
            "2");
}

TEST(Template, RangeAndVars) {
  EXPECT_EQ(run("{{range .L}}[{{.}}]{{end}}", R"({"L":[1,2]})"), "[1][2]");
  EXPECT_EQ(run("{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}", R"({"M":{"b":2,"a":1}})"),
            "a=1;b=2;");
  EXPECT_EQ(run("{{range .L}}x{{else}}empty{{end}}", R"({"L":[]})"), "empty");
  EXPECT_EQ(run("{{$x := .A}}{{$x}}", R"({"A":"q"})"), "q");
}

TEST(Template, Functions) {
  EXPECT_EQ(run("{{json .}}", R"({"A":"<x>","B":[1,null]})"), R"({"A":"<x>","B":[1,null]})");
  EXPECT_EQ(run("{{json .A}}", R"({"A":"s"})"), "\"s\"");
  EXPECT_EQ(run("{{index .Labels \"k\"}}", R"({"Labels":{"k":"v"}})"), "v");
  EXPECT_EQ(run("{{index .Labels \"missing\"}}", R"({"Labels":{"k":"v"}})"), "");
  EXPECT_EQ(run("{{join .L \",\"}}", R"({"L":["a","b"]})"), "a,b");
  EXPECT_EQ(run("{{.A | upper}}", R"({"A":"ab"})"), "AB");
  EXPECT_EQ(run("{{len .L}}", R"({"L":[1,2,3]})"), "3");
  EXPECT_EQ(run("{{truncate .A 3}}", R"({"A":"abcdef"})"), "abc");
  EXPECT_EQ(run("{{pad .A 1 2}}|", R"({"A":"x"})"), " x  |");
  EXPECT_EQ(run("{{printf \"%s-%d\" .A .B}}", R"({"A":"x","B":3})"), "x-3");
  EXPECT_EQ(run("{{(index .L 1).N}}", R"({"L":[{"N":1},{"N":2}]})"), "2");
}

TEST(Template, GoPrint) {
  EXPECT_EQ(run("{{.M}}", R"({"M":{"b":"2","a":"1"}})"), "map[a:1 b:2]");
  EXPECT_EQ(run("{{.L}}", R"({"L":["x","y"]})"), "[x y]");
}

TEST(Template, TrimMarkers) {
  EXPECT_EQ(run("a  {{- .A -}}  b", R"({"A":"x"})"), "axb");
}

TEST(Template, Errors) {
  EXPECT_THROW(Template::parse("{{nosuchfunc .A}}"), TemplateError);
  EXPECT_THROW(Template::parse("{{if .A}}"), TemplateError);
  EXPECT_THROW(run("{{.Missing}}", "{}"), TemplateError);
}

TEST(Template, HeaderMode) {
  auto t = Template::parse("{{json .A}} {{upper .B}}");
  EXPECT_EQ(t.execute(boost::json::parse(R"({"A":"NAME","B":"ID"})"), true), "NAME ID");
}

}  // namespace
}  // namespace berth::cli
