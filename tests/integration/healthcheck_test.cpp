// Healthchecks end to end through the raw API: berthd itself runs the probes (no client is
// connected while they run), reports them in State.Health and as health_status events, kills a
// probe past its timeout, and picks probing up again after being killed itself.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "tests/support/container_fixture.hpp"

namespace json = boost::json;
using namespace berth::testing;

namespace {

using Healthchecks = ContainerTest;
constexpr int64_t kMs = 1000000;

// POST /containers/create + start; returns the id.
std::string create_and_start(const BerthdProcess& d, const std::string& name, json::object healthcheck,
                             std::vector<std::string> cmd) {
  json::array argv;
  for (auto& a : cmd) argv.emplace_back(a);
  json::object body{{"Image", "busybox:local"}, {"Cmd", std::move(argv)}, {"Healthcheck", std::move(healthcheck)}};
  auto created = d.client().post("/containers/create?name=" + name, json::serialize(body));
  EXPECT_TRUE(created);
  EXPECT_EQ(created->status, 201) << created->body;
  std::string id(json::parse(created->body).at("Id").as_string());
  auto started = d.client().post("/containers/" + id + "/start");
  EXPECT_TRUE(started);
  EXPECT_EQ(started->status, 204) << started->body;
  return id;
}

json::object health_of(const BerthdProcess& d, const std::string& id) {
  auto r = d.client().get("/containers/" + id + "/json");
  if (!r || r->status != 200) return {};
  json::value inspect = json::parse(r->body);
  const auto& state = inspect.at("State").as_object();
  const auto* h = state.if_contains("Health");
  return h != nullptr && h->is_object() ? h->get_object() : json::object();
}

std::string status_of(const BerthdProcess& d, const std::string& id) {
  auto h = health_of(d, id);
  return h.contains("Status") ? std::string(h.at("Status").as_string()) : "";
}

TEST_F(Healthchecks, ProbesRunInsideBerthdAndReportTransitions) {
  auto since = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count() - 1;
  std::string id = create_and_start(
      d_, "hc-api",
      json::object{{"Test", json::array{"CMD", "cat", "/tmp/ready"}}, {"Interval", 100 * kMs}, {"Retries", 2}},
      {"sleep", "1000"});
  EXPECT_EQ(status_of(d_, id), "starting");
  ASSERT_TRUE(eventually([&] { return status_of(d_, id) == "unhealthy"; })) << d_.log();
  auto h = health_of(d_, id);
  EXPECT_GE(h.at("FailingStreak").to_number<int64_t>(), 2);
  const auto& last = h.at("Log").as_array().back().as_object();
  EXPECT_EQ(last.at("ExitCode").to_number<int64_t>(), 1);
  EXPECT_EQ(last.at("Output"), "cat: can't open '/tmp/ready': No such file or directory\n");

  ok({"exec", "hc-api", "touch", "/tmp/ready"});
  ASSERT_TRUE(eventually([&] { return status_of(d_, id) == "healthy"; }));
  EXPECT_EQ(health_of(d_, id).at("FailingStreak").to_number<int64_t>(), 0);

  auto until = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count() + 1;
  auto events = d_.client().get("/events?since=" + std::to_string(since) + "&until=" + std::to_string(until) +
                                "&filters=%7B%22event%22%3A%7B%22health_status%22%3Atrue%7D%7D");
  ASSERT_TRUE(events);
  EXPECT_NE(events->body.find("\"status\":\"health_status: unhealthy\""), std::string::npos) << events->body;
  EXPECT_NE(events->body.find("\"status\":\"health_status: healthy\""), std::string::npos) << events->body;
  EXPECT_EQ(events->body.find("exec_start"), std::string::npos);  // the filter's prefix match
  ok({"rm", "-f", "hc-api"});
  expect_nothing_left(id);
}

TEST_F(Healthchecks, AProbePastItsTimeoutIsKilled) {
  std::string id = create_and_start(
      d_, "hc-stuck",
      json::object{{"Test", json::array{"CMD", "sleep", "77"}}, {"Interval", 200 * kMs},
                   {"Timeout", 100 * kMs}, {"Retries", 1}},
      {"sleep", "1000"});
  ASSERT_TRUE(eventually([&] { return status_of(d_, id) == "unhealthy"; })) << d_.log();
  auto health = health_of(d_, id);
  const auto& last = health.at("Log").as_array().back().as_object();
  EXPECT_EQ(last.at("ExitCode").to_number<int64_t>(), -1);
  EXPECT_EQ(last.at("Output"), "Health check exceeded timeout (100ms)");
  // Several probes have timed out by now; none of them is left sleeping (at most the current).
  ASSERT_TRUE(eventually([&] { return health_of(d_, id).at("Log").as_array().size() >= 3; }));
  auto top = d_.client().get("/containers/" + id + "/top");
  ASSERT_TRUE(top);
  size_t sleeping = 0;
  for (size_t at = 0; (at = top->body.find("sleep 77", at)) != std::string::npos; ++at) ++sleeping;
  EXPECT_LE(sleeping, 1U) << top->body;
  ok({"rm", "-f", "hc-stuck"});
  expect_nothing_left(id);
}

TEST_F(Healthchecks, ProbingResumesAfterBerthdIsKilled) {
  std::string id = create_and_start(
      d_, "hc-crash", json::object{{"Test", json::array{"CMD-SHELL", "true"}}, {"Interval", 100 * kMs}},
      {"sleep", "1000"});
  ASSERT_TRUE(eventually([&] { return status_of(d_, id) == "healthy"; }));
  ASSERT_EQ(d_.stop(SIGKILL), 128 + SIGKILL);
  ASSERT_TRUE(d_.start(options_)) << d_.log();
  // The status change to healthy was written with its result: the log is back, and the
  // container is probed again (starting, then healthy).
  auto h = health_of(d_, id);
  ASSERT_TRUE(h.contains("Log")) << d_.log();
  EXPECT_GE(h.at("Log").as_array().size(), 1U);
  auto before = std::string(h.at("Log").as_array().back().at("Start").as_string());
  ASSERT_TRUE(eventually([&] {
    auto now = health_of(d_, id);
    return now.at("Status") == "healthy" &&
           std::string(now.at("Log").as_array().back().at("Start").as_string()) > before;
  })) << d_.log();
  ok({"rm", "-f", "hc-crash"});
  expect_nothing_left(id);
}

}  // namespace
