#pragma once

#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <string_view>

namespace berth::cli {

// Splits a byte stream of concatenated JSON values (any whitespace between them) into values,
// like Go's json.Decoder over a response body.
class JsonStreamDecoder {
 public:
  using Sink = std::function<void(boost::json::value)>;
  explicit JsonStreamDecoder(Sink sink) : sink_(std::move(sink)) {}
  // Throws std::runtime_error on malformed JSON.
  void feed(std::string_view data);
  // Call at end of input; throws if a value was cut off.
  void finish();

 private:
  Sink sink_;
  boost::json::stream_parser parser_;
  bool in_value_ = false;
};

}  // namespace berth::cli
