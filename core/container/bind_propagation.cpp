#include "core/container/bind_propagation.hpp"

#include <filesystem>
#include <sstream>

#include "core/container/container.hpp"

namespace berth::core::container {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      auto oct = s.substr(i + 1, 3);
      if (oct.size() == 3 && oct.find_first_not_of("01234567") == std::string_view::npos) {
        out.push_back(static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool is_under(std::string_view path, std::string_view mount_point) {
  if (mount_point == "/") return true;
  if (path.substr(0, mount_point.size()) != mount_point) return false;
  return path.size() == mount_point.size() || path[mount_point.size()] == '/';
}

}  // namespace

std::optional<SourceMount> source_mount(std::string_view mountinfo, std::string_view path) {
  std::optional<SourceMount> best;
  std::istringstream lines{std::string(mountinfo)};
  std::string line;
  while (std::getline(lines, line)) {
    // id parent major:minor root mount-point options [optional fields...] - fstype source opts
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, options, field;
    if (!(fields >> id >> parent >> dev >> root >> point >> options)) continue;
    SourceMount m;
    m.mount_point = unescape(point);
    while (fields >> field && field != "-") {
      if (field.rfind("shared:", 0) == 0) m.shared = true;
      if (field.rfind("master:", 0) == 0) m.slave = true;
    }
    if (!is_under(path, m.mount_point)) continue;
    // Later lines are mounted later: at the same place they cover the earlier ones.
    if (!best || m.mount_point.size() >= best->mount_point.size()) best = std::move(m);
  }
  return best;
}

bool propagates(const MountPoint& m) {
  const auto& p = m.propagation;
  return m.type == "bind" && (p == "shared" || p == "rshared" || p == "slave" || p == "rslave");
}

Status check_bind_propagation(const std::vector<MountPoint>& mounts, std::string_view mountinfo) {
  for (const auto& m : mounts) {
    if (!propagates(m)) continue;
    bool wants_shared = m.propagation == "shared" || m.propagation == "rshared";
    bool wants_slave = !wants_shared;
    std::error_code ec;
    auto resolved = std::filesystem::canonical(m.source, ec);
    std::string path = ec ? m.source : resolved.string();
    auto src = source_mount(mountinfo, path);
    if (!src) {
      return make_error(ErrorCode::kInvalidArgument, "could not find the mount holding " + path);
    }
    if (wants_shared && !src->shared) {
      return make_error(ErrorCode::kInvalidArgument,
                        "path " + path + " is mounted on " + src->mount_point + " but it is not a shared mount");
    }
    if (wants_slave && !src->shared && !src->slave) {
      return make_error(ErrorCode::kInvalidArgument, "path " + path + " is mounted on " + src->mount_point +
                                                         " but it is not a shared or slave mount");
    }
  }
  return {};
}

}  // namespace berth::core::container
