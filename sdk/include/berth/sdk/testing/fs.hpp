// Small filesystem helpers for the SDK's conformance suites and for driver tests: temporary trees
// that clean up after themselves even when a test fails half way (mounts included).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>

#include "berth/sdk/fs.hpp"
#include "berth/sdk/result.hpp"

namespace berth::sdk::testing {

// A directory made with mkdtemp. The destructor unmounts everything mounted below it
// (unmount_all), then removes the tree without following symlinks or crossing into mounts, so a
// failed test leaves neither mounts nor files behind.
class TempDir {
 public:
  // `parent` empty: $TMPDIR, else /tmp.
  static Result<TempDir> create(const std::string& parent = {},
                                std::string_view prefix = "berth-test-");
  TempDir() = default;
  ~TempDir();
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  // path()/name (not created).
  [[nodiscard]] std::string sub(std::string_view name) const;
  // Unmounts and removes now, reporting what went wrong.
  Status remove();

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Status write_file(const std::string& path, std::string_view content, mode_t mode = 0644);
Result<std::string> read_file(const std::string& path);
Status make_dirs(const std::string& path, mode_t mode = 0755);
// lstat: a dangling symlink exists.
bool exists(const std::string& path);
// rm -rf that never crosses a mount point and deletes btrfs subvolumes inside: the SDK's.
using fs::remove_tree;

}  // namespace berth::sdk::testing
