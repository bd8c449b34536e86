// run/create's healthcheck flags become Config.Healthcheck as the docker CLI builds it.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "cli/app/errors.hpp"
#include "cli/app/flags.hpp"
#include "cli/commands/container_opts.hpp"

namespace json = boost::json;

namespace berth::cli {
namespace {

json::object create_body(const std::vector<std::string>& args) {
  ContainerOptions o;
  FlagSet fs;
  add_container_flags(fs, o);
  auto positional = fs.parse(args, false);
  return build_create_request(o, fs, positional, true, 0, 0).body;
}

std::string refusal(const std::vector<std::string>& args) {
  try {
    create_body(args);
  } catch (const StatusError& e) {
    return e.what();
  }
  return "";
}

TEST(ContainerOpts, HealthFlagsMakeAHealthcheckInNanoseconds) {
  auto body = create_body({"--health-cmd", "curl -f localhost", "--health-interval", "1.5s",
                           "--health-timeout", "200ms", "--health-retries", "4",
                           "--health-start-period", "1m", "--health-start-interval", "2s", "img"});
  const auto& hc = body.at("Healthcheck").as_object();
  EXPECT_EQ(hc.at("Test"), json::parse(R"(["CMD-SHELL","curl -f localhost"])"));
  EXPECT_EQ(hc.at("Interval").to_number<int64_t>(), 1500000000);
  EXPECT_EQ(hc.at("Timeout").to_number<int64_t>(), 200000000);
  EXPECT_EQ(hc.at("Retries").to_number<int64_t>(), 4);
  EXPECT_EQ(hc.at("StartPeriod").to_number<int64_t>(), 60000000000);
  EXPECT_EQ(hc.at("StartInterval").to_number<int64_t>(), 2000000000);
}

TEST(ContainerOpts, AnIntervalAloneKeepsTheImagesTest) {
  auto body = create_body({"--health-interval", "5s", "img"});
  const auto& hc = body.at("Healthcheck").as_object();
  EXPECT_FALSE(hc.contains("Test"));
  EXPECT_EQ(hc.at("Interval").to_number<int64_t>(), 5000000000);
  EXPECT_FALSE(create_body({"img"}).contains("Healthcheck"));
}

TEST(ContainerOpts, NoHealthcheckSendsNoneAndConflictsWithTheOthers) {
  auto body = create_body({"--no-healthcheck", "img"});
  EXPECT_EQ(body.at("Healthcheck"), json::parse(R"({"Test":["NONE"]})"));
  EXPECT_EQ(refusal({"--no-healthcheck", "--health-cmd", "true", "img"}),
            "--no-healthcheck conflicts with --health-* options");
  EXPECT_EQ(refusal({"--no-healthcheck", "--health-retries", "2", "img"}),
            "--no-healthcheck conflicts with --health-* options");
}

TEST(ContainerOpts, BadHealthValuesAreRefusedWithDockersWords) {
  EXPECT_EQ(refusal({"--health-interval", "-1s", "img"}), "--health-interval cannot be negative");
  EXPECT_EQ(refusal({"--health-retries", "-1", "img"}), "--health-retries cannot be negative");
  EXPECT_EQ(refusal({"--health-timeout", "soon", "img"}),
            "invalid argument \"soon\" for \"--health-timeout\" flag: time: invalid duration \"soon\"");
}

TEST(ContainerOpts, VolumesFromGoesToTheHostConfig) {
  auto body = create_body({"--volumes-from", "data:ro", "--volumes-from", "other", "img"});
  EXPECT_EQ(body.at("HostConfig").at("VolumesFrom"), json::parse(R"(["data:ro","other"])"));
}

}  // namespace
}  // namespace berth::cli
