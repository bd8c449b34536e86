#include "core/layer/tree_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "berth/sdk/fs.hpp"
#include "core/common/unique_fd.hpp"
#include "core/layer/safe_path.hpp"
#include "core/layer/xattrs.hpp"

namespace berth::core::layer {
namespace {

constexpr size_t kChunk = 1 << 17;

}  // namespace

Status TreeArchiver::add(int dirfd, const std::string& name, const std::string& tar_name,
                         bool recurse) {
  struct stat st {};
  if (!lstat_at(dirfd, name, &st)) return path_error("archive", tar_name, errno);
  return add_stat(dirfd, name, tar_name, st, recurse);
}

Status TreeArchiver::add_children(int dirfd, const std::string& prefix) {
  auto names = list_dir(dirfd);
  if (!names) return std::move(names).error().wrap("archive \"" + prefix + "\"");
  for (const auto& child : *names) {
    BERTH_TRY_STATUS(add(dirfd, child, prefix.empty() ? child : prefix + "/" + child, true));
  }
  return {};
}

Status TreeArchiver::add_empty_file(const std::string& tar_name, int64_t mtime) {
  TarHeader h;
  h.name = tar_name;
  h.type = TarHeader::Type::kRegular;
  h.mode = S_IFREG | 0644;
  h.mtime = mtime;
  return tar_.add(h);
}

Status TreeArchiver::add_stat(int dirfd, const std::string& name, const std::string& tar_name,
                              const struct stat& st, bool recurse) {
  auto fail = [&](std::string_view what) { return path_error(what, tar_name, errno); };
  if (S_ISSOCK(st.st_mode)) return {};  // not representable in tar; dockerd skips them too

  TarHeader h;
  h.name = tar_name;
  h.mode = st.st_mode & (S_IFMT | 07777);
  h.uid = ids_.uids.to_container(st.st_uid);
  h.gid = ids_.gids.to_container(st.st_gid);
  h.mtime = st.st_mtim.tv_sec;

  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, tar_name);
    if (!first) {
      h.type = TarHeader::Type::kHardLink;
      h.linkname = it->second;
      return tar_.add(h);
    }
  }

  if (S_ISREG(st.st_mode)) {
    // O_NONBLOCK: if the name was swapped for a fifo since the lstat, open must not hang.
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd) return fail("archive: open");
    struct stat now {};
    if (::fstat(fd.get(), &now) != 0) return fail("archive: stat");
    if (!S_ISREG(now.st_mode) || now.st_ino != st.st_ino) {
      return make_error(ErrorCode::kUnavailable,
                        "archive \"" + tar_name + "\": changed while being archived");
    }
    auto xattrs = read_xattrs_fd(fd.get());
    if (!xattrs) return std::move(xattrs).error().wrap("archive \"" + tar_name + "\"");
    h.xattrs = portable(std::move(*xattrs));
    h.type = TarHeader::Type::kRegular;
    h.size = st.st_size;
    BERTH_TRY_STATUS(tar_.add(h));
    // A file that grows or shrinks while a running container is exported keeps the size its
    // header announced: the archive stays well formed.
    std::string buffer(kChunk, '\0');
    int64_t left = h.size;
    while (left > 0) {
      size_t want = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(kChunk)));
      ssize_t n = ::read(fd.get(), buffer.data(), want);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail("archive: read");
      }
      if (n == 0) {
        std::fill(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(want), '\0');
        n = static_cast<ssize_t>(want);
      }
      BERTH_TRY_STATUS(tar_.write_data(std::string_view(buffer.data(), static_cast<size_t>(n))));
      left -= n;
    }
    return {};
  }

  if (S_ISDIR(st.st_mode)) {
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return fail("archive: open directory");
    auto xattrs = read_xattrs_fd(fd.get());
    if (!xattrs) return std::move(xattrs).error().wrap("archive \"" + tar_name + "\"");
    h.xattrs = portable(std::move(*xattrs));
    h.type = TarHeader::Type::kDirectory;
    h.name += "/";
    BERTH_TRY_STATUS(tar_.add(h));
    if (recurse) return add_children(fd.get(), tar_name);
    return {};
  }

  auto xattrs = read_xattrs_at(dirfd, name);
  if (!xattrs) return std::move(xattrs).error().wrap("archive \"" + tar_name + "\"");
  h.xattrs = portable(std::move(*xattrs));
  if (S_ISLNK(st.st_mode)) {
    auto target = sdk::fs::read_link_at(dirfd, name);
    if (!target) return std::move(target).error().wrap("archive \"" + tar_name + "\"");
    h.type = TarHeader::Type::kSymlink;
    h.linkname = std::move(*target);
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    h.type = S_ISCHR(st.st_mode) ? TarHeader::Type::kChar : TarHeader::Type::kBlock;
    h.devmajor = major(st.st_rdev);
    h.devminor = minor(st.st_rdev);
  } else if (S_ISFIFO(st.st_mode)) {
    h.type = TarHeader::Type::kFifo;
  } else {
    return {};
  }
  return tar_.add(h);
}

Status write_tree(const std::filesystem::path& root, const std::filesystem::path& rel, Writer& out,
                  const TreeOptions& options) {
  auto root_fd = open_root(root);
  if (!root_fd) return std::move(root_fd).error().wrap("archive");
  auto parts = clean_path(rel.string());
  if (!parts) return std::move(parts).error().wrap("archive");
  std::string top;
  if (!options.rename_to.empty()) {
    auto renamed = clean_path(options.rename_to);
    if (!renamed || renamed->empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "archive: invalid name \"" + options.rename_to + "\"");
    }
    top = join_path(*renamed);
  }

  TreeArchiver archiver(out, options.ids);
  if (parts->empty()) {
    if (top.empty()) {
      BERTH_TRY_STATUS(archiver.add_children(root_fd->get(), ""));
    } else {
      BERTH_TRY_STATUS(archiver.add(root_fd->get(), ".", top, true));
    }
    return archiver.finish();
  }
  // RESOLVE_IN_ROOT: a parent symlink such as "/lib -> /usr/lib" means what it means in the
  // container, and can still never lead out of `root`.
  UniqueFd parent(open_dir_fd(root_fd->get(), *parts, parts->size() - 1,
                              RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
  if (!parent) return path_error("archive", rel.string(), errno);
  BERTH_TRY_STATUS(
      archiver.add(parent.get(), parts->back(), top.empty() ? parts->back() : top, true));
  return archiver.finish();
}

}  // namespace berth::core::layer
