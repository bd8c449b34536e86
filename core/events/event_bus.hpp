// Docker's event stream: every object change is published here, kept in a bounded in-memory
// history (GET /events?since= replays it) and fanned out to live subscribers.
#pragma once

#include <boost/json/value.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace berth::core::events {

struct Event {
  std::string type;    // container, image, volume, network, daemon, plugin
  std::string action;  // create, start, die, tag, ...
  std::string actor_id;
  std::map<std::string, std::string> attributes;
  std::string scope = "local";
  int64_t time_nano = 0;

  // The wire form, including the legacy status/id/from fields older clients read.
  [[nodiscard]] boost::json::value to_json() const;
};

// Filters of GET /events: {"type":{"container":true},"event":{"start":true},...}.
class EventFilter {
 public:
  // Accepts the keys docker does; an unknown key is an error.
  static std::optional<EventFilter> parse(const std::map<std::string, std::set<std::string>>& f,
                                          std::string* error);
  [[nodiscard]] bool matches(const Event& e) const;

 private:
  std::map<std::string, std::set<std::string>> f_;
};

class Subscription;

class EventBus {
 public:
  explicit EventBus(size_t history = 1024) : capacity_(history) {}

  void publish(Event event);  // fills time_nano when zero
  std::vector<Event> history(int64_t since_nano, int64_t until_nano) const;
  std::shared_ptr<Subscription> subscribe();
  [[nodiscard]] size_t listener_count() const;

 private:
  friend class Subscription;
  void unsubscribe(Subscription* s);

  mutable std::mutex mutex_;
  size_t capacity_;
  std::deque<Event> history_;
  std::set<Subscription*> subscribers_;
};

class Subscription {
 public:
  explicit Subscription(EventBus& bus) : bus_(bus) {}
  ~Subscription() { bus_.unsubscribe(this); }
  // Waits up to `timeout_ms` for events; returns what arrived (maybe nothing).
  std::vector<Event> wait(int timeout_ms);

 private:
  friend class EventBus;
  EventBus& bus_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Event> queue_;
};

}  // namespace berth::core::events
