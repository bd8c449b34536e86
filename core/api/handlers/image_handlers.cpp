#include "core/api/handlers/image_handlers.hpp"

#include <boost/json.hpp>

#include "core/api/filters.hpp"
#include "core/api/handlers/distribution_handlers.hpp"
#include "core/api/json_stream.hpp"
#include "core/image/reference.hpp"

namespace json = boost::json;

namespace berth::core::api {
namespace {

json::array delete_items(const std::vector<image::DeleteItem>& items) {
  json::array out;
  for (const auto& i : items) {
    if (!i.untagged.empty()) out.push_back(json::object{{"Untagged", i.untagged}});
    else out.push_back(json::object{{"Deleted", i.deleted}});
  }
  return out;
}

// Streams the response body as it is produced; the 200 goes out with the first byte, so an
// error found before any output is still a proper HTTP error.
class StreamingWriter final : public Writer {
 public:
  StreamingWriter(ResponseWriter& res, std::string content_type)
      : res_(res), content_type_(std::move(content_type)) {}
  Status write(std::string_view data) override {
    if (!res_.started()) BERTH_TRY_STATUS(res_.start_stream(200, content_type_));
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

 private:
  ResponseWriter& res_;
  std::string content_type_;
  std::string buffer_;
};

void images_import(image::ImageService& images, Request& req, ResponseWriter& res) {
  std::string src = req.query_value("fromSrc").value_or("");
  if (src != "-") {
    return res.send_error(501, "importing from a URL is not supported: send the archive in the "
                               "request body (fromSrc=-)");
  }
  std::string repo = req.query_value("repo").value_or("");
  std::string tag = req.query_value("tag").value_or("");
  std::string message = req.query_value("message").value_or("");
  auto changes = req.query_values("changes");
  auto id = images.import(req.ctx(), req.body(), repo, tag, message, changes);
  JsonStream out(res);
  if (!id) return out.fail(id.error());
  out.status(*id);
  out.finish();
}

void images_create(image::ImageService& images, image::ImagePuller* puller, Request& req,
                   ResponseWriter& res) {
  if (req.query_value("fromSrc")) return images_import(images, req, res);
  std::string from = req.query_value("fromImage").value_or("");
  if (from.empty()) return res.send_error(400, "fromImage or fromSrc is required");
  images_pull(puller, req, res);
}

}  // namespace

void register_image_routes(Router& router, image::ImageService& images,
                           image::ImagePuller* puller) {
  auto* svc = &images;
  router.add("GET", "/images/json", [svc](Request& req, ResponseWriter& res) {
    auto filters = request_filters(req, {"before", "dangling", "label", "reference", "since", "until"});
    if (!filters) return res.send_error(filters.error());
    auto list = svc->list(*filters, req.query_bool("all"), req.query_bool("digests"));
    if (!list) return res.send_error(list.error());
    res.send_json(200, *list);
  });
  router.add("POST", "/images/create", [svc, puller](Request& req, ResponseWriter& res) {
    images_create(*svc, puller, req, res);
  });
  router.add("POST", "/images/load", [svc](Request& req, ResponseWriter& res) {
    bool quiet = req.query_bool("quiet");
    JsonStream out(res);
    auto lines = svc->load(req.ctx(), req.body(), [&](const json::object& progress) {
      if (!quiet) out.send(progress);
    });
    if (!lines) return out.fail_in_stream(lines.error());
    for (const auto& line : *lines) out.stream(line + "\n");
    out.finish();
  });
  router.add("GET", "/images/get", [svc](Request& req, ResponseWriter& res) {
    auto names = req.query_values("names");
    StreamingWriter out(res, "application/x-tar");
    auto s = svc->save(req.ctx(), names, out);
    if (!s) {
      if (!res.started()) return res.send_error(s.error());
      return;  // the tar is cut short; the client sees a truncated archive
    }
    if (!res.started()) (void)res.start_stream(200, "application/x-tar");
    if (out.flush()) (void)res.end_stream();
  });
  router.add("POST", "/images/prune", [svc](Request& req, ResponseWriter& res) {
    auto filters = request_filters(req, {"dangling", "label", "label!", "until"});
    if (!filters) return res.send_error(filters.error());
    auto pruned = svc->prune(req.ctx(), *filters);
    if (!pruned) return res.send_error(pruned.error());
    auto deleted = delete_items(pruned->first);
    res.send_json(200, json::object{{"ImagesDeleted", deleted.empty() ? json::value(nullptr) : json::value(deleted)},
                                    {"SpaceReclaimed", pruned->second}});
  });
  router.add("GET", "/images/{name*}/json", [svc](Request& req, ResponseWriter& res) {
    auto info = svc->inspect(req.param("name"));
    if (!info) return res.send_error(info.error());
    res.send_json(200, *info);
  });
  router.add("GET", "/images/{name*}/history", [svc](Request& req, ResponseWriter& res) {
    auto h = svc->history(req.param("name"));
    if (!h) return res.send_error(h.error());
    res.send_json(200, *h);
  });
  router.add("GET", "/images/{name*}/get", [svc](Request& req, ResponseWriter& res) {
    StreamingWriter out(res, "application/x-tar");
    auto s = svc->save(req.ctx(), {req.param("name")}, out);
    if (!s) {
      if (!res.started()) return res.send_error(s.error());
      return;
    }
    if (!res.started()) (void)res.start_stream(200, "application/x-tar");
    if (out.flush()) (void)res.end_stream();
  });
  router.add("POST", "/images/{name*}/tag", [svc](Request& req, ResponseWriter& res) {
    std::string repo = req.query_value("repo").value_or("");
    if (repo.empty()) return res.send_error(400, "repository name (repo) is required");
    auto s = svc->tag(req.param("name"), repo, req.query_value("tag").value_or(""));
    if (!s) return res.send_error(s.error());
    res.send(201, "", "");
  });
  // POST /images/{name}/push: distribution_handlers.cpp.
  router.add("DELETE", "/images/{name*}", [svc](Request& req, ResponseWriter& res) {
    auto items = svc->remove(req.ctx(), req.param("name"), req.query_bool("force"), !req.query_bool("noprune"));
    if (!items) return res.send_error(items.error());
    res.send_json(200, delete_items(*items));
  });
}

}  // namespace berth::core::api
