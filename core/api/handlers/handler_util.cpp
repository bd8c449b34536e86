#include "core/api/handlers/handler_util.hpp"

#include <cstdint>

#include "core/api/stdcopy.hpp"

namespace berth::core::api {

void send_done(ResponseWriter& res, const Result<container::Done>& r) {
  if (!r) return res.send_error(r.error());
  res.send_empty(*r == container::Done::kNotModified ? 304 : 204);
}

void send_status(ResponseWriter& res, const Status& s, int ok_status) {
  if (!s) return res.send_error(s.error());
  res.send_empty(ok_status);
}

Result<std::optional<int>> optional_int(const Request& req, const char* name) {
  auto v = req.query_value(name);
  if (!v || v->empty()) return std::optional<int>();
  auto n = req.query_int(name, 0);
  if (!n) return n.error();
  if (*n < INT32_MIN || *n > INT32_MAX) {
    return make_error(ErrorCode::kInvalidArgument, "invalid value for " + std::string(name) + ": \"" + *v + "\"");
  }
  return std::optional<int>(static_cast<int>(*n));
}

void write_frame(Transport& t, int stream, const std::string& text, bool tty) {
  std::string out = tty ? text : stdcopy_frame(stream, text);
  (void)t.write_all(out.data(), out.size());
}

}  // namespace berth::core::api
