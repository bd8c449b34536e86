#include "btrfs_ops.hpp"

#include <btrfsutil.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "berth/sdk/unique_fd.hpp"

#ifndef BTRFS_QGROUP_STATUS_FLAG_SIMPLE_MODE
#define BTRFS_QGROUP_STATUS_FLAG_SIMPLE_MODE (1ULL << 3)
#endif

namespace berth::plugins::btrfs {
namespace {

using Fd = sdk::UniqueFd;

sdk::Result<int> open_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sdk::errno_error("open " + path);
  return fd;
}

// A libbtrfsutil failure: errno's reason when the library left one (it fails on a syscall in
// most cases), else the library's own text; the code follows errno, or the library's error.
sdk::Error util_error(std::string_view what, btrfs_util_error err, int saved_errno) {
  switch (err) {
    case BTRFS_UTIL_ERROR_NOT_BTRFS:
      return sdk::make_error(sdk::ErrorCode::kUnsupported,
                             std::string(what) + ": not on a btrfs filesystem");
    case BTRFS_UTIL_ERROR_NOT_SUBVOLUME:
      return sdk::make_error(sdk::ErrorCode::kFailedPrecondition,
                             std::string(what) + ": not a btrfs subvolume");
    case BTRFS_UTIL_ERROR_SUBVOLUME_NOT_FOUND:
      return sdk::make_error(sdk::ErrorCode::kNotFound,
                             std::string(what) + ": subvolume not found");
    default: break;
  }
  if (saved_errno != 0) return sdk::errno_error(what, saved_errno);
  std::string text = btrfs_util_strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return sdk::make_error(sdk::ErrorCode::kInternal, std::string(what) + ": " + text);
}

// Runs one libbtrfsutil call with errno cleared, so a stale errno is never reported.
template <class F>
sdk::Status call(std::string_view what, F&& f) {
  errno = 0;
  btrfs_util_error err = f();
  int saved = errno;
  if (err == BTRFS_UTIL_OK) return {};
  return util_error(what, err, saved);
}

// The tree-search ioctl (v2, with a buffer large enough for many items per call) over the keys
// from `min` to `max` of tree `tree_id`, in key order; `visit` sees each item's header and data.
// ENOENT from the kernel (no such tree) is returned as kNotFound.
struct Key {
  uint64_t objectid = 0;
  uint32_t type = 0;
  uint64_t offset = 0;
};
using Visit = std::function<void(const btrfs_ioctl_search_header&, const unsigned char*)>;

sdk::Status tree_search(int fd, uint64_t tree_id, Key min, Key max, uint64_t min_transid,
                        const Visit& visit, const std::function<bool()>& cancelled = {}) {
  constexpr size_t kBufSize = 64 * 1024;
  std::vector<uint64_t> storage((sizeof(btrfs_ioctl_search_args_v2) + kBufSize) / 8 + 1);
  auto* args = reinterpret_cast<btrfs_ioctl_search_args_v2*>(storage.data());
  for (;;) {
    if (cancelled && cancelled()) {
      return sdk::make_error(sdk::ErrorCode::kCancelled, "tree search cancelled");
    }
    std::memset(args, 0, sizeof(*args));
    auto& k = args->key;
    k.tree_id = tree_id;
    k.min_objectid = min.objectid;
    k.min_type = min.type;
    k.min_offset = min.offset;
    k.max_objectid = max.objectid;
    k.max_type = max.type;
    k.max_offset = max.offset;
    k.min_transid = min_transid;
    k.max_transid = UINT64_MAX;
    k.nr_items = UINT32_MAX;
    args->buf_size = kBufSize;
    if (::ioctl(fd, BTRFS_IOC_TREE_SEARCH_V2, args) != 0) {
      int err = errno;
      if (err == ENOENT) {
        return sdk::make_error(sdk::ErrorCode::kNotFound,
                               "btrfs tree " + std::to_string(tree_id) + " does not exist");
      }
      return sdk::errno_error("btrfs tree search of tree " + std::to_string(tree_id), err);
    }
    if (k.nr_items == 0) return {};
    size_t off = 0;
    btrfs_ioctl_search_header h{};
    for (uint32_t i = 0; i < k.nr_items; ++i) {
      std::memcpy(&h, args->buf + off, sizeof h);
      visit(h, args->buf + off + sizeof h);
      off += sizeof h + h.len;
    }
    // The search space is the linear order of (objectid, type, offset): go on after the last key.
    if (h.offset < UINT64_MAX) {
      min = {h.objectid, h.type, h.offset + 1};
    } else if (h.type < 255) {
      min = {h.objectid, h.type + 1, 0};
    } else if (h.objectid < UINT64_MAX) {
      min = {h.objectid + 1, 0, 0};
    } else {
      return {};
    }
    if (min.objectid > max.objectid ||
        (min.objectid == max.objectid &&
         (min.type > max.type || (min.type == max.type && min.offset > max.offset)))) {
      return {};
    }
  }
}

template <class T>
T read_item(const unsigned char* data, uint32_t len) {
  T item{};
  std::memcpy(&item, data, std::min<size_t>(len, sizeof(T)));
  return item;
}

}  // namespace

