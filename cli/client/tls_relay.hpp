#pragma once

#include <memory>

#include "cli/client/connection.hpp"

namespace berth::cli {

// Hijacked sessions (attach, exec, `run -it`) are pumped with poll/recv/send/shutdown on a file
// descriptor (term/hijack.cpp), by two threads: one reads stdin, the other reads the daemon.
// An OpenSSL session must not be read and written by two threads at once, so a hijacked TLS
// connection is relayed: one thread owns it (non-blocking, both directions in one poll loop)
// and shuttles bytes to a socketpair, whose other end is returned as a plain connection. EOF
// travels both ways as half-closes (close_notify + TCP FIN toward the daemon).
std::unique_ptr<Connection> relay_hijacked_tls(std::unique_ptr<Connection> tls_connection);

// The relay's loop, for either end of a TLS session (berth ui serves TLS with it too): moves
// bytes between `ssl` (over the socket `net`, made non-blocking here) and the plain socket
// `local` until both directions ended, the local side went away, or `stop` becomes readable
// (-1: no stop signal).
void relay_tls_session(SSL* ssl, int net, int local, int stop);

}  // namespace berth::cli
