// What a driver gets from the host, in C++ terms: a logger, its own config section and
// directories, a sink for task exits (isolation backends), and a per-call context. The same classes are used by the core
// (which implements them) and by plugins (which see them through the SDK thunks).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/sdk/result.hpp"

namespace berth::sdk {

using Labels = std::map<std::string, std::string, std::less<>>;

enum class LogLevel : int32_t {
  kTrace = BERTH_LOG_TRACE,
  kDebug = BERTH_LOG_DEBUG,
  kInfo = BERTH_LOG_INFO,
  kWarn = BERTH_LOG_WARN,
  kError = BERTH_LOG_ERROR,
};

// A structured log field: key=value on the log line. Never put credentials or env values here.
struct Field {
  std::string_view key;
  std::string_view value;
};

class Logger {
 public:
  virtual ~Logger() = default;
  [[nodiscard]] virtual bool enabled(LogLevel level) const noexcept = 0;
  virtual void write(LogLevel level, std::string_view message, const Field* fields,
                     size_t count) noexcept = 0;

  void log(LogLevel level, std::string_view message,
           std::initializer_list<Field> fields = {}) noexcept {
    write(level, message, fields.begin(), fields.size());
  }

  void debug(std::string_view m, std::initializer_list<Field> f = {}) noexcept {
    log(LogLevel::kDebug, m, f);
  }
  void info(std::string_view m, std::initializer_list<Field> f = {}) noexcept {
    log(LogLevel::kInfo, m, f);
  }
  void warn(std::string_view m, std::initializer_list<Field> f = {}) noexcept {
    log(LogLevel::kWarn, m, f);
  }
  void error(std::string_view m, std::initializer_list<Field> f = {}) noexcept {
    log(LogLevel::kError, m, f);
  }
};

class TaskExitSink;  // isolation_backend.hpp

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;
  [[nodiscard]] bool empty() const {
    return username.empty() && password.empty() && identity_token.empty();
  }
};

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  virtual Result<Credentials> lookup(std::string_view registry_host) = 0;
};

// Per call: request id for logs, cancellation and deadline. Long-running driver work polls
// cancelled() between steps.
class Context {
 public:
  Context() = default;
  explicit Context(std::string request_id) : request_id_(std::move(request_id)) {}
  virtual ~Context() = default;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  [[nodiscard]] virtual bool cancelled() const noexcept { return false; }
  [[nodiscard]] std::string_view request_id() const noexcept { return request_id_; }
  // Zero means no deadline.
  [[nodiscard]] std::chrono::system_clock::time_point deadline() const noexcept {
    return deadline_;
  }
  void set_deadline(std::chrono::system_clock::time_point d) noexcept { deadline_ = d; }

 private:
  std::string request_id_;
  std::chrono::system_clock::time_point deadline_{};
};

// Everything a driver instance receives at creation. References stay valid until the driver is
// destroyed.
struct InitContext {
  std::string driver_id;  // "storage.overlay"
  std::string config_json;
  std::string root_dir;   // persistent, owned by the driver
  std::string state_dir;  // volatile (tmpfs), owned by the driver
  std::string core_version;
  Logger* log = nullptr;
  TaskExitSink* task_exits = nullptr;        // isolation backends: where exits go
  CredentialProvider* credentials = nullptr;  // registry transports only
};

struct DriverInfo {
  std::string name;
  std::vector<std::string> capabilities;
  std::vector<std::pair<std::string, std::string>> status;  // shown by `berth info`
};

}  // namespace berth::sdk
