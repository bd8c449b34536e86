#include "core/layer/safe_path.hpp"

#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace berth::core::layer {

Result<PathParts> clean_path(std::string_view name) {
  PathParts parts;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "\"" + std::string(name) + "\" escapes the root");
      }
      parts.pop_back();
      continue;
    }
    parts.emplace_back(part);
  }
  return parts;
}

PathParts clamp_clean(std::string_view path, PathParts base) {
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!base.empty()) base.pop_back();
      continue;
    }
    base.emplace_back(part);
  }
  return base;
}

std::string join_path(const PathParts& parts, size_t count) {
  std::string out;
  count = std::min(count, parts.size());
  for (size_t i = 0; i < count; ++i) {
    if (i != 0) out.push_back('/');
    out += parts[i];
  }
  return out;
}

int openat2_fd(int dirfd, const std::string& path, uint64_t flags, uint64_t resolve) {
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve;
  const char* p = path.empty() ? "." : path.c_str();
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, dirfd, p, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename raced a RESOLVE_BENEATH lookup; the kernel asks for a retry.
    if ((errno == EAGAIN && attempt < 64) || errno == EINTR) continue;
    return -1;
  }
}

int open_dir_fd(int root_fd, const PathParts& parts, size_t count, uint64_t resolve, int flags) {
  return openat2_fd(root_fd, join_path(parts, count), static_cast<uint64_t>(flags) | O_DIRECTORY,
                    resolve);
}

Error path_error(std::string_view what, std::string_view path, int err) {
  std::string prefix = std::string(what) + " \"" + std::string(path) + "\"";
  if (err == EXDEV || err == ELOOP) {
    return make_error(ErrorCode::kInvalidArgument, prefix + ": escapes the root");
  }
  return errno_error(prefix, err);
}

Result<UniqueFd> open_root(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno_error("open " + path.string());
  return fd;
}

bool lstat_at(int dirfd, const std::string& name, struct stat* st) {
  return ::fstatat(dirfd, name.c_str(), st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) == 0;
}

Result<std::vector<std::string>> list_dir(int dirfd) {
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("open directory");
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    auto err = errno_error("open directory");
    ::close(fd);
    return err;
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return errno_error("read directory", err);
  std::sort(names.begin(), names.end());
  return names;
}

std::string proc_path(int dirfd, std::string_view name) {
  std::string out = "/proc/self/fd/" + std::to_string(dirfd);
  if (!name.empty()) {
    out.push_back('/');
    out += name;
  }
  return out;
}

}  // namespace berth::core::layer
