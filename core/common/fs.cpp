#include "core/common/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "core/common/unique_fd.hpp"

namespace berth::fs {

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

}  // namespace berth::fs
