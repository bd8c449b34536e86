// The build cache: which image a step made, by a key of what the step depended on (the parent
// image, the instruction with its arguments expanded, the build args in effect and the content
// checksums of what it reads). An entry whose image is gone is a miss. Kept in one JSON file
// under the data-root, rewritten atomically on every new entry.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::build {

class BuildCache {
 public:
  explicit BuildCache(std::string path);

  std::optional<std::string> lookup(const std::string& key) const;
  void record(const std::string& key, const std::string& image_id, int64_t size);

  struct Entry {
    std::string key;
    std::string image_id;
    int64_t created = 0;  // unix seconds
    int64_t size = 0;     // bytes of the layer the step made
  };
  std::vector<Entry> entries() const;
  // Drops entries (all, or those created before `until` when set); returns what was dropped.
  std::vector<Entry> prune(std::optional<int64_t> until);

  // sha256 of the parts joined with NUL separators.
  static std::string key_of(const std::vector<std::string>& parts);

 private:
  void load();
  void save_locked() const;

  std::string path_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace berth::core::build
