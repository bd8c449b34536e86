#include "cli/ui/terminal_bridge.hpp"

#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>

#include <boost/json.hpp>

#include "cli/client/tls_relay.hpp"
#include "cli/ui/websocket.hpp"
#include "cli/util/socket_io.hpp"

namespace berth::cli::ui {

namespace json = boost::json;

namespace {

bool send_frame(int fd, ws::Opcode op, std::string_view payload) {
  std::string frame = ws::encode_frame(op, payload);
  return send_all(fd, frame.data(), frame.size());
}

// Close code and reason, as RFC 6455 puts them in a close frame's payload.
bool send_close(int fd, uint16_t code, std::string_view reason) {
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xff);
  payload.append(reason.substr(0, 120));
  return send_frame(fd, ws::kClose, payload);
}

bool resize(ApiClient& api, const std::string& exec_id, int cols, int rows) {
  if (cols <= 0 || rows <= 0 || cols > 10000 || rows > 10000) return true;
  Request r;
  r.method = "POST";
  r.path = "/exec/" + exec_id + "/resize";
  r.query.add("h", std::to_string(rows)).add("w", std::to_string(cols));
  try {
    api.call(r);
    return true;
  } catch (const std::exception&) {
    return false;  // not started yet, or already ended
  }
}

}  // namespace

void run_terminal(int fd, std::string leftover, ApiClient& api, const TerminalRequest& req) {
  std::string exec_id;
  Hijacked session;
  try {
    Request create;
    create.method = "POST";
    create.path = "/containers/" + req.container + "/exec";
    json::object body{{"AttachStdin", true}, {"AttachStdout", true}, {"AttachStderr", true},
                      {"Tty", true}, {"Cmd", json::array{json::string(req.command)}},
                      {"Env", json::array{"TERM=xterm-256color"}}};
    create.body = json::serialize(body);
    exec_id = json::value_to<std::string>(api.call_json(create).at("Id"));
    Request start;
    start.method = "POST";
    start.path = "/exec/" + exec_id + "/start";
    start.body = json::serialize(json::object{
        {"Detach", false}, {"Tty", true}, {"ConsoleSize", json::array{req.rows, req.cols}}});
    session = api.hijack(start);
  } catch (const std::exception& e) {
    // The daemon's words, as the CLI prints them, end up in the page's terminal.
    send_frame(fd, ws::kBinary, std::string("\r\n") + e.what() + "\r\n");
    send_close(fd, 1011, "exec failed");
    return;
  }
  if (session.conn->is_tls()) session.conn = relay_hijacked_tls(std::move(session.conn));
  int exec_fd = session.conn->native_handle();
  // The session's process may not exist yet when start's 101 arrives: retry for a moment, as
  // the docker CLI does for its first resize.
  for (int attempt = 1; attempt <= 10 && !resize(api, exec_id, req.cols, req.rows); ++attempt)
    ::usleep(10000 * attempt);
  if (!session.leftover.empty()) send_frame(fd, ws::kBinary, session.leftover);

  ws::Decoder decoder;
  decoder.feed(leftover);
  char buf[32 * 1024];
  bool open = true;
  auto handle_messages = [&]() {
    while (auto m = decoder.next()) {
      switch (m->opcode) {
        case ws::kBinary:
          if (!send_all(exec_fd, m->payload.data(), m->payload.size())) open = false;
          break;
        case ws::kText: {
          boost::system::error_code ec;
          json::value v = json::parse(m->payload, ec);
          if (!ec && v.is_object()) {
            if (auto* r = v.as_object().if_contains("resize"); r && r->is_array() && r->as_array().size() == 2) {
              auto& a = r->as_array();
              if (a[0].is_int64() && a[1].is_int64())
                resize(api, exec_id, static_cast<int>(a[0].as_int64()), static_cast<int>(a[1].as_int64()));
            }
          }
          break;
        }
        case ws::kPing:
          send_frame(fd, ws::kPong, m->payload);
          break;
        case ws::kClose:
          send_close(fd, 1000, "");
          open = false;
          return;
        default:
          break;
      }
    }
  };
  try {
    handle_messages();
    while (open) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {exec_fd, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::recv(exec_fd, buf, sizeof buf, 0);
        if (n <= 0) {
          send_close(fd, 1000, "the session ended");
          break;
        }
        if (!send_frame(fd, ws::kBinary, std::string_view(buf, static_cast<size_t>(n)))) break;
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;  // the page went away
        decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
        handle_messages();
      }
    }
  } catch (const std::exception& e) {
    send_close(fd, 1002, e.what());  // a protocol violation from the page
  }
  // Closing our end hangs up the session's tty: the shell gets SIGHUP, as with a closed ssh.
  session.conn->close();
}

}  // namespace berth::cli::ui
