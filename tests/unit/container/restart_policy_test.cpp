#include "core/container/restart_policy.hpp"

#include <gtest/gtest.h>

using namespace berth::core::container;

namespace {

RunEnd failed(int code = 1, int64_t ran_ms = 50) {
  RunEnd e;
  e.exit_code = code;
  e.ran_ms = ran_ms;
  return e;
}

TEST(RestartPolicy, WhichPoliciesRestart) {
  EXPECT_FALSE(decide_restart({""}, failed(), 0).restart);
  EXPECT_FALSE(decide_restart({"no"}, failed(), 0).restart);
  EXPECT_TRUE(decide_restart({"always"}, failed(0), 0).restart);
  EXPECT_TRUE(decide_restart({"unless-stopped"}, failed(0), 0).restart);
  EXPECT_TRUE(decide_restart({"on-failure"}, failed(3), 0).restart);
  EXPECT_FALSE(decide_restart({"on-failure"}, failed(0), 0).restart) << "a clean exit is no failure";
}

TEST(RestartPolicy, StopsAndRemovalsAreNeverRestarted) {
  auto stopped = failed();
  stopped.stop_requested = true;
  EXPECT_FALSE(decide_restart({"always"}, stopped, 0).restart);
  auto removing = failed();
  removing.removing = true;
  EXPECT_FALSE(decide_restart({"always"}, removing, 0).restart);
  auto manual = failed();
  manual.manually_stopped = true;
  EXPECT_FALSE(decide_restart({"unless-stopped"}, manual, 0).restart);
  EXPECT_TRUE(decide_restart({"always"}, manual, 0).restart) << "always ignores a manual stop";
}

TEST(RestartPolicy, OnFailureCountsItsRetries) {
  auto end = failed();
  end.restart_count = 2;
  EXPECT_TRUE(decide_restart({"on-failure", 3}, end, 0).restart);
  end.restart_count = 3;
  EXPECT_FALSE(decide_restart({"on-failure", 3}, end, 0).restart);
  end.restart_count = 1000;
  EXPECT_TRUE(decide_restart({"on-failure", 0}, end, 0).restart) << "0 retries means no limit";
}

TEST(RestartPolicy, BackoffDoublesToAMinuteAndResetsAfterALongRun) {
  int64_t backoff = 0;
  std::vector<int64_t> delays;
  for (int i = 0; i < 12; ++i) {
    auto d = decide_restart({"always"}, failed(), backoff);
    ASSERT_TRUE(d.restart);
    EXPECT_EQ(d.delay.count(), d.backoff_ms);
    delays.push_back(d.delay.count());
    backoff = d.backoff_ms;
  }
  std::vector<int64_t> expected = {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000};
  EXPECT_EQ(delays, expected);
  auto after_long_run = decide_restart({"always"}, failed(1, 10000), backoff);
  EXPECT_EQ(after_long_run.delay.count(), 100);
  auto after_short_run = decide_restart({"always"}, failed(1, 9999), backoff);
  EXPECT_EQ(after_short_run.delay.count(), 60000);
}

}  // namespace
