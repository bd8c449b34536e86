// Healthcheck policy: the merge of a create's Healthcheck with the image's, dockerd's checks, the
// probe a config means, and what results do to State.Health. No kernel, no clock.
#include "core/container/health.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace json = boost::json;

namespace berth::core::container {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

json::object parse(std::string_view text) { return json::parse(text).as_object(); }

ProbeResult result(int64_t start, int exit_code, std::string output = "") {
  return ProbeResult{start, start + 1000, exit_code, std::move(output)};
}

TEST(HealthMerge, TheContainersNonZeroFieldsOverrideTheImagesOneByOne) {
  json::value image = parse(R"({"Test":["CMD-SHELL","img-check"],"Interval":5000000000,
                                "Timeout":2000000000,"Retries":7,"StartPeriod":1000000000})");
  json::value ctr = parse(R"({"Interval":1000000000,"Retries":0})");
  auto merged = merge_healthcheck(&ctr, &image).as_object();
  EXPECT_EQ(merged.at("Test"), json::parse(R"(["CMD-SHELL","img-check"])"));
  EXPECT_EQ(merged.at("Interval").to_number<int64_t>(), kSecond);
  EXPECT_EQ(merged.at("Timeout").to_number<int64_t>(), 2 * kSecond);
  EXPECT_EQ(merged.at("Retries").to_number<int64_t>(), 7);
  EXPECT_EQ(merged.at("StartPeriod").to_number<int64_t>(), kSecond);
}

TEST(HealthMerge, EitherSideAloneIsTakenAsItIs) {
  json::value image = parse(R"({"Test":["CMD","true"]})");
  EXPECT_EQ(merge_healthcheck(nullptr, &image), image);
  json::value ctr = parse(R"({"Test":["CMD","false"]})");
  EXPECT_EQ(merge_healthcheck(&ctr, nullptr), ctr);
  json::value null;
  EXPECT_TRUE(merge_healthcheck(&null, &null).is_null());
  // docker-py sends nulls for what it was not given; Go's omitempty drops them and zeros.
  json::value sparse = parse(R"({"Test":["CMD","x"],"Interval":null,"Timeout":0,"Retries":2})");
  EXPECT_EQ(merge_healthcheck(&sparse, nullptr), parse(R"({"Test":["CMD","x"],"Retries":2})"));
}

TEST(HealthMerge, NoneFromTheContainerDisablesTheImagesCheck) {
  json::value image = parse(R"({"Test":["CMD-SHELL","check"],"Interval":5000000000})");
  json::value ctr = parse(R"({"Test":["NONE"]})");
  auto merged = merge_healthcheck(&ctr, &image);
  json::object config{{"Healthcheck", merged}};
  EXPECT_FALSE(probe_config(config).has_value());
}

TEST(HealthValidate, RefusesWithDockerdsWords) {
  EXPECT_TRUE(validate_healthcheck(parse(R"({"Interval":0,"Retries":0})")));
  EXPECT_EQ(validate_healthcheck(parse(R"({"Interval":999})")).error().message,
            "Interval in Healthcheck cannot be less than 1ms");
  EXPECT_EQ(validate_healthcheck(parse(R"({"Timeout":5})")).error().message,
            "Timeout in Healthcheck cannot be less than 1ms");
  EXPECT_EQ(validate_healthcheck(parse(R"({"Retries":-1})")).error().message,
            "Retries in Healthcheck cannot be negative");
  EXPECT_EQ(validate_healthcheck(parse(R"({"StartPeriod":10})")).error().message,
            "StartPeriod in Healthcheck cannot be less than 1ms");
  EXPECT_EQ(validate_healthcheck(parse(R"({"StartInterval":10})")).error().message,
            "StartInterval in Healthcheck cannot be less than 1ms");
}

