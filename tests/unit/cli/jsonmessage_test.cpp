#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli/stream/json_stream.hpp"
#include "cli/stream/jsonmessage.hpp"

namespace berth::cli {
namespace {

std::string render(const std::string& stream, bool terminal) {
  std::string out;
  JsonMessageRenderer r([&](const std::string& s) { out += s; }, terminal, 120);
  JsonStreamDecoder dec([&](boost::json::value v) { r.display(v); });
  dec.feed(stream);
  dec.finish();
  return out;
}

TEST(JsonMessage, NonTerminalSkipsProgressBars) {
  std::string s =
      "{\"status\":\"Pulling from cap/fresh\",\"id\":\"v1\"}\r\n"
      "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"f9db9d3c1e1a\"}\r\n"
      "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":36445,\"total\":3001160},"
      "\"progress\":\"[>  ]\",\"id\":\"f9db9d3c1e1a\"}\r\n"
      "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"f9db9d3c1e1a\"}\r\n"
      "{\"status\":\"Digest: sha256:7f3e\"}\r\n";
  EXPECT_EQ(render(s, false),
            "v1: Pulling from cap/fresh\nf9db9d3c1e1a: Pulling fs layer\n"
            "f9db9d3c1e1a: Pull complete\nDigest: sha256:7f3e\n");
}

TEST(JsonMessage, StreamAndAux) {
  std::string aux;
  std::string out;
  JsonMessageRenderer r([&](const std::string& s) { out += s; }, false, 120);
  r.set_aux_callback([&](const boost::json::value& v) { aux = v.at("ID").as_string().c_str(); });
  JsonStreamDecoder dec([&](boost::json::value v) { r.display(v); });
  dec.feed(R"({"stream":"Loaded image: cap/bb:v1\n"}{"aux":{"ID":"sha256:1"}})");
  EXPECT_EQ(out, "Loaded image: cap/bb:v1\n");
  EXPECT_EQ(aux, "sha256:1");
}

TEST(JsonMessage, ErrorDetailThrowsWithCode) {
  try {
    render(R"({"errorDetail":{"code":7,"message":"boom"},"error":"boom"})", false);
    FAIL();
  } catch (const JsonMessageError& e) {
    EXPECT_STREQ(e.what(), "boom");
    EXPECT_EQ(e.code(), 7);
  }
}

TEST(JsonMessage, TerminalRedrawsPerId) {
  std::string s =
      "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"a\"}"
      "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"b\"}"
      "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":500,\"total\":1000},"
      "\"id\":\"a\"}";
  std::string out = render(s, true);
  // The third message moves the cursor up two lines to a's line and back down.
  EXPECT_NE(out.find("\x1b[2A\x1b[2K\ra: Downloading "), std::string::npos);
  EXPECT_NE(out.find("500B/1kB\r\x1b[2B"), std::string::npos);
}

TEST(JsonMessage, ProgressBar) {
  auto d = boost::json::parse(R"({"current":36445,"total":3001160})");
  EXPECT_EQ(render_progress(d, 200, 0),
            "[>                                                  ]  36.45kB/3.001MB");
  EXPECT_EQ(render_progress(d, 80, 0), " 36.45kB/3.001MB");
  EXPECT_EQ(go_duration_string(62), "1m2s");
  EXPECT_EQ(go_duration_string(3600), "1h0m0s");
}

}  // namespace
}  // namespace berth::cli
