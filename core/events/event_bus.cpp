#include "core/events/event_bus.hpp"

#include <boost/json.hpp>
#include <chrono>

#include "core/common/label_filter.hpp"
#include "core/common/time.hpp"

namespace json = boost::json;

namespace berth::core::events {

json::value Event::to_json() const {
  json::object o;
  if (type == "container" || type == "image") {
    o["status"] = action;
    o["id"] = actor_id;
    if (type == "container") {
      auto it = attributes.find("image");
      if (it != attributes.end()) o["from"] = it->second;
    }
  }
  o["Type"] = type;
  o["Action"] = action;
  json::object attrs;
  for (const auto& [k, v] : attributes) attrs[k] = v;
  o["Actor"] = json::object{{"ID", actor_id}, {"Attributes", std::move(attrs)}};
  o["scope"] = scope;
  o["time"] = time_nano / 1000000000;
  o["timeNano"] = time_nano;
  return o;
}

std::optional<EventFilter> EventFilter::parse(const std::map<std::string, std::set<std::string>>& f,
                                              std::string* error) {
  static const std::set<std::string> kKeys = {"container", "daemon", "event", "image", "label",
                                              "network", "node", "plugin", "scope", "type",
                                              "volume", "config", "secret", "service"};
  for (const auto& [k, _] : f) {
    if (!kKeys.contains(k)) {
      if (error != nullptr) *error = "invalid filter '" + k + "'";
      return std::nullopt;
    }
  }
  EventFilter out;
  out.f_ = f;
  return out;
}

bool EventFilter::matches(const Event& e) const {
  auto allowed = [&](const char* key, auto&& test) {
    auto it = f_.find(key);
    if (it == f_.end() || it->second.empty()) return true;
    for (const auto& v : it->second) {
      if (test(v)) return true;
    }
    return false;
  };
  auto attr = [&](const std::string& k) -> std::string {
    auto it = e.attributes.find(k);
    return it == e.attributes.end() ? std::string() : it->second;
  };
  if (!allowed("type", [&](const std::string& v) { return v == e.type; })) return false;
  if (!allowed("scope", [&](const std::string& v) { return v == e.scope; })) return false;
  if (!allowed("event", [&](const std::string& v) {
        // "exec_create: sh -c x" matches the filter "exec_create"
        return v == e.action || e.action.rfind(v + ":", 0) == 0;
      })) {
    return false;
  }
  auto object_filter = [&](const char* key, const char* type) {
    return allowed(key, [&](const std::string& v) {
      if (e.type != type) return false;
      return e.actor_id == v || e.actor_id.rfind(v, 0) == 0 || attr("name") == v;
    });
  };
  if (f_.contains("container") && !object_filter("container", "container")) return false;
  if (f_.contains("network") && !object_filter("network", "network")) return false;
  if (f_.contains("volume") && !object_filter("volume", "volume")) return false;
  if (f_.contains("plugin") && !object_filter("plugin", "plugin")) return false;
  if (!allowed("image", [&](const std::string& v) {
        return attr("image") == v || e.actor_id == v ||
               (e.type == "image" && attr("name") == v);
      })) {
    return false;
  }
  if (!allowed("label", [&](const std::string& v) { return label_matches(e.attributes, v); })) {
    return false;
  }
  if (!allowed("daemon", [&](const std::string& v) { return e.type == "daemon" && (e.actor_id == v || attr("name") == v); })) {
    return false;
  }
  return true;
}

void EventBus::publish(Event event) {
  if (event.time_nano == 0) event.time_nano = now_unix_nano();
  std::lock_guard lock(mutex_);
  history_.push_back(event);
  while (history_.size() > capacity_) history_.pop_front();
  for (auto* s : subscribers_) {
    std::lock_guard sl(s->mutex_);
    s->queue_.push_back(event);
    s->cv_.notify_one();
  }
}

std::vector<Event> EventBus::history(int64_t since_nano, int64_t until_nano) const {
  std::lock_guard lock(mutex_);
  std::vector<Event> out;
  for (const auto& e : history_) {
    if (e.time_nano >= since_nano && (until_nano <= 0 || e.time_nano <= until_nano)) {
      out.push_back(e);
    }
  }
  return out;
}

std::shared_ptr<Subscription> EventBus::subscribe() {
  auto s = std::make_shared<Subscription>(*this);
  std::lock_guard lock(mutex_);
  subscribers_.insert(s.get());
  return s;
}

size_t EventBus::listener_count() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

void EventBus::unsubscribe(Subscription* s) {
  std::lock_guard lock(mutex_);
  subscribers_.erase(s);
}

std::vector<Event> Subscription::wait(int timeout_ms) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return !queue_.empty(); });
  std::vector<Event> out(queue_.begin(), queue_.end());
  queue_.clear();
  return out;
}

}  // namespace berth::core::events