TEST(HealthProbe, CmdShellRunsInTheContainersShellAndDefaultsAreDockerds) {
  auto p = probe_config(parse(R"({"Healthcheck":{"Test":["CMD-SHELL","test -f /x"]}})"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->argv, (std::vector<std::string>{"/bin/sh", "-c", "test -f /x"}));
  EXPECT_EQ(p->interval, 30 * kSecond);
  EXPECT_EQ(p->timeout, 30 * kSecond);
  EXPECT_EQ(p->start_period, 0);
  EXPECT_EQ(p->start_interval, 5 * kSecond);
  EXPECT_EQ(p->retries, 3);
  auto shell = probe_config(
      parse(R"({"Shell":["/bin/ash","-ec"],"Healthcheck":{"Test":["CMD-SHELL","true"]}})"));
  EXPECT_EQ(shell->argv, (std::vector<std::string>{"/bin/ash", "-ec", "true"}));
  auto cmd = probe_config(parse(R"({"Healthcheck":{"Test":["CMD","cat","/x"],"Retries":1}})"));
  EXPECT_EQ(cmd->argv, (std::vector<std::string>{"cat", "/x"}));
  EXPECT_EQ(cmd->retries, 1);
  EXPECT_FALSE(probe_config(parse(R"({"Healthcheck":{"Test":[]}})")));
  EXPECT_FALSE(probe_config(parse(R"({"Healthcheck":{"Test":["HTTP","x"]}})")));
  EXPECT_FALSE(probe_config(parse(R"({"Healthcheck":null})")));
  EXPECT_FALSE(probe_config(parse(R"({"Healthcheck":{"Test":["CMD"]}})")));
}

TEST(HealthResults, RetriesConsecutiveFailuresMakeItUnhealthyAndOneSuccessHealthy) {
  ProbeConfig p;
  p.retries = 2;
  HealthState h;
  EXPECT_TRUE(record_probe_result(h, p, result(10 * kSecond, 0), 0));
  EXPECT_EQ(h.status, HealthStatus::kHealthy);
  EXPECT_FALSE(record_probe_result(h, p, result(11 * kSecond, 1), 0));
  EXPECT_EQ(h.failing_streak, 1);
  EXPECT_EQ(h.status, HealthStatus::kHealthy);
  EXPECT_TRUE(record_probe_result(h, p, result(12 * kSecond, -1), 0));
  EXPECT_EQ(h.status, HealthStatus::kUnhealthy);
  EXPECT_EQ(h.failing_streak, 2);
  EXPECT_TRUE(record_probe_result(h, p, result(13 * kSecond, 0), 0));
  EXPECT_EQ(h.status, HealthStatus::kHealthy);
  EXPECT_EQ(h.failing_streak, 0);
}

TEST(HealthResults, FailuresInTheStartPeriodDoNotCountWhileStarting) {
  ProbeConfig p;
  p.retries = 1;
  p.start_period = 10 * kSecond;
  HealthState h;
  const int64_t started = 100 * kSecond;
  EXPECT_FALSE(record_probe_result(h, p, result(started + 5 * kSecond, 1), started));
  EXPECT_EQ(h.status, HealthStatus::kStarting);
  EXPECT_EQ(h.failing_streak, 0);
  EXPECT_TRUE(record_probe_result(h, p, result(started + 10 * kSecond, 1), started));
  EXPECT_EQ(h.status, HealthStatus::kUnhealthy);
  // Once healthy, the start period no longer shields a failure.
  HealthState healthy;
  record_probe_result(healthy, p, result(started + 1, 0), started);
  EXPECT_TRUE(record_probe_result(healthy, p, result(started + 2, 1), started));
  EXPECT_EQ(healthy.status, HealthStatus::kUnhealthy);
}

TEST(HealthResults, TheLogKeepsTheLastFive) {
  ProbeConfig p;
  HealthState h;
  for (int i = 0; i < 8; ++i) record_probe_result(h, p, result(i, 0, std::to_string(i)), 0);
  ASSERT_EQ(h.log.size(), 5U);
  EXPECT_EQ(h.log.front().output, "3");
  EXPECT_EQ(h.log.back().output, "7");
}

TEST(HealthResults, MonitoringStartsStartingAndStopsUnhealthyKeepingTheLog) {
  ProbeConfig p;
  HealthState h;
  record_probe_result(h, p, result(1, 0), 0);
  health_monitor_stopped(h);
  EXPECT_EQ(h.status, HealthStatus::kUnhealthy);
  h.failing_streak = 2;
  health_monitor_started(h);
  EXPECT_EQ(h.status, HealthStatus::kStarting);
  EXPECT_EQ(h.failing_streak, 0);
  EXPECT_EQ(h.log.size(), 1U);
}

TEST(HealthSchedule, StartIntervalInsideTheStartPeriodThenTheInterval) {
  ProbeConfig p;
  p.interval = 30 * kSecond;
  p.start_period = 60 * kSecond;
  p.start_interval = 2 * kSecond;
  EXPECT_EQ(next_probe_delay(p, HealthStatus::kStarting, 0), 2 * kSecond);
  EXPECT_EQ(next_probe_delay(p, HealthStatus::kHealthy, 0), 30 * kSecond);
  // The rest of the start period when it is shorter than the interval.
  EXPECT_EQ(next_probe_delay(p, HealthStatus::kStarting, 50 * kSecond), 10 * kSecond);
  EXPECT_EQ(next_probe_delay(p, HealthStatus::kStarting, 60 * kSecond), 30 * kSecond);
  ProbeConfig plain;
  plain.interval = kSecond;
  EXPECT_EQ(next_probe_delay(plain, HealthStatus::kStarting, 0), kSecond);
}

TEST(HealthOutput, KeepsTheFirst4096BytesAndMarksTheCut) {
  ProbeOutput out;
  out.append("abc");
  EXPECT_EQ(out.text(), "abc");
  out.append(std::string(5000, 'x'));
  std::string text = out.text();
  EXPECT_EQ(text.size(), 4096U + 3);
  EXPECT_EQ(text.substr(0, 3), "abc");
  EXPECT_EQ(text.substr(4096), "...");
  ProbeOutput exact;
  exact.append(std::string(4096, 'y'));
  EXPECT_EQ(exact.text().size(), 4096U);
}

TEST(HealthOutput, FramesAreUnwrappedAcrossReadsOfAnySize) {
  auto frame = [](char stream, std::string_view payload) {
    std::string h = {stream, 0, 0, 0, 0, 0, static_cast<char>(payload.size() >> 8),
                     static_cast<char>(payload.size() & 0xff)};
    return h + std::string(payload);
  };
  std::string wire = frame(1, "out\n") + frame(2, "err\n") + frame(1, std::string(300, 'z'));
  for (size_t chunk : {1UL, 3UL, 8UL, 13UL, wire.size()}) {
    ProbeOutput out;
    for (size_t i = 0; i < wire.size(); i += chunk) out.append_frames(wire.substr(i, chunk));
    EXPECT_EQ(out.text(), "out\nerr\n" + std::string(300, 'z')) << chunk;
  }
}

TEST(HealthText, GoDurationsAndStatusTexts) {
  EXPECT_EQ(go_duration(0), "0s");
  EXPECT_EQ(go_duration(kSecond), "1s");
  EXPECT_EQ(go_duration(1500 * 1000000LL), "1.5s");
  EXPECT_EQ(go_duration(500 * 1000000LL), "500ms");
  EXPECT_EQ(go_duration(90 * kSecond), "1m30s");
  EXPECT_EQ(go_duration(3600 * kSecond), "1h0m0s");
  EXPECT_EQ(go_duration(1500), "1.5µs");
  EXPECT_EQ(health_status_text(HealthStatus::kStarting), "health: starting");
  EXPECT_EQ(health_status_text(HealthStatus::kHealthy), "healthy");
  EXPECT_EQ(health_status_text(HealthStatus::kUnhealthy), "unhealthy");
}

TEST(HealthJson, InspectShapeAndRecordRoundTrip) {
  HealthState h;
  ProbeConfig p;
  record_probe_result(h, p, ProbeResult{kSecond, 2 * kSecond, 1, "no\n"}, 0);
  auto j = health_json(h);
  EXPECT_EQ(j.at("Status"), "starting");
  EXPECT_EQ(j.at("FailingStreak").to_number<int64_t>(), 1);
  const auto& entry = j.at("Log").as_array().at(0).as_object();
  EXPECT_EQ(std::string(entry.at("Start").as_string()).substr(0, 19), "1970-01-01T00:00:01");
  EXPECT_EQ(entry.at("ExitCode").to_number<int64_t>(), 1);
  EXPECT_EQ(entry.at("Output"), "no\n");
  auto back = health_from_record_json(health_record_json(h));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, HealthStatus::kStarting);
  EXPECT_EQ(back->failing_streak, 1);
  ASSERT_EQ(back->log.size(), 1U);
  EXPECT_EQ(back->log[0].end, 2 * kSecond);
}

}  // namespace
}  // namespace berth::core::container
