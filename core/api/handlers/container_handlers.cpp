// /containers/*: create, lifecycle verbs, inspect and list (through views/), streams (attach,
// wait, logs, stats), files (archive, export, changes), commit.
#include "core/api/handlers/container_handlers.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "core/api/body_schema.hpp"
#include "core/api/filters.hpp"
#include "core/api/handlers/handler_util.hpp"
#include "core/api/json_stream.hpp"
#include "core/api/stdcopy.hpp"
#include "core/api/stream_splice.hpp"
#include "core/api/views/container_view.hpp"
#include "core/api/views/stats_view.hpp"
#include "core/common/host_info.hpp"
#include "core/common/json_text.hpp"
#include "core/common/time.hpp"
#include "core/container/archive.hpp"
#include "core/container/logs.hpp"

namespace json = boost::json;

namespace berth::core::api {
namespace {

using container::ContainerManager;

void handle_attach(ContainerManager& m, Request& req, ResponseWriter& res) {
  auto c = m.find(req.param("id"));
  if (!c) return res.send_error(c.error());
  bool tty, open_stdin;
  std::string id;
  {
    std::lock_guard lock((*c)->mutex);
    tty = (*c)->record.tty();
    open_stdin = (*c)->record.open_stdin();
    id = (*c)->record.id;
  }
  auto keys = parse_detach_keys(req.query_value("detachKeys").value_or(""));
  if (!keys) return res.send_error(keys.error());
  bool want_stdin = req.query_bool("stdin") && open_stdin;
  sdk::AttachOptions options{want_stdin, req.query_bool("stdout"), req.query_bool("stderr")};
  bool logs = req.query_bool("logs");
  bool stream = req.query_bool("stream");
  auto hijack = res.hijack(tty ? "application/vnd.docker.raw-stream"
                               : "application/vnd.docker.multiplexed-stream");
  if (!hijack) return;
  m.publish(**c, "attach");
  Transport& client = *hijack->transport;
  if (logs) {
    std::string path;
    {
      std::lock_guard lock((*c)->mutex);
      path = (*c)->record.log_path;
    }
    container::LogQuery q;
    q.stdout = options.stdout;
    q.stderr = options.stderr;
    (void)container::read_logs(path, m.options().log_max_file, q, [&](const container::LogEntry& e) {
      std::string out = tty ? e.text : stdcopy_frame(e.stream, e.text);
      return client.write_all(out.data(), out.size()).has_value();
    }, [] { return false; });
  }
  if (!stream) return;
  auto fd = m.attach_stream(req.ctx(), id, options, [&] { return client.peer_hung_up(); });
  if (!fd) {
    write_frame(client, 3, fd.error().message + "\n", tty);
    return;
  }
  if (!fd->valid()) return;  // the container was removed or the client left
  splice(client, std::move(hijack->leftover), fd->get(), SpliceOptions{want_stdin, tty, *keys});
}

void handle_wait(ContainerManager& m, Request& req, ResponseWriter& res) {
  std::string condition = req.query_value("condition").value_or("not-running");
  // The 200 goes out as soon as the waiter is registered: docker run blocks on it before start.
  auto result = m.wait(req.param("id"), condition,
                       [&] { (void)res.start_stream(200, "application/json"); },
                       [&] { return res.client_gone(); });
  if (!result) {
    if (!res.started()) return res.send_error(result.error());
    json::object body{{"Error", json::object{{"Message", result.error().message}}}, {"StatusCode", -1}};
    (void)res.write_chunk(json_text::serialize(body) + "\n");
    (void)res.end_stream();
    return;
  }
  json::object body{{"Error", result->second.empty() ? json::value(nullptr)
                                                     : json::value(json::object{{"Message", result->second}})},
                    {"StatusCode", result->first}};
  (void)res.write_chunk(json_text::serialize(body) + "\n");
  (void)res.end_stream();
}

void handle_logs(ContainerManager& m, Request& req, ResponseWriter& res) {
  auto c = m.find(req.param("id"));
  if (!c) return res.send_error(c.error());
  container::LogQuery q;
  q.stdout = req.query_bool("stdout");
  q.stderr = req.query_bool("stderr");
  if (!q.stdout && !q.stderr) {
    return res.send_error(400, "You must choose at least one stream");
  }
  q.follow = req.query_bool("follow");
  q.timestamps = req.query_bool("timestamps");
  if (auto since = req.query_value("since"); since && !since->empty() && *since != "0") {
    auto t = parse_timestamp_param(*since);
    if (!t) return res.send_error(400, "invalid value for \"since\": " + *since);
    q.since = *t;
  }
  if (auto until = req.query_value("until"); until && !until->empty() && *until != "0") {
    auto t = parse_timestamp_param(*until);
    if (!t) return res.send_error(400, "invalid value for \"until\": " + *until);
    q.until = *t;
  }
  if (auto tail = req.query_value("tail"); tail && !tail->empty() && *tail != "all") {
    try {
      q.tail = std::stoll(*tail);
    } catch (...) {
      return res.send_error(400, "invalid value for \"tail\": " + *tail);
    }
  }
  std::string path;
  bool tty;
  std::string log_type;
  {
    std::lock_guard lock((*c)->mutex);
    path = (*c)->record.log_path;
    tty = (*c)->record.tty();
    if (const auto* lc = (*c)->record.host_config.if_contains("LogConfig"); lc != nullptr && lc->is_object()) {
      if (const auto* t = lc->get_object().if_contains("Type"); t != nullptr && t->is_string()) {
        log_type = std::string(t->get_string());
      }
    }
  }
  if (log_type == "none") {
    return res.send_error(501, "configured logging driver does not support reading");
  }
  auto container = *c;
  if (!res.start_stream(200, "")) return;
  std::string batch;
  auto flush = [&]() -> bool {
    if (batch.empty()) return true;
    bool ok = res.write_chunk(batch).has_value();
    batch.clear();
    return ok;
  };
  auto emit = [&](const container::LogEntry& e) -> bool {
    std::string payload = q.timestamps ? e.time_text + " " + e.text : e.text;
    batch += tty ? payload : stdcopy_frame(e.stream, payload);
    if (batch.size() > 32768 || q.follow) return flush();
    return true;
  };
  auto running = [&] {
    if (res.client_gone()) return false;
    std::lock_guard lock(container->mutex);
    return container::is_running(container->record.state.status) && !container->removed;
  };
  (void)container::read_logs(path, m.options().log_max_file, q, emit, running);
  if (flush()) (void)res.end_stream();
}

void handle_stats(ContainerManager& m, Request& req, ResponseWriter& res) {
  auto c = m.find(req.param("id"));
  if (!c) return res.send_error(c.error());
  bool stream = req.query_bool("stream", true);
  bool one_shot = req.query_bool("one-shot");
  json::object previous_cpu{{"cpu_usage", json::object{{"total_usage", 0}}}, {"throttling_data", json::object()}};
  std::string previous_read = "0001-01-01T00:00:00Z";
  static const int64_t host_memory = read_host_info().mem_total;
  auto next = [&]() -> Result<json::object> {
    auto sample = m.stats_sample(req.ctx(), (*c)->record.id);
    if (!sample) return sample.error();
    auto s = views::stats_json(*sample, host_memory);
    s["preread"] = previous_read;
    s["precpu_stats"] = previous_cpu;
    previous_read = std::string(s.at("read").as_string());
    previous_cpu = s.at("cpu_stats").as_object();
    return s;
  };
  if (!stream) {
    auto first = next();
    if (!first) return res.send_error(first.error());
    if (one_shot) return res.send_json(200, *first);
    // Two samples a second apart, so the CPU delta means something (as dockerd).
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto second = next();
    if (!second) return res.send_error(second.error());
    return res.send_json(200, *second);
  }
  if (!res.start_stream(200, "application/json")) return;
  for (;;) {
    auto sample = next();
    if (!sample) break;
    if (!res.write_chunk(json_text::serialize(*sample) + "\n")) return;
    bool running;
    {
      std::lock_guard lock((*c)->mutex);
      running = container::is_running((*c)->record.state.status) && !(*c)->removed;
    }
    if (!running) break;
    for (int i = 0; i < 10; ++i) {
      if (res.client_gone()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  (void)res.end_stream();
}

class StreamWriter final : public Writer {
 public:
  StreamWriter(ResponseWriter& res, std::string type) : res_(res), type_(std::move(type)) {}
  Status write(std::string_view data) override {
    if (!res_.started()) BERTH_TRY_STATUS(res_.start_stream(200, type_));
    buffer_.append(data);
    if (buffer_.size() >= (256 << 10)) return flush();
    return {};
  }
  Status flush() {
    if (buffer_.empty()) return {};
    auto s = res_.write_chunk(buffer_);
    buffer_.clear();
    return s;
  }
  void finish() {
    if (!res_.started()) (void)res_.start_stream(200, type_);
    if (flush()) (void)res_.end_stream();
  }

 private:
  ResponseWriter& res_;
  std::string type_;
  std::string buffer_;
};

void handle_archive(ContainerManager& m, Request& req, ResponseWriter& res) {
  auto path = req.query_value("path");
  if (!path || path->empty()) return res.send_error(400, "path is required");
  auto c = m.find(req.param("id"));
  if (!c) return res.send_error(c.error());
  std::string name;
  {
    std::lock_guard lock((*c)->mutex);
    name = (*c)->record.bare_name();
  }
  auto root = m.open_rootfs(req.ctx(), (*c)->record.id, true);
  if (!root) return res.send_error(root.error());
  if (req.method == "PUT") {
    auto s = container::extract_archive(root->path(), *path, req.body(),
                                        req.query_bool("noOverwriteDirNonDir"),
                                        req.query_bool("copyUIDGID"), std::nullopt, root->ids(),
                                        m.options().tar_limits);
    if (!s) {
      if (s.error().code == ErrorCode::kNotFound) {
        return res.send_error(404, "Could not find the file " + *path + " in container " + name);
      }
      return res.send_error(s.error());
    }
    return res.send_empty(200);
  }
  auto st = container::stat_path(root->path(), *path);
  if (!st) {
    if (st.error().code == ErrorCode::kNotFound) {
      return res.send_error(404, "Could not find the file " + *path + " in container " + name);
    }
    return res.send_error(st.error());
  }
  res.add_header("X-Docker-Container-Path-Stat", container::encode_path_stat(*st));
  if (req.method == "HEAD") return res.send(200, "", "");
  StreamWriter out(res, "application/x-tar");
  auto s = container::archive_path(root->path(), *path, out, root->ids());
  if (!s) {
    if (!res.started()) return res.send_error(s.error());
    return;
  }
  out.finish();
}

void handle_export(ContainerManager& m, Request& req, ResponseWriter& res) {
  auto root = m.open_rootfs(req.ctx(), req.param("id"), false);
  if (!root) return res.send_error(root.error());
  StreamWriter out(res, "application/octet-stream");
  auto s = container::export_rootfs(root->path(), out, root->ids());
  if (!s) {
    if (!res.started()) return res.send_error(s.error());
    return;
  }
  out.finish();
}

}  // namespace

void register_container_routes(Router& router, ContainerManager& m) {
  auto* mgr = &m;
  router.add("POST", "/containers/create", [mgr](Request& req, ResponseWriter& res) {
    auto body = req.read_json(container_create_schema());
    if (!body) return res.send_error(body.error());
    auto created = mgr->create(req.ctx(), req.query_value("name").value_or(""), *body);
    if (!created) return res.send_error(created.error());
    json::array warnings;
    for (const auto& w : created->warnings) warnings.emplace_back(w);
    res.send_json(201, json::object{{"Id", created->id}, {"Warnings", std::move(warnings)}});
  });
  router.add("GET", "/containers/json", [mgr](Request& req, ResponseWriter& res) {
    auto filters = parse_filters(req.query_value("filters").value_or(""));
    if (!filters) return res.send_error(filters.error());
    auto limit = req.query_int("limit", -1);
    if (!limit) return res.send_error(limit.error());
    // -1 is "no limit" (docker-py sends it by default); below that is nonsense.
    if (*limit < -1 || *limit > INT32_MAX) {
      return res.send_error(400, "invalid value for limit: \"" + *req.query_value("limit") +
                                     "\" (a count, or -1 for all)");
    }
    auto list = views::list_containers(req.ctx(), *mgr, *filters, req.query_bool("all"), static_cast<int>(*limit),
                                      req.query_bool("size"));
    if (!list) return res.send_error(list.error());
    res.send(200, *list, "application/json");
  });
  router.add("POST", "/containers/prune", [mgr](Request& req, ResponseWriter& res) {
    auto filters = parse_filters(req.query_value("filters").value_or(""));
    if (!filters) return res.send_error(filters.error());
    auto pruned = mgr->prune(req.ctx(), *filters);
    if (!pruned) return res.send_error(pruned.error());
    json::array ids;
    for (const auto& id : pruned->first) ids.emplace_back(id);
    res.send_json(200, json::object{{"ContainersDeleted", ids.empty() ? json::value(nullptr) : json::value(ids)},
                                    {"SpaceReclaimed", pruned->second}});
  });
  router.add("GET", "/containers/{id}/json", [mgr](Request& req, ResponseWriter& res) {
    auto c = mgr->find(req.param("id"));
    if (!c) return res.send_error(c.error());
    json::object out;
    {
      std::lock_guard lock((*c)->mutex);
      out = views::inspect_container(req.ctx(), *mgr, **c, req.query_bool("size"));
    }
    res.send_json(200, out);
  });
  router.add("POST", "/containers/{id}/start", [mgr](Request& req, ResponseWriter& res) {
    send_done(res, mgr->start(req.ctx(), req.param("id")));
  });
  router.add("POST", "/containers/{id}/stop", [mgr](Request& req, ResponseWriter& res) {
    auto t = optional_int(req, "t");
    if (!t) return res.send_error(t.error());
    send_done(res, mgr->stop(req.ctx(), req.param("id"), *t, req.query_value("signal").value_or("")));
  });
  router.add("POST", "/containers/{id}/restart", [mgr](Request& req, ResponseWriter& res) {
    auto t = optional_int(req, "t");
    if (!t) return res.send_error(t.error());
    send_status(res, mgr->restart(req.ctx(), req.param("id"), *t));
  });
  router.add("POST", "/containers/{id}/kill", [mgr](Request& req, ResponseWriter& res) {
    send_status(res, mgr->kill(req.ctx(), req.param("id"), req.query_value("signal").value_or("")));
  });
  router.add("POST", "/containers/{id}/pause", [mgr](Request& req, ResponseWriter& res) {
    send_status(res, mgr->pause(req.ctx(), req.param("id")));
  });
  router.add("POST", "/containers/{id}/unpause", [mgr](Request& req, ResponseWriter& res) {
    send_status(res, mgr->unpause(req.ctx(), req.param("id")));
  });
  router.add("POST", "/containers/{id}/rename", [mgr](Request& req, ResponseWriter& res) {
    send_status(res, mgr->rename(req.param("id"), req.query_value("name").value_or("")));
  });
  router.add("POST", "/containers/{id}/update", [mgr](Request& req, ResponseWriter& res) {
    auto body = req.read_json(host_config_schema());
    if (!body) return res.send_error(body.error());
    if (!body->is_object()) return res.send_error(400, "update body must be a JSON object");
    auto r = mgr->update(req.ctx(), req.param("id"), body->get_object());
    if (!r) return res.send_error(r.error());
    res.send_json(200, *r);
  });
  router.add("POST", "/containers/{id}/resize", [mgr](Request& req, ResponseWriter& res) {
    auto h = req.query_int("h", 0);
    auto w = req.query_int("w", 0);
    if (!h || !w) return res.send_error(400, "invalid size");
    send_status(res, mgr->resize(req.ctx(), req.param("id"), static_cast<uint32_t>(*h), static_cast<uint32_t>(*w)), 200);
  });
  router.add("DELETE", "/containers/{id}", [mgr](Request& req, ResponseWriter& res) {
    send_status(res, mgr->remove(req.ctx(), req.param("id"), req.query_bool("force"), req.query_bool("v")));
  });
  router.add("POST", "/containers/{id}/wait", [mgr](Request& req, ResponseWriter& res) { handle_wait(*mgr, req, res); });
  router.add("POST", "/containers/{id}/attach", [mgr](Request& req, ResponseWriter& res) { handle_attach(*mgr, req, res); });
  router.add("GET", "/containers/{id}/logs", [mgr](Request& req, ResponseWriter& res) { handle_logs(*mgr, req, res); });
  router.add("GET", "/containers/{id}/stats", [mgr](Request& req, ResponseWriter& res) { handle_stats(*mgr, req, res); });
  router.add("GET", "/containers/{id}/top", [mgr](Request& req, ResponseWriter& res) {
    auto top = mgr->top(req.ctx(), req.param("id"), req.query_value("ps_args").value_or(""));
    if (!top) return res.send_error(top.error());
    res.send_json(200, *top);
  });
  router.add("GET", "/containers/{id}/changes", [mgr](Request& req, ResponseWriter& res) {
    auto changes = mgr->changes(req.ctx(), req.param("id"));
    if (!changes) return res.send_error(changes.error());
    res.send_json(200, changes->empty() ? json::value(nullptr) : json::value(*changes));
  });
  router.add("GET", "/containers/{id}/export", [mgr](Request& req, ResponseWriter& res) { handle_export(*mgr, req, res); });
  for (const char* method : {"GET", "HEAD", "PUT"}) {
    router.add(method, "/containers/{id}/archive", [mgr](Request& req, ResponseWriter& res) {
      handle_archive(*mgr, req, res);
    });
  }
  router.add("POST", "/commit", [mgr](Request& req, ResponseWriter& res) {
    auto body = req.read_json(container_create_schema());
    if (!body) return res.send_error(body.error());
    json::object override_config;
    if (body->is_object()) override_config = body->get_object();
    auto id = mgr->commit(req.ctx(), req.query_value("container").value_or(""), req.query_value("repo").value_or(""),
                          req.query_value("tag").value_or(""), req.query_value("comment").value_or(""),
                          req.query_value("author").value_or(""), req.query_values("changes"),
                          req.query_bool("pause", true), override_config);
    if (!id) return res.send_error(id.error());
    res.send_json(201, json::object{{"Id", *id}});
  });
}

}  // namespace berth::core::api
