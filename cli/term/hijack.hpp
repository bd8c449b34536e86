#pragma once

#include <string>
#include <vector>

#include "cli/client/api_client.hpp"

namespace berth::cli {

struct HijackOptions {
  bool tty = false;            // raw bytes (no framing); stdin in raw mode with detach keys
  bool send_stdin = false;     // forward our stdin; half-close at EOF
  bool want_output = true;     // write stdout/stderr (else read and drop)
  std::vector<unsigned char> detach_keys;  // only honoured with tty, like docker
};

enum class HijackEnd { kOutputDone, kDetached };

// Pumps a hijacked (HTTP 101) connection: socket -> stdout/stderr (demultiplexed unless TTY),
// stdin -> socket (raw, half-closed at EOF). Returns when the daemon closes the output side,
// or when the detach sequence is typed. Throws on a "system error" frame.
HijackEnd pump_hijacked(Hijacked& session, const HijackOptions& opts);

}  // namespace berth::cli
