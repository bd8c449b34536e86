#pragma once

#include <boost/json/value.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/app/command.hpp"
#include "cli/client/query.hpp"

namespace berth::cli {

// Help text of every --format flag that accepts table/json/templates.
extern const char* const kFormatHelp;
// Help text of --format on inspect-like commands.
extern const char* const kInspectFormatHelp;

// Builds filters from repeated -f/--filter key=value arguments.
Filters parse_filters(const std::vector<std::string>& args);

// docker's prompt.Confirm: prints "<message> [y/N] " on stdout and reads one line.
bool confirm(const std::string& message);

// `container prune` and `network prune`: --filter and --force, docker's warning prompt, one POST
// to `path`, then "<deleted_title>" with the names under `deleted_key` and, when the answer
// carries it, docker's "Total reclaimed space" line.
struct PruneCommand {
  std::string summary;        // "Remove all stopped containers"
  std::string warning;        // the prompt without " [y/N] "
  std::string path;           // "/containers/prune"
  std::string deleted_key;    // "ContainersDeleted"
  std::string deleted_title;  // "Deleted Containers:"
  bool reports_space = false;
};
std::unique_ptr<Command> make_prune_command(PruneCommand spec);

// Writes raw bytes to a file descriptor (stdout for tar/stream output); throws on error.
void write_fd(int fd, const char* data, size_t size);
inline void write_stdout(const std::string& s) { write_fd(1, s.data(), s.size()); }

// Registers `child` under a management command and, optionally, as a root shortcut
// (`image ls` and `images`). `make` builds a fresh command each time.
template <class Make>
void add_with_shortcut(Command& group, Command& root, Make make, const std::string& shortcut) {
  auto a = make();
  std::string name = a->name;
  group.add(std::move(a));
  if (!shortcut.empty()) {
    auto b = make();
    b->name = shortcut;
    b->aliases.clear();
    root.add(std::move(b));
  }
}

// Prints the Inspect output the way docker does: raw JSON bytes wrapped in [...] and indented
// with four spaces, or a template per object.
void print_inspect(const std::vector<std::string>& raws, const std::string& format);

// Runs `fn` once per name, collecting errors: prints each failure on stderr and, if any
// failed, throws StatusError(""/summary, 1). Returns successful names.
template <class Fn>
std::vector<std::string> for_each_name(const std::vector<std::string>& names, Fn fn,
                                       std::vector<std::string>* failed = nullptr);

}  // namespace berth::cli

#include "cli/commands/common_impl.hpp"
