#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include <atomic>
#include <thread>

#include "cli/app/context.hpp"

namespace berth::cli {

// docker's DisplayablePorts: "127.0.0.1:18080->80/tcp, 8000-8002/tcp, [::]:81->81/udp".
std::string displayable_ports(const boost::json::value& ports);
// One `ps` row object (ID, Image, Command, CreatedAt, RunningFor, Ports, State, Status, Size,
// Names, Labels, Mounts, Networks, LocalVolumes).
boost::json::object container_row(const boost::json::value& c, bool trunc);
const boost::json::object& container_header();

// GET /containers/{id}/json, returning the decoded object (throws ApiError).
boost::json::value inspect_container(Context& ctx, const std::string& id);

// Exit statuses derived from daemon messages for run/create/start (docker's toStatusError).
int run_error_code(const std::string& message);

// Resizes a container or exec TTY to the local terminal once; false if the daemon refused.
bool resize_tty(Context& ctx, const std::string& path_prefix);

// docker's initTtySize: one resize now; if it fails, up to 10 retries in the background
// (10ms, 20ms, ...) and "failed to resize tty, using default size" if they all fail. The
// retries stop silently when the command ends first, as the docker CLI's goroutine does.
class TtyResizer {
 public:
  TtyResizer(Context& ctx, std::string path_prefix);
  ~TtyResizer();

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace berth::cli
