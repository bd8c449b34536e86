#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "berth/sdk/fs.hpp"

namespace berth::sdk::fs {

Result<std::string> read_link_at(int dirfd, const std::string& name) {
  std::string target(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
    if (n < 0) return errno_error("readlink \"" + name + "\"");
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);  // maybe truncated: retry with room to spare
  }
}

Result<std::string> read_link(const std::string& path) { return read_link_at(AT_FDCWD, path); }

}  // namespace berth::sdk::fs
