// Docker's JSON message streams (pull, push, load, import, build): one object per line, errors
// inside the stream as {"errorDetail":{"message":...},"error":...} once the 200 is out.
#pragma once

#include <boost/json.hpp>
#include <string>

#include "core/api/response.hpp"
#include "core/common/json_text.hpp"

namespace berth::core::api {

class JsonStream {
 public:
  explicit JsonStream(ResponseWriter& res) : res_(res) {}

  // Sends one message, starting the 200 stream on the first.
  bool send(const boost::json::object& message) {
    if (!res_.started()) {
      if (!res_.start_stream(200, "application/json")) return false;
    }
    return res_.write_chunk(json_text::serialize(message) + "\r\n").has_value();
  }
  bool status(const std::string& text) { return send(boost::json::object{{"status", text}}); }
  bool stream(const std::string& text) { return send(boost::json::object{{"stream", text}}); }

  // An error: a plain HTTP error while nothing was sent, an in-stream error afterwards.
  void fail(const Error& error) {
    if (!res_.started()) {
      res_.send_error(error);
      return;
    }
    send(boost::json::object{{"errorDetail", boost::json::object{{"message", error.message}}},
                             {"error", error.message}});
    finish();
  }
  // An error always inside a 200 stream: dockerd's load answers every failure this way, and
  // docker-py raises ImageLoadError only from it.
  void fail_in_stream(const Error& error) {
    if (!res_.started() && !res_.start_stream(200, "application/json")) return;
    send(boost::json::object{{"errorDetail", boost::json::object{{"message", error.message}}},
                             {"error", error.message}});
    finish();
  }
  void finish() {
    if (res_.streaming()) (void)res_.end_stream();
  }

 private:
  ResponseWriter& res_;
};

}  // namespace berth::core::api
