// One build's state (internal to the builder): the parsed Dockerfile cut into stages, each
// stage's current image, the build args, the output, and the step functions (builder.cpp runs
// stages and config instructions; builder_steps.cpp runs RUN and COPY/ADD through containers).
#pragma once

#include <boost/json/object.hpp>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/build/builder.hpp"
#include "core/container/archive.hpp"
#include "core/layer/id_shift.hpp"
#include "core/layer/tar_writer.hpp"

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
  BuildContext& context;
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
  // --cache-from (builder_cache_from.cpp): whether an image given there has this step, made by
  // `created_by` on top of st's image; then st becomes it (recorded under `cache_key` too).
  struct CacheSource {
    std::string id;
    boost::json::object doc;
  };
  std::mutex cache_sources_mutex;
  bool cache_sources_loaded = false;
  std::vector<CacheSource> cache_sources;
  void load_cache_sources();
  bool cache_from_hit(StageState& st, const std::string& created_by, const std::string& cache_key);
  // A layer on top of image `parent_image` ("" for none) from the tar `write` produces, streamed
  // into the layer store through a pipe (no spool, no container): builder_layers.cpp.
  Result<image::LayerRecord> write_layer(const std::function<Status(Writer&)>& write, const std::string& parent_image);
  // A new image: st's with `layer` on top, one history entry and `container_config`.
  Result<std::string> commit_layer(StageState& st, const image::LayerRecord& layer, const std::string& created_by,
                                   boost::json::object container_config, const std::string& container_id);
};

// The headers of COPY's destination directory and those above it (builder_layers.cpp).
Result<std::vector<layer::TarHeader>> destination_headers(const std::string& troot, const layer::IdShift& ids,
                                                         const std::string& dest_dir, container::Owner owner);

// "Dockerfile line N: <KEYWORD> <what>" (kInvalidArgument).
Error step_error(const Instruction& inst, const std::string& what);

}  // namespace berth::core::build
