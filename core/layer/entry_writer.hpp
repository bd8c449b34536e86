// Writes tar members into a directory tree: the part the layer applier (image layers) and the
// container archive extractor (docker cp into a container) share. Each decides where a member
// goes and what may be replaced; this writes what the member is: a directory, file, symlink or
// device node with its content, owner, xattrs, mode and times, always relative to a parent
// directory fd that the caller resolved safely.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/io.hpp"
#include "core/common/result.hpp"
#include "core/layer/safe_path.hpp"

struct archive;
struct archive_entry;

namespace berth::core::layer {

class ArchiveSource;

struct EntryTimes {
  struct timespec atime;
  struct timespec mtime;
};

// What a member asks for, independent of libarchive.
struct TarMember {
  std::string name;  // as in the tar, for messages
  PathParts path;    // where it goes, relative to the tree's root (set by the caller)
  mode_t type = 0;   // AE_IF* (same values as S_IF*)
  mode_t perm = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;
  dev_t rdev = 0;
  std::string linkname;  // a hard link's or a symlink's target
  bool hardlink = false;
  EntryTimes times{};
};

struct EntryOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

class EntryWriter {
 public:
  // The error for a failed step ("chown", "write", ...) of a member, with errno `err`.
  using StepError = std::function<Error(const TarMember& m, std::string_view step, int err)>;
  // The owner to give a member, or nullopt to leave what creating it gave.
  using OwnerOf = std::function<std::optional<EntryOwner>(const TarMember& m)>;

  // `op` prefixes messages ("apply layer"), `log_component` names the logger for warnings.
  EntryWriter(std::string op, std::string log_component, StepError step_error, OwnerOf owner_of)
      : op_(std::move(op)),
        log_component_(std::move(log_component)),
        step_error_(std::move(step_error)),
        owner_of_(std::move(owner_of)) {}

  // The stream the archive is read from, for telling its errors from a bad archive.
  void set_source(ArchiveSource* source) { source_ = source; }

  // Fills every field of `m` but `path` from the header. kInvalidArgument for a member without a
  // usable name or a symlink without a target.
  Result<TarMember> read_member(archive_entry* e) const;

  // Creates `m.path.back()` in `parent`, where nothing is left in its way (a directory may be
  // there: the entry merges into it). A regular file's data is read from `a`; `*last` is set when
  // the archive ended right after it. Sockets and unknown types are skipped.
  Status write(archive* a, archive_entry* e, const TarMember& m, int parent, bool* last);
  // Owner, xattrs and mode of an existing directory (the tree's own root entry).
  Status set_dir_metadata(archive_entry* e, const TarMember& m, int fd);
  // Sets the times of every directory written, last (writing their contents changed them).
  // `resolve` as for open_dir_fd; `shown_prefix` goes before paths in messages ("" or "/").
  Status restore_dir_times(int root_fd, uint64_t resolve, std::string_view shown_prefix);

  // A libarchive failure, or the failure of the stream under it.
  [[nodiscard]] Error read_error(archive* a, std::string_view what) const;

  // Reads the tar in `in` (uncompressed: a TarStream's output) with libarchive and calls
  // `member` for each member's header, until the end or a member that sets `*last`.
  using MemberFn = std::function<Status(archive* a, archive_entry* e, bool* last)>;
  Status read_members(Reader& in, const MemberFn& member);
  // A regular member's data, block by block at its offset in the file (a sparse member's holes
  // are skipped); the end reached. `*last` is set when the archive ended right after the data.
  using BlockFn = std::function<Status(std::string_view data, int64_t offset)>;
  Result<int64_t> read_content(archive* a, const TarMember& m, const BlockFn& block, bool* last);

 private:
  Status write_content(archive* a, const TarMember& m, int fd, bool* last);
  Status set_owner(const TarMember& m, int fd, int parent);
  // After chown (which clears security.capability) and before chmod.
  Status set_xattrs(archive_entry* e, const TarMember& m, int fd, int parent);

  std::string op_;
  std::string log_component_;
  StepError step_error_;
  OwnerOf owner_of_;
  ArchiveSource* source_ = nullptr;
  std::vector<std::pair<PathParts, EntryTimes>> dir_times_;
};

}  // namespace berth::core::layer
