// The image builder: a Dockerfile and its context become an image, one step per instruction.
// Filesystem steps (RUN, COPY, ADD, WORKDIR of a missing directory) go through the container
// manager as `docker commit` does: a container made from the current image, run (RUN) or
// written into (COPY/ADD), committed into a layer, removed. Config steps (ENV, CMD, ...) make
// an image with the same layers. Each step's image is remembered in the build cache.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/build/build_cache.hpp"
#include "core/build/build_context.hpp"
#include "core/build/dockerfile_parser.hpp"
#include "core/build/shell_lex.hpp"
#include "core/common/result.hpp"
#include "core/container/container_manager.hpp"
#include "core/image/image_service.hpp"

namespace berth::core::build {

struct BuildOptions {
  std::string dockerfile = "Dockerfile";  // path inside the context
  std::vector<std::string> tags;
  std::string target;
  std::map<std::string, std::optional<std::string>> build_args;  // nullopt: take from nowhere (unset)
  std::map<std::string, std::string> labels;
  bool no_cache = false;
  bool quiet = false;
  bool force_rm = false;
  std::string network_mode;  // RUN's default network ("" = the daemon's default)
  std::string platform;
  std::vector<std::string> cache_from;
};

// Where a build's output goes: `stream` gets the text lines docker shows ({"stream": ...}),
// `aux` the image id at the end; `cancelled` is polled (client gone).
struct BuildSink {
  std::function<void(const std::string& text)> stream;
  std::function<void(const std::string& image_id)> aux;
  std::function<bool()> cancelled;
  // A RUN step's non-zero exit code, before the build fails with it (docker's errorDetail.code).
  std::function<void(int code)> run_failed;
};

// The label on every container a build step makes (removed when the step ends, or at the
// next start of berthd when it died mid-step).
inline constexpr const char* kStepLabel = "org.berth.build.step";

class Builder {
 public:
  Builder(image::ImageService& images, container::ContainerManager& containers, std::string state_dir);

  // Builds from a received context; returns the image id.
  Result<std::string> build(BuildContext& context, const BuildOptions& options, const BuildSink& sink);

  BuildCache& cache() { return cache_; }

  // How FROM gets an image this berthd does not have: pulls `reference` and returns its id,
  // saying what it does through `say`. Unset (no registry transport): FROM of a missing image
  // fails, naming the fix.
  using PullFn = std::function<Result<std::string>(const std::string& reference,
                                                   const std::function<void(const std::string&)>& say)>;
  void set_puller(PullFn pull) { pull_ = std::move(pull); }
  const std::string& state_dir() const { return state_dir_; }

 private:
  struct Run;
  image::ImageService& images_;
  container::ContainerManager& containers_;
  std::string state_dir_;
  BuildCache cache_;
  PullFn pull_;
};

// The 12-hex-digit id docker prints ("sha256:" dropped).
std::string short_id(const std::string& id);

}  // namespace berth::core::build
