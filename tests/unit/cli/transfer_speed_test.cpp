#include "cli/stream/transfer_speed.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli/stream/json_stream.hpp"
#include "cli/stream/jsonmessage.hpp"

namespace berth::cli {
namespace {

TEST(TransferSpeed, BytesSinceFirstSampleOverTime) {
  TransferSpeed s;
  s.sample("a", 1000, 10.0);
  EXPECT_EQ(s.render("a"), "");  // one sample: no speed yet
  s.sample("a", 1000 + 5000000, 10.4);
  EXPECT_EQ(s.render("a"), "");  // under half a second: too early to say
  s.sample("a", 1000 + 25000000, 12.0);
  EXPECT_EQ(s.render("a"), " 12.5MB/s");
  EXPECT_EQ(s.render("b"), "");
}

TEST(TransferSpeed, ANewPhaseStartsOver) {
  TransferSpeed s;
  s.sample("a", 0, 0.0);
  s.sample("a", 40000000, 1.0);
  EXPECT_EQ(s.render("a"), " 40MB/s");
  s.sample("a", 1000, 1.1);  // Downloading done, Extracting starts from 0
  EXPECT_EQ(s.render("a"), "");
  s.sample("a", 2001000, 2.1);
  EXPECT_EQ(s.render("a"), " 2MB/s");
}

TEST(TransferSpeed, TerminalBarsShowTheSpeedPerLayer) {
  double now = 100.0;
  std::string out;
  JsonMessageRenderer r([&](const std::string& s) { out += s; }, true, 120, [&] { return now; });
  auto say = [&](const std::string& id, int current) {
    r.display(boost::json::parse(R"({"status":"Downloading","id":")" + id +
                                 R"(","progressDetail":{"current":)" + std::to_string(current) +
                                 R"(,"total":100000000}})"));
  };
  say("a", 1000000);
  say("b", 1000000);
  now = 102.0;
  out.clear();
  say("a", 21000000);
  EXPECT_NE(out.find("21MB/100MB"), std::string::npos) << out;
  EXPECT_NE(out.find(" 10MB/s\r"), std::string::npos) << out;
  out.clear();
  say("b", 3000000);
  EXPECT_NE(out.find(" 1MB/s\r"), std::string::npos) << out;
  // Not a terminal: no bars, so no speeds either.
  std::string plain;
  JsonMessageRenderer p([&](const std::string& s) { plain += s; }, false, 120, [&] { return now; });
  p.display(boost::json::parse(
      R"({"status":"Downloading","id":"a","progressDetail":{"current":5,"total":10}})"));
  EXPECT_EQ(plain, "");
}

}  // namespace
}  // namespace berth::cli