sdk::Status create_subvolume(const std::string& path) {
  return call("create subvolume " + path,
              [&] { return btrfs_util_create_subvolume(path.c_str(), 0, nullptr, nullptr); });
}

sdk::Status create_snapshot(const std::string& source, const std::string& path, bool read_only) {
  const int flags = read_only ? BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY : 0;
  return call("snapshot " + source + " to " + path, [&] {
    return btrfs_util_create_snapshot(source.c_str(), path.c_str(), flags, nullptr, nullptr);
  });
}

sdk::Status delete_subvolume(const std::string& path) {
  // Recursive: a container may have made subvolumes of its own inside its root.
  return call("delete subvolume " + path, [&] {
    return btrfs_util_delete_subvolume(path.c_str(), BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE);
  });
}

sdk::Result<bool> is_subvolume(const std::string& path) {
  errno = 0;
  btrfs_util_error err = btrfs_util_is_subvolume(path.c_str());
  int saved = errno;
  if (err == BTRFS_UTIL_OK) return true;
  if (err == BTRFS_UTIL_ERROR_NOT_SUBVOLUME) return false;
  return util_error("check subvolume " + path, err, saved);
}

sdk::Result<bool> is_read_only(const std::string& path) {
  bool ro = false;
  BERTH_TRY_STATUS(call("read the flags of subvolume " + path,
                        [&] { return btrfs_util_get_subvolume_read_only(path.c_str(), &ro); }));
  return ro;
}

sdk::Status set_read_only(const std::string& path, bool read_only) {
  return call(std::string(read_only ? "make subvolume " : "make writable subvolume ") + path +
                  (read_only ? " read-only" : ""),
              [&] { return btrfs_util_set_subvolume_read_only(path.c_str(), read_only); });
}

sdk::Result<SubvolumeInfo> subvolume_info(const std::string& path) {
  struct btrfs_util_subvolume_info info {};
  BERTH_TRY_STATUS(call("subvolume info of " + path,
                        [&] { return btrfs_util_subvolume_info(path.c_str(), 0, &info); }));
  return SubvolumeInfo{info.id, info.otransid};
}

sdk::Status sync_filesystem(const std::string& path) {
  return call("sync the filesystem of " + path, [&] { return btrfs_util_sync(path.c_str()); });
}

std::string QuotaStatus::describe() const {
  if (!enabled) return "disabled";
  std::string s = simple ? "enabled (simple quotas)" : "enabled";
  if (inconsistent) s += ", inconsistent until rescanned";
  if (rescanning) s += ", rescanning";
  return s;
}

sdk::Result<QuotaStatus> quota_status(const std::string& path) {
  auto fd = open_dir(path);
  if (!fd) return std::move(fd).error();
  Fd guard(*fd);
  QuotaStatus status;
  bool found = false;
  auto s = tree_search(guard.get(), BTRFS_QUOTA_TREE_OBJECTID, {0, BTRFS_QGROUP_STATUS_KEY, 0},
                       {0, BTRFS_QGROUP_STATUS_KEY, UINT64_MAX}, 0,
                       [&](const btrfs_ioctl_search_header& h, const unsigned char* data) {
                         if (h.type != BTRFS_QGROUP_STATUS_KEY) return;
                         auto item = read_item<btrfs_qgroup_status_item>(data, h.len);
                         const uint64_t flags = le64toh(item.flags);
                         found = true;
                         status.enabled = (flags & BTRFS_QGROUP_STATUS_FLAG_ON) != 0;
                         status.rescanning = (flags & BTRFS_QGROUP_STATUS_FLAG_RESCAN) != 0;
                         status.inconsistent = (flags & BTRFS_QGROUP_STATUS_FLAG_INCONSISTENT) != 0;
                         status.simple = (flags & BTRFS_QGROUP_STATUS_FLAG_SIMPLE_MODE) != 0;
                       });
  if (!s) {
    // Quotas were never enabled (or were disabled): the quota tree does not exist.
    if (s.error().code == sdk::ErrorCode::kNotFound) return QuotaStatus{};
    return std::move(s).error().wrap("quota status of " + path);
  }
  if (!found) return QuotaStatus{};
  return status;
}

