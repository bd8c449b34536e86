// docker load: the docker-save and OCI-layout readers, with every layer streamed into the layer
// store. Any archive is refused cleanly or loaded; either way nothing is left half-made (every
// blob an image config, every snapshot a layer record's).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/common/io.hpp"
#include "core/events/event_bus.hpp"
#include "core/image/image_service.hpp"
#include "core/image/image_store.hpp"
#include "core/store/content_store.hpp"
#include "tests/fuzz/dir_storage.hpp"
#include "tests/fuzz/scratch_dir.hpp"

using namespace berth::core;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path& work = berth::fuzzing::scratch_dir("berth-fuzz-load");
  std::error_code ec;
  std::filesystem::remove_all(work / "root", ec);
  auto content = store::ContentStore::open(work / "root/content");
  auto images = image::ImageStore::open(work / "root/image");
  if (!content || !images) __builtin_trap();
  berth::fuzzing::DirStorage storage(work / "root/snapshots");
  events::EventBus events;
  std::filesystem::create_directories(work / "root/scratch");
  image::ImageService service(*content, **images, storage, events, "fuzzdir", (work / "root/scratch").string());
  service.set_tar_limits(layer::TarLimits{64 << 20, 100, 1 << 20});
  berth::StringReader in(std::string(reinterpret_cast<const char*>(data), size));
  berth::sdk::Context ctx("fuzz-image-load");
  auto loaded = service.load(ctx, in, nullptr);
  (void)loaded;
  // Whatever happened, only records' content remains.
  auto blobs = content->list();
  if (!blobs) __builtin_trap();
  for (const auto& b : *blobs) {
    if (!(*images)->image(b)) __builtin_trap();
  }
  auto snaps = storage.walk(ctx, {});
  for (const auto& s : *snaps) {
    if (!(*images)->layer(s.name)) __builtin_trap();
  }
  return 0;
}
