// /build and /build/prune: Docker's legacy builder API. The context tar is unpacked into a
// private directory, the builder's progress goes out as {"stream": ...} lines, the image id as
// {"aux": {"ID": ...}}, a failure as {"errorDetail": ...} once the stream has started.
#include "core/api/handlers/build_handlers.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <mutex>

#include "core/api/json_stream.hpp"
#include "core/build/dockerignore.hpp"
#include "core/common/fs.hpp"
#include "core/common/ids.hpp"
#include "core/common/time.hpp"
#include "core/image/reference.hpp"

namespace json = boost::json;

namespace berth::core::api {
namespace {

// A JSON query parameter holding an object of strings (buildargs, labels).
Result<std::map<std::string, std::optional<std::string>>> json_map(const Request& req, std::string_view name) {
  std::map<std::string, std::optional<std::string>> out;
  auto text = req.query_value(name);
  if (!text || text->empty()) return out;
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "invalid " + std::string(name) + " parameter: expected a JSON object of strings");
  }
  for (const auto& [k, val] : v.get_object()) {
    if (val.is_null()) out[std::string(k)] = std::nullopt;
    else if (val.is_string()) out[std::string(k)] = std::string(val.get_string());
    else return make_error(ErrorCode::kInvalidArgument, "invalid " + std::string(name) + " value for " + std::string(k) + ": expected a string");
  }
  return out;
}

Result<build::BuildOptions> build_options(const Request& req) {
  build::BuildOptions o;
  o.dockerfile = build::clean_relative(req.query_value("dockerfile").value_or("Dockerfile"));
  if (o.dockerfile == "." || o.dockerfile.rfind("../", 0) == 0 || o.dockerfile == "..") {
    return make_error(ErrorCode::kInvalidArgument, "the Dockerfile (" + o.dockerfile + ") must be within the build context");
  }
  o.tags = req.query_values("t");
  o.target = req.query_value("target").value_or("");
  auto args = json_map(req, "buildargs");
  if (!args) return args.error();
  o.build_args = std::move(*args);
  auto labels = json_map(req, "labels");
  if (!labels) return labels.error();
  for (const auto& [k, v] : *labels) o.labels[k] = v.value_or("");
  o.no_cache = req.query_bool("nocache");
  o.quiet = req.query_bool("q");
  o.force_rm = req.query_bool("forcerm");
  o.network_mode = req.query_value("networkmode").value_or("");
  if (o.network_mode == "default") o.network_mode.clear();
  if (auto text = req.query_value("cachefrom"); text && !text->empty()) {
    // The docker CLI sends a JSON array of image names.
    boost::system::error_code ec;
    auto v = json::parse(*text, ec);
    if (ec || !v.is_array()) return make_error(ErrorCode::kInvalidArgument, "invalid cachefrom parameter: expected a JSON array of image names");
    for (const auto& name : v.get_array()) {
      if (!name.is_string()) return make_error(ErrorCode::kInvalidArgument, "invalid cachefrom parameter: expected a JSON array of image names");
      o.cache_from.emplace_back(name.get_string());
    }
  }
  o.platform = req.query_value("platform").value_or("");
  if (!o.platform.empty() && o.platform != "linux" && o.platform != "linux/amd64") {
    return make_error(ErrorCode::kInvalidArgument, "this berthd builds for linux/amd64 only, not " + o.platform);
  }
  if (auto remote = req.query_value("remote"); remote && !remote->empty()) {
    return make_error(ErrorCode::kInvalidArgument, "remote build contexts (" + *remote + ") are not supported: send the context as a tar");
  }
  for (const auto& t : o.tags) {
    if (auto ref = image::parse_normalized_tagged(t); !ref) {
      return make_error(ErrorCode::kInvalidArgument, "invalid tag \"" + t + "\": " + ref.error().message);
    }
  }
  return o;
}