sdk::Status enable_quota(const std::string& path) {
  auto status = quota_status(path);
  if (!status) return std::move(status).error();
  if (status->enabled) return {};
  auto fd = open_dir(path);
  if (!fd) return std::move(fd).error();
  Fd guard(*fd);
  btrfs_ioctl_quota_ctl_args args{};
  args.cmd = BTRFS_QUOTA_CTL_ENABLE;
  if (::ioctl(guard.get(), BTRFS_IOC_QUOTA_CTL, &args) != 0) {
    return sdk::errno_error("enable quotas on the btrfs filesystem of " + path);
  }
  return {};
}

sdk::Status limit_subvolume(const std::string& path, uint64_t max_referenced_bytes) {
  auto fd = open_dir(path);
  if (!fd) return std::move(fd).error();
  Fd guard(*fd);
  btrfs_ioctl_qgroup_limit_args args{};
  args.qgroupid = 0;  // 0: the qgroup of the subvolume the fd is in
  args.lim.flags = BTRFS_QGROUP_LIMIT_MAX_RFER;
  args.lim.max_rfer = max_referenced_bytes;
  if (::ioctl(guard.get(), BTRFS_IOC_QGROUP_LIMIT, &args) != 0) {
    return sdk::errno_error("set the size limit of subvolume " + path);
  }
  return {};
}

sdk::Result<int64_t> qgroup_exclusive(const std::string& path, uint64_t subvolume_id) {
  auto fd = open_dir(path);
  if (!fd) return std::move(fd).error();
  Fd guard(*fd);
  std::optional<int64_t> excl;
  auto s =
      tree_search(guard.get(), BTRFS_QUOTA_TREE_OBJECTID, {0, BTRFS_QGROUP_INFO_KEY, subvolume_id},
                  {0, BTRFS_QGROUP_INFO_KEY, subvolume_id}, 0,
                  [&](const btrfs_ioctl_search_header& h, const unsigned char* data) {
                    if (h.type != BTRFS_QGROUP_INFO_KEY || h.offset != subvolume_id) return;
                    auto item = read_item<btrfs_qgroup_info_item>(data, h.len);
                    excl = static_cast<int64_t>(le64toh(item.excl));
                  });
  if (!s) return std::move(s).error().wrap("qgroup of " + path);
  if (!excl) {
    return sdk::make_error(sdk::ErrorCode::kNotFound, "qgroup 0/" + std::to_string(subvolume_id) +
                                                          " of " + path + " does not exist");
  }
  return *excl;
}

sdk::Result<TreeUsage> tree_usage(const std::string& subvolume_path, uint64_t after,
                                  const std::function<bool()>& cancelled) {
  auto info = subvolume_info(subvolume_path);
  if (!info) return std::move(info).error();
  auto fd = open_dir(subvolume_path);
  if (!fd) return std::move(fd).error();
  Fd guard(*fd);
  TreeUsage usage;
  constexpr size_t kInlineHeader = offsetof(btrfs_file_extent_item, disk_bytenr);
  auto s = tree_search(
      guard.get(), info->id, {BTRFS_FIRST_FREE_OBJECTID, 0, 0},
      {BTRFS_LAST_FREE_OBJECTID, 255, UINT64_MAX}, after == 0 ? 0 : after + 1,
      [&](const btrfs_ioctl_search_header& h, const unsigned char* data) {
        if (h.type == BTRFS_INODE_ITEM_KEY) {
          auto item = read_item<btrfs_inode_item>(data, h.len);
          if (le64toh(item.transid) > after) usage.inodes += 1;
        } else if (h.type == BTRFS_EXTENT_DATA_KEY && h.len >= kInlineHeader) {
          auto item = read_item<btrfs_file_extent_item>(data, h.len);
          if (le64toh(item.generation) <= after) return;
          if (item.type == BTRFS_FILE_EXTENT_INLINE) {
            usage.bytes += static_cast<int64_t>(h.len - kInlineHeader);
          } else if (le64toh(item.disk_bytenr) != 0) {  // 0: a hole
            usage.bytes += static_cast<int64_t>(item.compression != 0 ? le64toh(item.disk_num_bytes)
                                                                      : le64toh(item.num_bytes));
          }
        }
      },
      cancelled);
  if (!s) return std::move(s).error().wrap("measure subvolume " + subvolume_path);
  return usage;
}

}  // namespace berth::plugins::btrfs
