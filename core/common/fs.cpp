#include "core/common/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "core/common/ids.hpp"
#include "core/common/unique_fd.hpp"

namespace berth::fs {

std::filesystem::path temp_sibling(const std::filesystem::path& path) {
  auto name = "." + path.filename().string() + ".tmp-" + random_hex(6);
  return path.parent_path() / name;
}

Status fsync_dir(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno_error("open directory " + path.string());
  if (::fsync(fd.get()) != 0) return errno_error("fsync directory " + path.string());
  return {};
}

Status atomic_write(const std::filesystem::path& path, std::string_view data, mode_t mode,
                    Durability durability) {
  auto tmp = temp_sibling(path);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) return errno_error("create " + tmp.string());
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = errno_error("write " + tmp.string());
      ::unlink(tmp.c_str());
      return err;
    }
    done += static_cast<size_t>(n);
  }
  const bool durable = durability == Durability::kDurable;
  if (::fchmod(fd.get(), mode) != 0 || (durable && ::fsync(fd.get()) != 0)) {
    auto err = errno_error("sync " + tmp.string());
    ::unlink(tmp.c_str());
    return err;
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = errno_error("rename " + tmp.string() + " to " + path.string());
    ::unlink(tmp.c_str());
    return err;
  }
  if (!durable) return {};
  return fsync_dir(path.parent_path().empty() ? "." : path.parent_path());
}

Status write_if_changed(const std::filesystem::path& path, std::string_view data, mode_t mode,
                        Durability durability) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == mode &&
      static_cast<size_t>(st.st_size) == data.size()) {
    if (auto current = read_file(path); current && *current == data) return {};
  }
  return atomic_write(path, data, mode, durability);
}

Result<std::string> read_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error("open " + path.string());
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("read " + path.string());
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status ensure_dir(const std::filesystem::path& path, mode_t mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return {};
  std::filesystem::path partial;
  for (const auto& part : path) {
    partial /= part;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      return errno_error("create directory " + partial.string());
    }
  }
  if (!std::filesystem::is_directory(path, ec)) {
    return make_error(ErrorCode::kFailedPrecondition, path.string() + " exists and is not a directory");
  }
  return {};
}

namespace {

// rm -rf below dirfd/name that never follows a symlink and stops at mount points: a container
// rootfs or volume still mounted inside must make the removal fail, not be emptied.
Status remove_at(int dirfd, const std::string& name, dev_t device, const std::string& shown) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return errno_error("stat " + shown);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) return errno_error("remove " + shown);
    return {};
  }
  if (st.st_dev != device) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "refusing to remove " + shown + ": it is a mount point; unmount it first");
  }
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return errno_error("open " + shown);
  DIR* dir = ::fdopendir(::dup(fd.get()));
  if (dir == nullptr) return errno_error("list " + shown);
  std::vector<std::string> names;
  while (auto* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(dir);
  for (const auto& n : names) BERTH_TRY_STATUS(remove_at(fd.get(), n, device, shown + "/" + n));
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return errno_error("remove " + shown);
  }
  return {};
}

}  // namespace

Status remove_all(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return errno_error("stat " + path.string());
  }
  auto parent = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  UniqueFd dirfd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return errno_error("open " + parent.string());
  return remove_at(dirfd.get(), path.filename().string(), st.st_dev, path.string());
}

}  // namespace berth::fs
