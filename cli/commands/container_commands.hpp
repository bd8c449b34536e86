// The container commands' factories, one file per verb group (containers.cpp registers them
// and holds what they share), and the parallel runner several of them use.
#pragma once

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "cli/app/command.hpp"
#include "cli/app/errors.hpp"
#include "cli/commands/containers.hpp"

namespace berth::cli {

// Runs fn for each name in parallel (docker does these concurrently), printing successes in
// argument order and collecting failures.
template <class Fn>
std::vector<std::string> parallel_names(const Args& names, Fn fn, std::vector<std::string>* errs) {
  std::vector<std::future<std::string>> futures;
  for (auto& n : names) futures.push_back(std::async(std::launch::async, [&fn, n] {
    try {
      fn(n);
      return std::string();
    } catch (const ConnectError&) {
      throw;
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  }));
  std::vector<std::string> ok;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string err = futures[i].get();
    if (err.empty()) ok.push_back(names[i]);
    else errs->push_back(err);
  }
  return ok;
}

// container_actions.cpp: stop, restart, kill, pause, unpause (POST /containers/{id}/<verb>)
std::unique_ptr<Command> make_simple_action(const std::string& name, const std::string& help,
                                            const std::string& verb);
// container_ls.cpp
std::unique_ptr<Command> make_ps();
std::unique_ptr<Command> make_container_inspect();
std::unique_ptr<Command> make_inspect();
// container_info.cpp
std::unique_ptr<Command> make_top();
std::unique_ptr<Command> make_port();
std::unique_ptr<Command> make_diff();
std::unique_ptr<Command> make_logs();
// container_modify.cpp
std::unique_ptr<Command> make_rename();
std::unique_ptr<Command> make_update();
std::unique_ptr<Command> make_commit();
std::unique_ptr<Command> make_export();
// container_remove.cpp
std::unique_ptr<Command> make_wait();
std::unique_ptr<Command> make_rm();
std::unique_ptr<Command> make_container_prune();
// run.cpp, exec.cpp, stats.cpp, cp.cpp
std::unique_ptr<Command> make_run();
std::unique_ptr<Command> make_create();
std::unique_ptr<Command> make_start();
std::unique_ptr<Command> make_attach();
std::unique_ptr<Command> make_exec();
std::unique_ptr<Command> make_stats();
std::unique_ptr<Command> make_cp();

}  // namespace berth::cli
