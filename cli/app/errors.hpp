#pragma once

#include <stdexcept>
#include <string>

namespace berth::cli {

// The CLI is a short-lived process whose every failure ends the command with a message and an
// exit code, so errors travel as exceptions up to the command boundary (main) instead of being
// threaded through every helper as Result<T>.

// A failure that ends the command: `message` goes to stderr (unless empty), `code` is the exit
// status. Mirrors docker's cli.StatusError.
class StatusError : public std::runtime_error {
 public:
  StatusError(std::string message, int code) : std::runtime_error(std::move(message)), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// Wrong usage of a command (bad flag, wrong argument count): printed with a "See '... --help'"
// hint like docker's flag errors.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(std::string message, int code = 125)
      : std::runtime_error(std::move(message)), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

}  // namespace berth::cli
