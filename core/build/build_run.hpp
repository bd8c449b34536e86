// One build's state (internal to the builder): the parsed Dockerfile cut into stages, each
// stage's current image, the build args, the output, and the step functions (builder.cpp runs
// stages and config instructions; builder_steps.cpp runs RUN and COPY/ADD through containers).
#pragma once

#include <boost/json/object.hpp>
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/build/builder.hpp"

namespace berth::core::build {

struct Stage {
  std::string name;  // AS name, lower case ("" when unnamed)
  size_t first = 0;  // index of its FROM
  size_t end = 0;    // one past its last instruction
  std::set<size_t> deps;
  bool needed = false;
};

struct StageState {
  std::string image_id;       // the current image; "" before any (FROM scratch)
  boost::json::object image;  // its config document (config, rootfs, history, ...)
  Vars args;                  // ARGs declared in this stage, with their values
  bool built = false;
  bool cmd_set = false;       // CMD given in this stage (ENTRYPOINT then keeps it)
};

struct Builder::Run {
  Builder& builder;
  const BuildOptions& options;
  const BuildSink& sink;
  std::string context;
  std::string scratch_dir;  // per-build temporary files
  Dockerfile dockerfile;
  std::vector<Stage> stages;
  std::vector<StageState> states;
  Vars global_args;
  std::mutex used_args_mutex;  // stages run in parallel
  std::set<std::string> used_args;
  ChecksumCache sums;
  std::atomic<int> step{0};
  int total = 0;
  std::atomic<bool> failed{false};  // a stage failed: the others stop at their next step

  void say(const std::string& text) const;
  bool cancelled() const { return failed.load() || (sink.cancelled && sink.cancelled()); }

  Status plan();
  Result<std::string> execute();
  Status run_stage(size_t index);
  Status dispatch(StageState& st, const Instruction& inst, bool onbuild);
  Status from(StageState& st, const Instruction& inst);
  Status arg(StageState& st, const Instruction& inst);
  Status config_step(StageState& st, const Instruction& inst);
  Status run_step(StageState& st, const Instruction& inst);
  Status copy_step(StageState& st, const Instruction& inst);

  // Variables for expansion: the stage's ARGs, then its ENV over them.
  Vars vars(const StageState& st) const;
  boost::json::object& config(StageState& st);
  // Resolves a stage by name or index, or nullptr.
  StageState* stage_ref(const std::string& name, size_t before);
  // Gives a FROM scratch stage a real (empty) image, so a container can be made from it.
  Status ensure_image(StageState& st);
  // Sets `st` to image `id` (a cache hit or a step's result).
  Status adopt(StageState& st, const std::string& id);
  // A new image whose config is st's with `config` and one history entry without a layer.
  Status commit_config(StageState& st, const std::string& created_by, const std::vector<std::string>& key_parts);
  bool cache_hit(StageState& st, const std::string& key);
};

// "Dockerfile line N: <KEYWORD> <what>" (kInvalidArgument).
Error step_error(const Instruction& inst, const std::string& what);

}  // namespace berth::core::build
