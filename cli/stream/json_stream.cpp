#include "cli/stream/json_stream.hpp"

#include <cctype>
#include <stdexcept>

namespace berth::cli {

void JsonStreamDecoder::feed(std::string_view data) {
  while (!data.empty()) {
    if (!in_value_) {
      size_t skip = 0;
      while (skip < data.size() && std::isspace(static_cast<unsigned char>(data[skip]))) ++skip;
      data.remove_prefix(skip);
      if (data.empty()) return;
      in_value_ = true;
    }
    boost::system::error_code ec;
    size_t n = parser_.write_some(data.data(), data.size(), ec);
    if (ec) throw std::runtime_error("invalid JSON in stream: " + ec.message());
    data.remove_prefix(n);
    if (parser_.done()) {
      boost::json::value v = parser_.release();
      parser_.reset();
      in_value_ = false;
      sink_(std::move(v));
    }
  }
}

void JsonStreamDecoder::finish() {
  if (!in_value_) return;
  boost::system::error_code ec;
  parser_.finish(ec);
  if (ec) throw std::runtime_error("unexpected EOF");
  boost::json::value v = parser_.release();
  parser_.reset();
  in_value_ = false;
  sink_(std::move(v));
}

}  // namespace berth::cli
