// Names create accepts: Linux capabilities, signal names and numbers, container names (and the
// random ones given when none is asked for).
#include <charconv>
#include <signal.h>

#include <algorithm>
#include <map>
#include <random>

#include "core/container/create_config.hpp"
#include "core/container/create_config_detail.hpp"

namespace berth::core::container {

using create_detail::invalid;

const std::vector<std::string>& all_capabilities() {
  static const std::vector<std::string> kAll = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
      "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
      "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
      "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
      "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
      "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
      "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
      "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE"};
  return kAll;
}

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> kDefault = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
      "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};
  return kDefault;
}

Result<std::string> normalize_capability(const std::string& name) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper == "ALL") return upper;
  if (upper.rfind("CAP_", 0) != 0) upper = "CAP_" + upper;
  const auto& all = all_capabilities();
  if (std::find(all.begin(), all.end(), upper) == all.end()) {
    return invalid("unknown capability: \"" + name + "\"");
  }
  return upper;
}

int parse_signal(std::string_view text) {
  if (text.empty()) return 0;
  bool digits = std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    int n = 0;  // out of int's range: not a signal either
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    return ec == std::errc() && n > 0 && n < 65 ? n : 0;
  }
  std::string name(text);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  static const std::map<std::string, int> kSignals = {
      {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
      {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
      {"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
      {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
      {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},   {"STOP", SIGSTOP},
      {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},
      {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
      {"WINCH", SIGWINCH}, {"IO", SIGIO},         {"POLL", SIGPOLL},   {"PWR", SIGPWR},
      {"SYS", SIGSYS}};
  if (auto it = kSignals.find(name); it != kSignals.end()) return it->second;
  if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
    bool min = name[4] == 'I';
    int base = min ? SIGRTMIN : SIGRTMAX;
    if (name.size() == 5) return base;
    try {
      int off = std::stoi(name.substr(5));
      return base + off;
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

Status validate_name(const std::string& raw) {
  std::string name = !raw.empty() && raw[0] == '/' ? raw.substr(1) : raw;
  bool ok = name.size() >= 2 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) ok = false;
  }
  if (!ok) {
    return invalid("Invalid container name (" + name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  }
  return {};
}

std::string generate_name(int attempt) {
  // Our own word lists: Docker-like "adjective_surname" names of shipping and harbour figures.
  static const std::vector<std::string> kAdjectives = {
      "able",    "agile",   "amber",   "ardent",  "bold",    "brave",   "breezy",  "bright",
      "calm",    "candid",  "clever",  "cosmic",  "crisp",   "daring",  "deft",    "eager",
      "earnest", "fair",    "fearless","festive", "fond",    "gentle",  "glad",    "golden",
      "hardy",   "hearty",  "honest",  "humble",  "jolly",   "keen",    "kind",    "lively",
      "loyal",   "lucid",   "merry",   "mellow",  "nimble",  "noble",   "patient", "plucky",
      "proud",   "quiet",   "quick",   "radiant", "ready",   "serene",  "sharp",   "silent",
      "smooth",  "sober",   "solid",   "spry",    "steady",  "stoic",   "sunny",   "swift",
      "tidy",    "trusty",  "vivid",   "warm",    "wise",    "witty",   "zealous", "zesty"};
  static const std::vector<std::string> kNames = {
      "anchor",   "ballast",  "beacon",   "bollard",  "bosun",    "bowline",  "buoy",
      "capstan",  "cleat",    "compass",  "coxswain", "davit",    "dinghy",   "dock",
      "ferry",    "galley",   "gangway",  "hawser",   "helm",     "hull",     "jetty",
      "keel",     "lantern",  "lighthouse", "mast",   "mooring",  "navigator","pier",
      "pilot",    "quay",     "rudder",   "sail",     "schooner", "sextant",  "skiff",
      "slipway",  "stern",    "tide",     "tugboat",  "wharf",    "windlass", "yardarm"};
  static thread_local std::mt19937 rng(std::random_device{}());
  std::string name = kAdjectives[rng() % kAdjectives.size()] + "_" + kNames[rng() % kNames.size()];
  if (attempt > 0) name += std::to_string(rng() % 10);
  return name;
}

}  // namespace berth::core::container
