#include "core/common/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <iterator>
#include <mutex>
#include <string>

namespace berth::logging {
namespace {

std::mutex& mutex() {
  static std::mutex m;
  return m;
}

// stderr is journald's stream (a systemd service): $JOURNAL_STREAM names its device and inode.
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (stream == nullptr || ::fstat(STDERR_FILENO, &st) != 0) return false;
  return std::string(stream) == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

// "<N>" before a line tells journald its priority (sd-daemon(3)), so `journalctl -p warning`
// finds berthd's warnings.
class JournalPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view kPriority[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    auto p = kPriority[static_cast<size_t>(msg.level) % std::size(kPriority)];
    dest.append(p.data(), p.data() + p.size());
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriority>();
  }
};

spdlog::sink_ptr& shared_sink() {
  static spdlog::sink_ptr sink = [] {
    auto s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    if (stderr_is_journal()) {
      // journald stamps each line itself: the priority instead of a second timestamp.
      auto f = std::make_unique<spdlog::pattern_formatter>();
      f->add_flag<JournalPriority>('*').set_pattern("%*level=%l component=%n msg=\"%v\"");
      s->set_formatter(std::move(f));
    } else {
      s->set_formatter(std::make_unique<spdlog::pattern_formatter>(
          "time=%Y-%m-%dT%H:%M:%S.%fZ level=%l component=%n msg=\"%v\"",
          spdlog::pattern_time_type::utc));
    }
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
