#pragma once

#include <string>

namespace berth::cli {

// Where the daemon listens, as given by -H, BERTH_HOST or a context:
//   unix:///path (or a bare /path)      the local socket
//   tcp://host[:port] (or http://)      plain TCP, or TLS when the endpoint asks for it
//   ssh://[user@]host[:port][/socket]   `ssh host berth system dial-stdio` (no TCP port opened)
struct Address {
  enum class Kind { kUnix, kTcp, kSsh };
  Kind kind = Kind::kUnix;
  std::string path;  // unix socket path; for ssh the remote socket ("" = the remote default)
  std::string host;  // tcp or ssh host
  std::string port;  // tcp or ssh port ("" for ssh = ssh's own default)
  std::string user;  // ssh user ("" = ssh's own default)
  std::string original;  // as the user wrote it, for messages

  static constexpr const char* kDefault = "unix:///run/berth.sock";
  // docker's defaults for a tcp:// address without a port: 2376 with TLS, 2375 without.
  static constexpr const char* kDefaultTcpPort = "2375";
  static constexpr const char* kDefaultTlsPort = "2376";

  // Throws StatusError on an unsupported or malformed address. `tls` picks the default port.
  static Address parse(const std::string& text, bool tls = false);
};

// True for addresses that never leave the machine: 127.0.0.0/8, ::1, ::ffff:127.x.
bool is_loopback_ip(const std::string& ip);

}  // namespace berth::cli
