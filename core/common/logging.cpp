#include "core/common/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

namespace berth::logging {
namespace {

std::mutex& mutex() {
  static std::mutex m;
  return m;
}

spdlog::sink_ptr& shared_sink() {
  static spdlog::sink_ptr sink = [] {
    auto s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    s->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "time=%Y-%m-%dT%H:%M:%S.%fZ level=%l component=%n msg=\"%v\"",
        spdlog::pattern_time_type::utc));
    return s;
  }();
  return sink;
}

spdlog::level::level_enum& current_level() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}

}  // namespace

Status set_level(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return make_error(ErrorCode::kInvalidArgument,
                      "unknown log level \"" + std::string(level) +
                          "\": use trace, debug, info, warn or error");
  }
  std::lock_guard lock(mutex());
  current_level() = parsed;
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& l) { l->set_level(parsed); });
  return {};
}

std::shared_ptr<spdlog::logger> get(std::string_view subsystem) {
  std::lock_guard lock(mutex());
  std::string name(subsystem);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, shared_sink());
  logger->set_level(current_level());
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace berth::logging