// builder prune's until: a duration before now ("24h", "90m", "30s") or a timestamp; unix nano.
std::optional<int64_t> parse_timestamp_or_duration(const std::string& text) {
  if (!text.empty() && (text.back() == 'h' || text.back() == 'm' || text.back() == 's')) {
    try {
      size_t used = 0;
      double n = std::stod(text, &used);
      if (used == text.size() - 1) {
        double unit = text.back() == 'h' ? 3600 : text.back() == 'm' ? 60 : 1;
        return now_unix_nano() - static_cast<int64_t>(n * unit * 1e9);
      }
    } catch (...) {
    }
  }
  return parse_timestamp_param(text);
}

}  // namespace

void register_build_routes(Router& router, build::Builder& builder, image::ImageService& images, BuildLimits limits) {
  router.add("POST", "/build/prune", [&builder, &images](Request& req, ResponseWriter& res) {
    std::optional<int64_t> until;
    if (auto f = req.query_value("filters"); f && !f->empty()) {
      boost::system::error_code ec;
      auto v = json::parse(*f, ec);
      if (!ec && v.is_object()) {
        if (const auto* u = v.get_object().if_contains("until"); u != nullptr) {
          std::string text;
          if (u->is_object() && !u->get_object().empty()) text = std::string(u->get_object().begin()->key());
          else if (u->is_array() && !u->get_array().empty() && u->get_array()[0].is_string()) text = std::string(u->get_array()[0].get_string());
          if (!text.empty()) {
            auto t = parse_timestamp_or_duration(text);
            if (!t) return res.send_error(400, "invalid until filter: " + text);
            until = *t / 1000000000;
          }
        }
      }
    }
    auto dropped = builder.cache().prune(until);
    // The steps' images go too, newest first (children before parents); tagged or used ones stay.
    std::sort(dropped.begin(), dropped.end(), [](const auto& a, const auto& b) { return a.created > b.created; });
    json::array deleted;
    for (const auto& e : dropped) {
      // remove() of an id with one tag would untag and delete it (rmi): a built image stays.
      if (!images.repo_tags(e.image_id).empty()) continue;
      auto r = images.remove(req.ctx(), e.image_id, false, false);
      if (r) deleted.emplace_back(e.image_id);
    }
    res.send_json(200, json::object{{"CachesDeleted", deleted.empty() ? json::value(nullptr) : json::value(deleted)},
                                    {"SpaceReclaimed", 0}});
  });
  router.add("POST", "/build", [&builder, &images, limits](Request& req, ResponseWriter& res) {
    auto options = build_options(req);
    if (!options) return res.send_error(options.error());
    std::string dir = builder.state_dir() + "/context-" + random_hex(8);
    // The context goes when the handler returns: after the last line is out, so the client
    // does not wait for its files to be unlinked. Declared before the stream, destroyed after it.
    auto context = build::BuildContext::receive(req.body(), dir, options->dockerfile, limits.max_context_bytes, limits.tar);
    JsonStream out(res);
    std::mutex out_mutex;
    if (!context) return out.fail(context.error());
    build::BuildSink sink;
    sink.stream = [&](const std::string& text) {
      std::lock_guard lock(out_mutex);
      out.stream(text);
    };
    sink.cancelled = [&] { return res.client_gone(); };
    int run_code = 0;
    sink.run_failed = [&](int code) { run_code = code; };
    auto id = builder.build(**context, *options, sink);
    if (!id && run_code != 0 && res.started()) {
      // As dockerd: the RUN's exit code rides in errorDetail and becomes the CLI's exit status.
      const std::string& msg = id.error().message;
      out.send(json::object{{"errorDetail", json::object{{"code", run_code}, {"message", msg}}}, {"error", msg}});
      return out.finish();
    }
    if (!id) return out.fail(id.error());
    std::lock_guard lock(out_mutex);
    out.send(json::object{{"aux", json::object{{"ID", *id}}}});
    if (options->quiet) {
      out.stream(*id + "\n");
    } else {
      out.stream("Successfully built " + build::short_id(*id) + "\n");
    }
    for (const auto& t : options->tags) {
      auto ref = image::parse_normalized_tagged(t);
      if (auto s = images.set_tag(*ref, *id); !s) return out.fail(s.error());
      if (!options->quiet) out.stream("Successfully tagged " + ref->familiar_string() + "\n");
    }
    out.finish();
  });
}

}  // namespace berth::core::api
