#pragma once

#include <string>

namespace berth::cli {

// Where the daemon listens: unix:///path or tcp://host:port (as given by -H or BERTH_HOST).
struct Address {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string path;  // unix socket path
  std::string host;  // tcp host
  std::string port;  // tcp port
  std::string original;  // as the user wrote it, for messages

  static constexpr const char* kDefault = "unix:///run/berth.sock";
  // Throws StatusError on an unsupported or malformed address.
  static Address parse(const std::string& text);
};

}  // namespace berth::cli
