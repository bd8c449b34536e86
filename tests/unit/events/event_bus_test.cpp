#include "core/events/event_bus.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

using namespace berth::core::events;

namespace {

Event container_event(std::string action, std::string id, std::string name, int64_t t) {
  Event e;
  e.type = "container";
  e.action = std::move(action);
  e.actor_id = std::move(id);
  e.attributes = {{"name", std::move(name)}, {"image", "busybox:local"}, {"team", "core"}};
  e.time_nano = t;
  return e;
}

TEST(EventBus, WireFormatCarriesLegacyFields) {
  auto v = container_event("start", "abc", "web", 1795372779585073019).to_json().as_object();
  EXPECT_EQ(v.at("status").as_string(), "start");
  EXPECT_EQ(v.at("id").as_string(), "abc");
  EXPECT_EQ(v.at("from").as_string(), "busybox:local");
  EXPECT_EQ(v.at("Type").as_string(), "container");
  EXPECT_EQ(v.at("Action").as_string(), "start");
  EXPECT_EQ(v.at("Actor").as_object().at("Attributes").as_object().at("name").as_string(), "web");
  EXPECT_EQ(v.at("time").as_int64(), 1795372779);
  EXPECT_EQ(v.at("timeNano").as_int64(), 1795372779585073019);
  EXPECT_EQ(v.at("scope").as_string(), "local");
}

TEST(EventBus, HistoryIsBoundedAndWindowed) {
  EventBus bus(3);
  for (int i = 1; i <= 5; ++i) bus.publish(container_event("start", std::to_string(i), "n", i * 100));
  auto all = bus.history(0, 0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.front().actor_id, "3");
  auto window = bus.history(350, 450);
  ASSERT_EQ(window.size(), 1u);
  EXPECT_EQ(window[0].actor_id, "4");
}

TEST(EventBus, SubscribersGetLiveEvents) {
  EventBus bus;
  auto sub = bus.subscribe();
  EXPECT_EQ(bus.listener_count(), 1u);
  std::thread t([&] { bus.publish(container_event("die", "x", "n", 0)); });
  std::vector<Event> got;
  for (int i = 0; i < 20 && got.empty(); ++i) got = sub->wait(100);
  t.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].action, "die");
  EXPECT_GT(got[0].time_nano, 0);  // filled on publish
  sub.reset();
  EXPECT_EQ(bus.listener_count(), 0u);
}

TEST(EventFilter, MatchesLikeDocker) {
  std::string err;
  auto f = EventFilter::parse({{"type", {"container"}}, {"event", {"start", "exec_create"}},
                               {"label", {"team=core"}}, {"container", {"web"}}},
                              &err);
  ASSERT_TRUE(f) << err;
  EXPECT_TRUE(f->matches(container_event("start", "abc", "web", 1)));
  EXPECT_TRUE(f->matches(container_event("exec_create: sh -c ls", "abc", "web", 1)));
  EXPECT_FALSE(f->matches(container_event("stop", "abc", "web", 1)));
  EXPECT_FALSE(f->matches(container_event("start", "abc", "db", 1)));
  Event img;
  img.type = "image";
  img.action = "start";
  EXPECT_FALSE(f->matches(img));
  auto prefix = EventFilter::parse({{"container", {"ab"}}}, &err);
  EXPECT_TRUE(prefix->matches(container_event("start", "abc", "web", 1)));
  EXPECT_FALSE(EventFilter::parse({{"colour", {"x"}}}, &err));
  EXPECT_EQ(err, "invalid filter 'colour'");
}

}  // namespace
