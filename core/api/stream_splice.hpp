// The attach/exec byte pipe: after the 101, copy the client's stdin to the task's stream and the
// task's output (already framed by the backend) to the client, until the task side ends.
#pragma once

#include <string>
#include <vector>

#include "core/api/transport.hpp"
#include "core/common/result.hpp"

namespace berth::core::api {

// How the task's output reaches the client when the framing the client asked for differs from
// the one the process has (dockerd frames an exec's output by its start request's Tty).
enum class OutputFraming {
  kAsIs,       // the task side already speaks what the client expects
  kFrame,      // raw (TTY) output wrapped in stdout frames for a client that asked for none
  kUnframe,    // framed (pipes) output stripped to raw bytes for a client that asked for a TTY
};

struct SpliceOptions {
  bool stdin = false;  // forward the client's bytes
  bool tty = false;    // with a TTY the client's EOF ends the session (Docker keeps stdin open)
  std::vector<unsigned char> detach_keys;  // empty: none
  OutputFraming framing = OutputFraming::kAsIs;
};

enum class SpliceEnd {
  kTaskEnded,    // the task closed its stream (process gone, output drained)
  kClientGone,   // the client closed or failed
  kDetached,     // the detach key sequence was typed
};

SpliceEnd splice(Transport& client, std::string leftover, int task_fd, const SpliceOptions& options);

// "ctrl-p,ctrl-q" → {0x10, 0x11}; Docker's format. Empty text gives the default (ctrl-p,ctrl-q).
Result<std::vector<unsigned char>> parse_detach_keys(const std::string& text);

}  // namespace berth::core::api
