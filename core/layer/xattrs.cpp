#include "core/layer/xattrs.hpp"

#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>

#include "core/layer/safe_path.hpp"

namespace berth::core::layer {
namespace {

// Runs a get/list call that needs a buffer large enough, growing it when the value grew between
// the size query and the read.
template <class Call>
Result<std::string> sized_call(const char* what, int& err, Call call) {
  err = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    ssize_t size = call(nullptr, 0);
    if (size < 0) {
      err = errno;
      return errno_error(what, err);
    }
    std::string buffer(static_cast<size_t>(size), '\0');
    if (size == 0) return buffer;
    ssize_t got = call(buffer.data(), buffer.size());
    if (got >= 0) {
      buffer.resize(static_cast<size_t>(got));
      return buffer;
    }
    if (errno != ERANGE) {
      err = errno;
      return errno_error(what, err);
    }
  }
  return make_error(ErrorCode::kUnavailable, std::string(what) + ": value keeps changing");
}

bool unsupported(int err) { return err == ENOTSUP || err == EOPNOTSUPP; }

template <class List, class Get>
Result<Xattrs> read_all(List list, Get get) {
  int err = 0;
  auto names = sized_call("list xattrs", err, list);
  if (!names) {
    if (unsupported(err)) return Xattrs{};
    return std::move(names).error();
  }
  Xattrs out;
  size_t pos = 0;
  while (pos < names->size()) {
    std::string key(names->c_str() + pos);
    pos += key.size() + 1;
    if (key.empty()) continue;
    auto value = sized_call("read xattr", err,
                            [&](char* buf, size_t len) { return get(key.c_str(), buf, len); });
    if (!value) {
      if (err == ENODATA) continue;  // removed since the listing
      return std::move(value).error().wrap(key);
    }
    out.emplace_back(std::move(key), std::move(*value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<Xattrs> read_xattrs_fd(int fd) {
  return read_all(
      [fd](char* buf, size_t len) { return ::flistxattr(fd, buf, len); },
      [fd](const char* key, char* buf, size_t len) { return ::fgetxattr(fd, key, buf, len); });
}

Result<Xattrs> read_xattrs_at(int dirfd, std::string_view name) {
  std::string path = proc_path(dirfd, name);
  return read_all([&](char* buf, size_t len) { return ::llistxattr(path.c_str(), buf, len); },
                  [&](const char* key, char* buf, size_t len) {
                    return ::lgetxattr(path.c_str(), key, buf, len);
                  });
}

Status set_xattr_fd(int fd, const std::string& key, const std::string& value) {
  if (::fsetxattr(fd, key.c_str(), value.data(), value.size(), 0) != 0) {
    return errno_error("set xattr " + key);
  }
  return {};
}

Status set_xattr_at(int dirfd, std::string_view name, const std::string& key,
                    const std::string& value) {
  std::string path = proc_path(dirfd, name);
  if (::lsetxattr(path.c_str(), key.c_str(), value.data(), value.size(), 0) != 0) {
    return errno_error("set xattr " + key);
  }
  return {};
}

bool is_portable_xattr(std::string_view key) {
  auto starts = [key](std::string_view prefix) { return key.substr(0, prefix.size()) == prefix; };
  return !(starts("trusted.overlay.") || starts("user.overlay.") || starts("system.") ||
           key == "security.selinux");
}

Xattrs portable(Xattrs xattrs) {
  std::erase_if(xattrs, [](const auto& kv) { return !is_portable_xattr(kv.first); });
  return xattrs;
}

}  // namespace berth::core::layer
