// Small pieces every handler file shares: answering a lifecycle verb, optional int parameters,
// and a message written into a hijacked stream.
#pragma once

#include <optional>
#include <string>

#include "core/api/request.hpp"
#include "core/api/response.hpp"
#include "core/api/transport.hpp"
#include "core/container/container_manager.hpp"

namespace berth::core::api {

// 204, or 304 when nothing changed (start of a running container, stop of a stopped one).
void send_done(ResponseWriter& res, const Result<container::Done>& r);
void send_status(ResponseWriter& res, const Status& s, int ok_status = 204);
// An optional whole-number parameter ("t" of stop and restart): absent is nullopt, anything
// but an int is refused.
Result<std::optional<int>> optional_int(const Request& req, const char* name);
// Writes a message on a hijacked stream (errors after the 101): framed unless the client has a
// TTY.
void write_frame(Transport& t, int stream, const std::string& text, bool tty);

}  // namespace berth::core::api
