// The layer pipeline: decompression, the tar framer and its limits, the applier (escapes refused)
// and the tar split. Any input is refused cleanly or applied beneath the root; when it applies,
// the split must rebuild exactly the bytes that came in (or say it cannot: never other bytes).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/common/io.hpp"
#include "core/layer/applier.hpp"
#include "core/layer/compression.hpp"
#include "core/layer/safe_path.hpp"
#include "core/layer/tar_split.hpp"
#include "tests/fuzz/scratch_dir.hpp"

using namespace berth::core::layer;

namespace {

const std::filesystem::path& work() { return berth::fuzzing::scratch_dir("berth-fuzz-layer"); }

std::string plain_of(const std::string& input) {
  berth::StringReader in(input);
  DecompressReader d(in);
  std::string out;
  char buf[65536];
  for (;;) {
    auto n = d.read(buf, sizeof buf);
    if (!n || *n == 0) break;
    out.append(buf, *n);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  auto root = work() / "root";
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  std::filesystem::remove(work() / "captures", ec);
  std::filesystem::create_directories(root);
  berth::StringWriter split;
  SplitRecorder recorder(split, work() / "captures");
  berth::StringReader in(input);
  ApplyOptions options;
  options.preserve_owner = false;
  options.recorder = &recorder;
  options.limits = TarLimits{64 << 20, 100, 1 << 20};
  auto applied = apply_tar(root, in, options);
  if (!applied || !recorder.finish()) return 0;
  auto root_fd = open_root(root);
  if (!root_fd) __builtin_trap();
  berth::StringReader split_in(split.take());
  std::optional<std::filesystem::path> captures;
  if (std::filesystem::exists(work() / "captures")) captures = work() / "captures";
  SplitReplay replay(split_in, root_fd->get(), captures, applied->diff_id);
  std::string rebuilt;
  char buf[65536];
  for (;;) {
    auto n = replay.read(buf, sizeof buf);
    if (!n) return 0;  // it may refuse (a file the layer changed in ways a split cannot see)
    if (*n == 0) break;
    rebuilt.append(buf, *n);
  }
  if (rebuilt != plain_of(input)) __builtin_trap();
  return 0;
}
