#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/app/context.hpp"
#include "cli/app/flags.hpp"

namespace berth::cli {

using Args = std::vector<std::string>;

// One node of the command tree (cobra-like): a leaf runs, a group dispatches to its children.
class Command {
 public:
  Command(std::string name, std::string usage_args, std::string short_help);

  std::string name;
  std::string usage_args;  // e.g. "[OPTIONS] [REPOSITORY[:TAG]]"
  std::string short_help;
  std::vector<std::string> aliases;       // other names under the same parent ("list" for "ls")
  std::vector<std::string> alias_paths;   // for help: "berth image ls, berth images"
  FlagSet flags;
  bool interspersed = true;  // false: flags end at the first argument (run IMAGE CMD...)
  int min_args = 0;
  int max_args = -1;  // -1: unlimited
  std::function<int(Context&, const Args&)> run;

  Command& add(std::unique_ptr<Command> child);
  Command* find_child(const std::string& name_or_alias);
  Command* parent() const { return parent_; }
  const std::vector<std::unique_ptr<Command>>& children() const { return children_; }

  std::string path() const;      // "berth image ls"
  std::string use_line() const;  // "berth image ls [OPTIONS]"
  std::string help() const;

  // Argument-count rules with docker's messages.
  void exact_args(int n) { min_args = max_args = n; }
  void check_args(const Args& args) const;

 private:
  Command* parent_ = nullptr;
  std::vector<std::unique_ptr<Command>> children_;
};

// Shorthand used by the command files.
std::unique_ptr<Command> make_command(std::string name, std::string usage_args,
                                      std::string short_help);

// Runs the whole CLI for argv (without argv[0]); returns the exit code.
int run_cli(const std::vector<std::string>& argv);

}  // namespace berth::cli
