// The dashboard's terminal: a websocket from the page bridged to an exec session with a tty in a
// running container. The page sends keystrokes as binary frames and control messages as text
// frames of JSON ({"resize":[cols,rows]}); the session's output comes back as binary frames.
#pragma once

#include <string>

#include "cli/client/api_client.hpp"

namespace berth::cli::ui {

struct TerminalRequest {
  std::string container;
  std::string command = "sh";  // run through the container's PATH
  int cols = 80, rows = 24;
};

// Runs until either side closes. `fd` is the browser's socket, already upgraded (101 sent);
// `leftover` what was read past the upgrade request's head.
void run_terminal(int fd, std::string leftover, ApiClient& api, const TerminalRequest& req);

}  // namespace berth::cli::ui
