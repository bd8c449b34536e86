#include <csignal>
#include <string>
#include <vector>

#include "cli/app/command.hpp"

int main(int argc, char** argv) {
  // A daemon closing the socket (or `berth ... | head`) must surface as an error, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  return berth::cli::run_cli(args);
}
