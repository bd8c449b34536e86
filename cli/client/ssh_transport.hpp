#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/client/address.hpp"
#include "cli/client/connection.hpp"

namespace berth::cli {

// ssh:// addresses, docker's model: run `ssh [-l user] [-p port] -- host berth [-H unix://path]
// system dial-stdio` and speak HTTP over its stdin/stdout. No TCP port of the daemon is opened;
// authentication, host keys and ~/.ssh/config are ssh's business.

// The command line, argv[0] = "ssh". Pure (unit-tested).
std::vector<std::string> ssh_command(const Address& address);
// The command run on the remote host (one string: ssh hands it to the remote shell).
std::string ssh_remote_command(const Address& address);
// Quotes `s` for a POSIX shell when it needs it.
std::string shell_quote(const std::string& s);

// Starts ssh with stdin and stdout on one end of a socketpair and stderr captured; the returned
// connection is the other end and owns the process (terminated and reaped when it closes).
// Throws ConnectError when ssh cannot be started at all.
std::unique_ptr<Connection> dial_ssh(const Address& address);

}  // namespace berth::cli
