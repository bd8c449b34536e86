#include "core/image/image_config.hpp"

#include <boost/json.hpp>

#include "core/common/json_fields.hpp"
#include "core/common/sha256.hpp"
#include "core/common/time.hpp"

namespace json = boost::json;

namespace berth::core::image {
namespace {

using json_fields::str;

}  // namespace

Result<ImageConfig> ImageConfig::parse(std::string bytes) {
  json::error_code ec;
  json::value v = json::parse(bytes, ec);
  if (ec || !v.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "image config is not a JSON object");
  }
  ImageConfig c;
  c.json_ = std::move(v.get_object());
  c.bytes_ = std::move(bytes);
  const auto* rootfs = c.json_.if_contains("rootfs");
  if (rootfs != nullptr && rootfs->is_object()) {
    if (const auto* ids = rootfs->get_object().if_contains("diff_ids"); ids != nullptr && ids->is_array()) {
      for (const auto& id : ids->get_array()) {
        if (!id.is_string() || !is_valid_digest(id.get_string())) {
          return make_error(ErrorCode::kInvalidArgument, "image config has an invalid diff id");
        }
        c.diff_ids_.emplace_back(id.get_string());
      }
    }
  }
  if (auto created = str(c.json_, "created"); !created.empty()) {
    c.created_nano_ = parse_rfc3339(created).value_or(0);
  }
  if (const auto* hist = c.json_.if_contains("history"); hist != nullptr && hist->is_array()) {
    for (const auto& h : hist->get_array()) {
      if (!h.is_object()) continue;
      const auto& ho = h.get_object();
      HistoryEntry e;
      e.created_unix = parse_rfc3339(str(ho, "created")).value_or(0) / 1000000000;
      e.created_by = str(ho, "created_by");
      e.comment = str(ho, "comment");
      e.author = str(ho, "author");
      if (const auto* el = ho.if_contains("empty_layer"); el != nullptr && el->is_bool()) {
        e.empty_layer = el->get_bool();
      }
      c.history_.push_back(std::move(e));
    }
  }
  std::string os = str(c.json_, "os");
  if (!os.empty() && os != "linux") {
    return make_error(ErrorCode::kInvalidArgument, "image is for os \"" + os + "\", not linux");
  }
  return c;
}

const json::object& ImageConfig::container_config() const {
  static const json::object kEmpty;
  const auto* v = json_.if_contains("config");
  return v != nullptr && v->is_object() ? v->get_object() : kEmpty;
}

std::string ImageConfig::architecture() const {
  auto a = str(json_, "architecture");
  return a.empty() ? "amd64" : a;
}
std::string ImageConfig::os() const {
  auto o = str(json_, "os");
  return o.empty() ? "linux" : o;
}
std::string ImageConfig::author() const { return str(json_, "author"); }
std::string ImageConfig::comment() const {
  for (const auto& h : history_) {
    if (!h.comment.empty()) return h.comment;
  }
  return {};
}

json::object full_container_config(const json::object& c) {
  auto get = [&](std::string_view k, json::value fallback) -> json::value {
    const auto* v = c.if_contains(k);
    return v == nullptr ? fallback : *v;
  };
  json::object out{{"Hostname", get("Hostname", "")},
                   {"Domainname", get("Domainname", "")},
                   {"User", get("User", "")},
                   {"AttachStdin", get("AttachStdin", false)},
                   {"AttachStdout", get("AttachStdout", false)},
                   {"AttachStderr", get("AttachStderr", false)}};
  if (const auto* p = c.if_contains("ExposedPorts"); p != nullptr && !p->is_null()) {
    out["ExposedPorts"] = *p;
  }
  out["Tty"] = get("Tty", false);
  out["OpenStdin"] = get("OpenStdin", false);
  out["StdinOnce"] = get("StdinOnce", false);
  out["Env"] = get("Env", nullptr);
  out["Cmd"] = get("Cmd", nullptr);
  if (const auto* h = c.if_contains("Healthcheck"); h != nullptr && !h->is_null()) {
    out["Healthcheck"] = *h;
  }
  out["Image"] = get("Image", "");
  out["Volumes"] = get("Volumes", nullptr);
  out["WorkingDir"] = get("WorkingDir", "");
  out["Entrypoint"] = get("Entrypoint", nullptr);
  out["OnBuild"] = get("OnBuild", nullptr);
  out["Labels"] = get("Labels", nullptr);
  if (const auto* s = c.if_contains("StopSignal"); s != nullptr && !s->is_null()) {
    out["StopSignal"] = *s;
  }
  // Dockerfile SHELL (omitted when unset, as Docker's omitempty).
  if (const auto* s = c.if_contains("Shell"); s != nullptr && s->is_array() && !s->get_array().empty()) {
    out["Shell"] = *s;
  }
  return out;
}

std::string encode_config(const json::object& config) { return json::serialize(config); }

}  // namespace berth::core::image
