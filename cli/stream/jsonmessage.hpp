#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "cli/stream/transfer_speed.hpp"

namespace berth::cli {

class Response;

// An errorDetail message in a JSON progress stream: the operation failed mid-stream.
class JsonMessageError : public std::runtime_error {
 public:
  JsonMessageError(std::string message, int code)
      : std::runtime_error(std::move(message)), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// docker's jsonmessage.JSONProgress.String(): "[==>   ]  1.2MB/3.4MB 5s".
std::string render_progress(const boost::json::value& detail, int width, int64_t now_unix);

// Renders pull/push/load/import/build progress streams like docker's
// DisplayJSONMessagesStream: in a terminal each id's line is redrawn in place (cursor up/down,
// erase line), with the transfer speed after the bar; otherwise lines with a progress bar are
// skipped.
class JsonMessageRenderer {
 public:
  using Write = std::function<void(const std::string&)>;
  using AuxCallback = std::function<void(const boost::json::value&)>;
  using Clock = std::function<double()>;  // seconds, monotonic; for the transfer speed
  JsonMessageRenderer(Write write, bool terminal, int width = 0, Clock clock = {});

  void set_aux_callback(AuxCallback cb) { aux_ = std::move(cb); }
  // Throws JsonMessageError for an errorDetail/error message.
  void display(const boost::json::value& msg);

 private:
  void display_one(const boost::json::value& msg);
  Write write_;
  bool terminal_;
  int width_;
  AuxCallback aux_;
  Clock clock_;
  std::map<std::string, unsigned> ids_;
  TransferSpeed speed_;
};

// Reads a JSON message stream response and renders it to `fd`.
void display_json_stream(Response& resp, int fd, bool terminal,
                         JsonMessageRenderer::AuxCallback aux = {});

// Go's time.Duration.String() for whole seconds ("1m2s", "3h0m0s", "0s").
std::string go_duration_string(int64_t seconds);

}  // namespace berth::cli
