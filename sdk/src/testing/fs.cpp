// Filesystem helpers of the SDK test suites (see testing/fs.hpp).
#include "berth/sdk/testing/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include "berth/sdk/mount.hpp"

namespace berth::sdk::testing {
namespace {

Error sys_error(std::string_view what, int err) {
  Error e = errno_error(what, err);
  size_t pos = what.size() + 2;
  if (pos < e.message.size()) {
    e.message[pos] = static_cast<char>(std::tolower(static_cast<unsigned char>(e.message[pos])));
  }
  return e;
}

}  // namespace

Result<TempDir> TempDir::create(const std::string& parent, std::string_view prefix) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  }
  std::string templ = base + "/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return sys_error("create a directory in " + base, errno);
  char resolved[PATH_MAX];
  if (::realpath(templ.c_str(), resolved) == nullptr) {
    int err = errno;
    ::rmdir(templ.c_str());
    return sys_error("resolve " + templ, err);
  }
  return TempDir(resolved);
}

TempDir::~TempDir() { (void)remove(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    (void)remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

std::string TempDir::sub(std::string_view name) const { return path_ + "/" + std::string(name); }

Status TempDir::remove() {
  if (path_.empty()) return {};
  BERTH_TRY_STATUS(unmount_all(path_));
  BERTH_TRY_STATUS(remove_tree(path_));
  path_.clear();
  return {};
}

Status write_file(const std::string& path, std::string_view content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return sys_error("open " + path, errno);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return sys_error("write " + path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return sys_error("close " + path, errno);
  return {};
}

Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + path, errno);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return sys_error("read " + path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status make_dirs(const std::string& path, mode_t mode) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      return sys_error("create " + partial, errno);
    }
  }
  return {};
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace berth::sdk::testing
