#include "cli/stream/jsonmessage.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "cli/client/api_client.hpp"
#include "cli/commands/common.hpp"
#include "cli/format/human.hpp"
#include "cli/format/json_text.hpp"
#include "cli/stream/json_stream.hpp"
#include "cli/util/json_util.hpp"

namespace berth::cli {

namespace json = boost::json;

std::string go_duration_string(int64_t s) {
  if (s == 0) return "0s";
  std::string sign = s < 0 ? "-" : "";
  s = s < 0 ? -s : s;
  int64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h) return sign + std::to_string(h) + "h" + std::to_string(m) + "m" + std::to_string(sec) + "s";
  if (m) return sign + std::to_string(m) + "m" + std::to_string(sec) + "s";
  return sign + std::to_string(sec) + "s";
}

namespace {

std::string pad8(const std::string& s) {
  return s.size() >= 8 ? s : std::string(8 - s.size(), ' ') + s;
}

}  // namespace

std::string render_progress(const json::value& d, int width, int64_t now_unix) {
  int64_t current = jint(d, "current"), total = jint(d, "total"), start = jint(d, "start");
  std::string units = jstr(d, "units");
  bool hide = jbool(d, "hidecounts");
  if (current <= 0 && total <= 0) return "";
  if (total <= 0) {
    if (units.empty()) return pad8(human_size(static_cast<double>(current), 4));
    return std::to_string(current) + " " + units;
  }
  int percentage = static_cast<int>(static_cast<double>(current) / total * 100) / 2;
  if (percentage > 50) percentage = 50;
  std::string bar, numbers, left;
  if (width > 110) {
    int spaces = 50 - percentage > 0 ? 50 - percentage : 0;
    bar = "[" + std::string(percentage, '=') + ">" + std::string(spaces, ' ') + "] ";
  }
  if (!hide) {
    if (units.empty()) {
      std::string cur = human_size(static_cast<double>(current), 4);
      numbers = current > total ? pad8(cur)
                                : pad8(cur) + "/" + human_size(static_cast<double>(total), 4);
    } else {
      numbers = current > total ? std::to_string(current) + " " + units
                                : std::to_string(current) + "/" + std::to_string(total) + " " +
                                      units;
    }
  }
  if (width > 50 && current > 0 && start > 0 && percentage < 50) {
    double per = static_cast<double>(now_unix - start) / static_cast<double>(current);
    auto remaining = static_cast<int64_t>(static_cast<double>(total - current) * per + 0.5);
    left = " " + go_duration_string(remaining);
  }
  return bar + numbers + left;
}

JsonMessageRenderer::JsonMessageRenderer(Write write, bool terminal, int width, Clock clock)
    : write_(std::move(write)), terminal_(terminal), width_(width), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    };
  }
}

void JsonMessageRenderer::display(const json::value& msg) {
  if (!msg.is_object()) return;
  if (msg.get_object().contains("aux")) {
    if (aux_) aux_(msg.get_object().at("aux"));
    return;
  }
  std::string id = jstr(msg, "id");
  bool has_progress = msg.get_object().contains("progressDetail") &&
                      !msg.get_object().at("progressDetail").is_null();
  unsigned diff = 0;
  if (!id.empty() && (has_progress || !jstr(msg, "progress").empty())) {
    auto it = ids_.find(id);
    unsigned line;
    if (it == ids_.end()) {
      line = static_cast<unsigned>(ids_.size());
      ids_[id] = line;
      if (terminal_) write_("\n");
    } else {
      line = it->second;
    }
    diff = static_cast<unsigned>(ids_.size()) - line;
    if (terminal_ && diff) write_("\x1b[" + std::to_string(diff) + "A");
  } else {
    ids_.clear();
  }
  display_one(msg);
  if (!id.empty() && terminal_ && diff) write_("\x1b[" + std::to_string(diff) + "B");
}

void JsonMessageRenderer::display_one(const json::value& msg) {
  if (const json::value* err = jfind(msg, "errorDetail"); err && err->is_object()) {
    throw JsonMessageError(jstr(*err, "message"), static_cast<int>(jint(*err, "code")));
  }
  if (!jstr(msg, "error").empty()) throw JsonMessageError(jstr(msg, "error"), 0);
  const json::value* detail = jfind(msg, "progressDetail");
  bool has_progress = detail && !detail->is_null();
  int width = width_;
  if (width == 0) {
    struct winsize ws {};
    width = ::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 200;
  }
  std::string progress = has_progress ? render_progress(*detail, width, std::time(nullptr)) : "";
  std::string stream = jstr(msg, "stream");
  std::string endl;
  std::string out;
  if (terminal_ && stream.empty() && has_progress) {
    out += "\x1b[2K\r";
    endl = "\r";
  } else if (has_progress && !progress.empty()) {
    return;  // no progress bars outside a terminal
  }
  if (int64_t nano = jint(msg, "timeNano"))
    out += format_rfc3339_nano(nano, true) + " ";
  else if (int64_t t = jint(msg, "time"))
    out += format_rfc3339_nano(t * 1000000000LL, true) + " ";
  std::string id = jstr(msg, "id");
  if (!id.empty()) out += id + ": ";
  std::string from = jstr(msg, "from");
  if (!from.empty()) out += "(from " + from + ") ";
  std::string status = jstr(msg, "status");
  std::string legacy = jstr(msg, "progress");
  std::string speed;
  if (has_progress && terminal_ && !id.empty()) {
    if (jint(*detail, "total") > 0 && jint(*detail, "current") > 0) {
      speed_.sample(id, jint(*detail, "current"), clock_());
      speed = speed_.render(id);
    } else {
      speed_.forget(id);
    }
  }
  if (has_progress && terminal_)
    out += status + " " + progress + speed + endl;
  else if (!legacy.empty())
    out += status + " " + legacy + endl;
  else if (!stream.empty())
    out += stream + endl;
  else
    out += status + endl + "\n";
  write_(out);
}

void display_json_stream(Response& resp, int fd, bool terminal,
                         JsonMessageRenderer::AuxCallback aux) {
  JsonMessageRenderer r([fd](const std::string& s) { write_fd(fd, s.data(), s.size()); },
                        terminal);
  r.set_aux_callback(std::move(aux));
  JsonStreamDecoder dec([&](json::value v) { r.display(v); });
  std::string chunk;
  while (resp.read_some(chunk)) {
    dec.feed(chunk);
    chunk.clear();
  }
  dec.finish();
}

}  // namespace berth::cli
