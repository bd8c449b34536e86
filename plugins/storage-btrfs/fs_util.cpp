#include "fs_util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <utility>

namespace berth::plugins::btrfs {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

sdk::Status fsync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return sdk::errno_error("open " + dir);
  if (::fsync(fd.get()) != 0) return sdk::errno_error("fsync " + dir);
  return {};
}

// Names for the magics statfs reports, for when mountinfo cannot tell (Docker's names aside, the
// kernel's: this text goes into a message that tells the user what their data-root is on).
std::string name_of_magic(int64_t magic) {
  static const std::pair<int64_t, const char*> kNames[] = {
      {0xEF53, "ext4"},        {0x58465342, "xfs"},     {0x9123683E, "btrfs"},
      {0x01021994, "tmpfs"},   {0x794c7630, "overlay"}, {0x2FC12FC1, "zfs"},
      {0xF2F52010, "f2fs"},    {0x6969, "nfs"},         {0x65735546, "fuse"},
      {0xFF534D42, "cifs"},    {0x858458F6, "ramfs"},   {0x73717368, "squashfs"},
      {0xCA451A4E, "bcachefs"}};
  for (const auto& [m, name] : kNames) {
    if (m == magic) return name;
  }
  std::ostringstream unknown;
  unknown << "an unknown filesystem (magic 0x" << std::hex << magic << ")";
  return unknown.str();
}

// mountinfo's filesystem type of the mount whose device is `dev` and whose mount point is the
// longest prefix of `path` (a device can be mounted in several places).
std::string mountinfo_type(const std::string& path, dev_t dev) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, best_type;
  size_t best_len = 0;
  const std::string want = std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    fields >> id >> parent >> devno >> root >> mount_point;
    if (devno != want) continue;
    size_t sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream rest(line.substr(sep + 3));
    std::string type;
    rest >> type;
    const bool prefix =
        path == mount_point || mount_point == "/" || path.rfind(mount_point + "/", 0) == 0;
    if (prefix && mount_point.size() >= best_len) {
      best_len = mount_point.size();
      best_type = type;
    }
  }
  return best_type;
}

}  // namespace

sdk::Status write_file_atomic(const std::string& dir, const std::string& name,
                              std::string_view data) {
  const std::string final_path = dir + "/" + name;
  const std::string tmp_path = final_path + ".tmp";
  {
    Fd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) return sdk::errno_error("create " + tmp_path);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::unlink(tmp_path.c_str());
        return sdk::errno_error("write " + tmp_path, err);
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      int err = errno;
      ::unlink(tmp_path.c_str());
      return sdk::errno_error("fsync " + tmp_path, err);
    }
    if (::close(fd.release()) != 0) {
      int err = errno;
      ::unlink(tmp_path.c_str());
      return sdk::errno_error("close " + tmp_path, err);
    }
  }
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_path.c_str());
    return sdk::errno_error("rename " + tmp_path, err);
  }
  return fsync_dir(dir);
}

sdk::Status remove_file_durable(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sdk::errno_error("remove " + path);
  return fsync_dir(dir);
}

sdk::Result<std::string> read_whole_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return sdk::errno_error("open " + path);
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sdk::errno_error("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

sdk::Status ensure_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0) return {};
  int err = errno;
  struct stat st {};
  if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
  return sdk::errno_error("create directory " + path, err);
}

sdk::Result<std::vector<std::string>> list_dir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return sdk::errno_error("open " + path);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  return names;
}

bool is_decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

sdk::Result<FsFacts> filesystem_of(const std::string& path) {
  FsFacts facts;
  std::string p = path;
  for (;;) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      struct statfs sfs {};
      if (::statfs(p.c_str(), &sfs) != 0) return sdk::errno_error("statfs " + p);
      facts.checked = p;
      facts.magic = static_cast<int64_t>(static_cast<uint32_t>(sfs.f_type));
      facts.type = mountinfo_type(p, st.st_dev);
      if (facts.type.empty()) facts.type = name_of_magic(facts.magic);
      return facts;
    }
    if (errno != ENOENT) return sdk::errno_error("stat " + p);
    size_t slash = p.find_last_of('/');
    if (slash == std::string::npos || p == "/") return sdk::errno_error("stat " + path, ENOENT);
    p = slash == 0 ? "/" : p.substr(0, slash);
  }
}

}  // namespace berth::plugins::btrfs
