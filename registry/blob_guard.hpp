// Orders garbage collection against pushes, across threads and processes (the admin endpoint
// and `berth-registry gc` alike): a push takes the guard shared while it touches the blobs it
// references and checks they exist; the collector takes it exclusive while it re-checks one
// blob's age and deletes it. Either the push's touch comes first (the blob is young again and
// kept) or the delete does (the push sees the blob missing and fails cleanly). flock(2) on
// <root>/gc.lock, opened per hold: flock locks belong to an open file, so threads of one
// process must not share the descriptor.
#pragma once

#include <filesystem>

#include "core/common/unique_fd.hpp"

namespace berth::registry {

class BlobGuard {
 public:
  explicit BlobGuard(std::filesystem::path root) : lock_path_(std::move(root) / "gc.lock") {}

  class Hold {
   public:
    explicit Hold(UniqueFd fd) : fd_(std::move(fd)) {}
   private:
    UniqueFd fd_;  // closing it releases the lock
  };

  // Blocks until held; a guard that cannot be opened holds nothing (logged by the caller's
  // later failure, never a crash).
  Hold shared() const { return hold(false); }
  Hold exclusive() const { return hold(true); }

 private:
  Hold hold(bool exclusive) const;
  std::filesystem::path lock_path_;
};

}  // namespace berth::registry
