// The healthcheck scheduler with fake probes: a probe's "exec" is one end of a socketpair the
// test writes framed output into, and its exit is reported by the test. No root, no container.
#include "core/container/health_scheduler.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace berth::core::container {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kMs = 1000000;

std::string frame(char stream, std::string_view payload) {
  std::string h = {stream, 0, 0, 0, 0, 0, static_cast<char>(payload.size() >> 8),
                   static_cast<char>(payload.size() & 0xff)};
  return h + std::string(payload);
}

// Records launches and results; each launch writes "hello\n" on stdout.
struct FakeProbes {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<std::string, UniqueFd>> launched;  // exec id, the probe's side
  std::vector<std::pair<uint64_t, ProbeResult>> results;
  bool fail = false;
  int64_t next_ns = 20 * kMs;

  HealthScheduler::Hooks hooks() {
    return {[this](const std::string&, const std::string& exec_id,
                   const std::vector<std::string>&) -> Result<HealthScheduler::Launch> {
              std::lock_guard lock(mutex);
              if (fail) return make_error(ErrorCode::kFailedPrecondition, "Container x is not running");
              int sv[2];
              EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
              std::string out = frame(1, "hello\n");
              EXPECT_EQ(::write(sv[1], out.data(), out.size()), static_cast<ssize_t>(out.size()));
              launched.emplace_back(exec_id, UniqueFd(sv[1]));
              changed.notify_all();
              return HealthScheduler::Launch{exec_id, UniqueFd(sv[0]), UniqueFd()};
            },
            [this](const std::string&, uint64_t generation, const std::string&,
                   ProbeResult r) -> std::optional<int64_t> {
              std::lock_guard lock(mutex);
              results.emplace_back(generation, std::move(r));
              changed.notify_all();
              return next_ns;
            }};
  }

  template <typename Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 3000ms) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, pred);
  }
};

ProbeConfig probe(int64_t timeout_ns = 1000 * kMs) {
  ProbeConfig p;
  p.argv = {"true"};
  p.timeout = timeout_ns;
  return p;
}

TEST(HealthScheduler, AResultNeedsTheExitAndTheEndOfTheOutput) {
  FakeProbes fake;
  HealthScheduler s(fake.hooks());
  s.watch("c1", 7, probe(), 10 * kMs);
  ASSERT_TRUE(fake.wait([&] { return fake.launched.size() == 1; }));
  std::string exec_id;
  {
    std::lock_guard lock(fake.mutex);
    exec_id = fake.launched[0].first;
  }
  EXPECT_TRUE(s.exec_exited(exec_id, 3));
  EXPECT_FALSE(s.exec_exited("not-a-probe", 0));
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard lock(fake.mutex);
    EXPECT_TRUE(fake.results.empty());  // the stream is still open
    fake.launched[0].second.reset();
  }
  ASSERT_TRUE(fake.wait([&] { return !fake.results.empty(); }));
  std::lock_guard lock(fake.mutex);
  EXPECT_EQ(fake.results[0].first, 7U);
  EXPECT_EQ(fake.results[0].second.exit_code, 3);
  EXPECT_EQ(fake.results[0].second.output, "hello\n");
  EXPECT_LE(fake.results[0].second.start, fake.results[0].second.end);
}

TEST(HealthScheduler, AProbePastItsTimeoutFailsWithDockerdsMessage) {
  FakeProbes fake;
  HealthScheduler s(fake.hooks());
  s.watch("c1", 1, probe(30 * kMs), 0);
  ASSERT_TRUE(fake.wait([&] { return !fake.results.empty(); }));
  std::lock_guard lock(fake.mutex);
  EXPECT_EQ(fake.results[0].second.exit_code, -1);
  EXPECT_EQ(fake.results[0].second.output, "Health check exceeded timeout (30ms): hello\n");
}

TEST(HealthScheduler, AProbeThatCannotStartFailsWithTheReasonAndIsTriedAgain) {
  FakeProbes fake;
  fake.fail = true;
  HealthScheduler s(fake.hooks());
  s.watch("c1", 1, probe(), 0);
  ASSERT_TRUE(fake.wait([&] { return fake.results.size() >= 2; }));
  std::lock_guard lock(fake.mutex);
  EXPECT_EQ(fake.results[0].second.exit_code, -1);
  EXPECT_EQ(fake.results[0].second.output, "Container x is not running");
}

TEST(HealthScheduler, ProbesRepeatUntilUnwatchedAndAResultAfterThatIsDropped) {
  FakeProbes fake;
  HealthScheduler s(fake.hooks());
  s.watch("c1", 1, probe(), 0);
  s.watch("c2", 1, probe(), 0);
  ASSERT_TRUE(fake.wait([&] { return fake.launched.size() >= 2; }));
  EXPECT_EQ(s.watched(), 2U);
  s.unwatch("c1");
  s.unwatch("c2");
  EXPECT_EQ(s.watched(), 0U);
  std::vector<std::string> ids;
  {
    std::lock_guard lock(fake.mutex);
    for (auto& [id, fd] : fake.launched) {
      ids.push_back(id);
      fd.reset();
    }
  }
  for (const auto& id : ids) EXPECT_FALSE(s.exec_exited(id, 0));  // no longer a probe
  std::this_thread::sleep_for(100ms);
  std::lock_guard lock(fake.mutex);
  EXPECT_TRUE(fake.results.empty());
  EXPECT_EQ(fake.launched.size(), 2U);
}

TEST(HealthScheduler, ManyContainersShareOneThreadAndEachKeepsItsPace) {
  FakeProbes fake;
  fake.next_ns = 10 * kMs;
  HealthScheduler s(fake.hooks());
  for (int i = 0; i < 20; ++i) s.watch("c" + std::to_string(i), 1, probe(20 * kMs), 0);
  // Every probe times out (nobody reports an exit) and is started again 10 ms later.
  ASSERT_TRUE(fake.wait([&] { return fake.results.size() >= 60; }, 5000ms));
  s.stop();
}

}  // namespace
}  // namespace berth::core::container
