#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "berth/sdk/fs.hpp"
#include "berth/sdk/unique_fd.hpp"

namespace berth::sdk::fs {
namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Unlinks the temp file and returns the error of `step`, with the errno of that step.
Error fail(const std::string& tmp, const std::string& step, int err) {
  ::unlink(tmp.c_str());
  return errno_error(step, err);
}

}  // namespace

bool is_atomic_write_leftover(std::string_view name) {
  const auto tag = name.rfind(".tmp-");
  return name.size() > 1 && name[0] == '.' && tag != std::string_view::npos &&
         name.size() - tag == 5 + 6;  // ".tmp-" and mkostemp's six characters
}

Status fsync_dir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno_error("open directory " + path);
  if (::fsync(fd.get()) != 0) return errno_error("fsync directory " + path);
  return {};
}

Status atomic_write(const std::string& path, std::string_view data, mode_t mode,
                    Durability durability) {
  const std::string dir = parent_of(path);
  const auto slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  // A unique name, so two writers of the same file never share (and tear) one temp file.
  std::string tmp = (dir == "/" ? "" : dir) + "/." + base + ".tmp-XXXXXX";
  if (slash == std::string::npos) tmp = "." + base + ".tmp-XXXXXX";
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) return errno_error("create a temp file beside " + path);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(tmp, "write " + tmp, errno);
    }
    done += static_cast<size_t>(n);
  }
  const bool durable = durability == Durability::kDurable;
  if (::fchmod(fd.get(), mode) != 0) return fail(tmp, "chmod " + tmp, errno);
  if (durable && ::fsync(fd.get()) != 0) return fail(tmp, "fsync " + tmp, errno);
  if (::close(fd.release()) != 0) return fail(tmp, "close " + tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(tmp, "rename " + tmp + " to " + path, errno);
  }
  if (!durable) return {};
  return fsync_dir(dir);
}

}  // namespace berth::sdk::fs
