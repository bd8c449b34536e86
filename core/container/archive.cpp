#include "core/container/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <utility>
#include <vector>

#include "berth/sdk/base64.hpp"
#include "berth/sdk/fs.hpp"
#include "core/common/json_text.hpp"
#include "core/common/time.hpp"
#include "core/common/unique_fd.hpp"
#include "core/layer/compression.hpp"
#include "core/layer/entry_writer.hpp"
#include "core/layer/safe_path.hpp"
#include "core/layer/tree_writer.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {

using layer::PathParts;

// Every lookup of an API path: symlinks resolve as in the container, with root as "/".
constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
constexpr int kMaxLinks = 255;  // as Go's FollowSymlinkInScope

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

using layer::clamp_clean;

std::string abs_path(const PathParts& parts) { return "/" + layer::join_path(parts); }

// Go's filepath.Base.
std::string go_base(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  if (p.empty()) return ".";
  if (p == "/") return "/";
  size_t slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

// A path from the API, as dockerd's ResolvePath reads it: made absolute and cleaned, a trailing
// "/" or "/." kept (archive.PreserveTrailingDotOrSeparator), which means "resolve the last
// element too".
struct ApiPath {
  PathParts parts;
  std::string abs;  // "/tmp/dir", "/tmp/dir/", "/tmp/dir/."
  bool follow_last = false;
};

ApiPath api_path(std::string_view path) {
  ApiPath p;
  p.parts = clamp_clean(path);
  p.abs = abs_path(p.parts);
  bool trailing_dot = go_base(path) == ".";
  bool trailing_sep = !path.empty() && path.back() == '/';
  if (trailing_dot && go_base(p.abs) != ".") p.abs += p.abs.back() == '/' ? "." : "/.";
  if (trailing_sep && p.abs.back() != '/') p.abs += "/";
  p.follow_last = trailing_dot || trailing_sep || p.parts.empty();
  return p;
}

Error lookup_error(std::string_view what, std::string_view path, int err) {
  if (err == ENOENT) {
    return make_error(ErrorCode::kNotFound, std::string(what) + " \"" + std::string(path) +
                                                "\": no such file or directory");
  }
  // With RESOLVE_IN_ROOT nothing can escape: ELOOP is a real symlink loop, not an escape.
  if (err == ELOOP) return errno_error(std::string(what) + " \"" + std::string(path) + "\"", err);
  return layer::path_error(what, path, err);
}

// The directory holding the entry a path names, and the entry's name in it ("." when the path
// resolves its last element: then the fd is the entry itself).
struct Located {
  UniqueFd dir;
  std::string name;
};

Result<Located> locate(int root_fd, const ApiPath& p, std::string_view what) {
  Located loc;
  if (p.follow_last) {
    loc.dir.reset(layer::open_dir_fd(root_fd, p.parts, p.parts.size(), kInRoot));
    loc.name = ".";
  } else {
    loc.dir.reset(layer::open_dir_fd(root_fd, p.parts, p.parts.size() - 1, kInRoot));
    loc.name = p.parts.back();
  }
  if (!loc.dir) return lookup_error(what, p.abs, errno);
  return loc;
}

// Go's symlink.FollowSymlinkInScope over fds: the absolute container path `path` leads to, every
// symlink followed with root as "/", missing elements kept lexically. Only used to compute
// names (linkTarget, the extraction directory); the files themselves are always opened with
// RESOLVE_IN_ROOT, so a race here cannot redirect anything outside root.
Result<PathParts> follow_in_scope(int root_fd, std::string_view path) {
  std::vector<std::string> todo;
  for (auto& part : clamp_clean(path)) todo.push_back(std::move(part));
  std::reverse(todo.begin(), todo.end());  // a stack: next element at the back
  PathParts done;
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.back());
    todo.pop_back();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    // `done` holds no symlink, so RESOLVE_NO_SYMLINKS costs nothing and keeps this honest.
    UniqueFd dir(layer::open_dir_fd(root_fd, done, done.size(),
                                    RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
    struct stat st {};
    if (!dir || !layer::lstat_at(dir.get(), part, &st)) {
      // Missing elements are kept as they are (the path may be about to be created).
      if (errno != ENOENT && errno != ENOTDIR) return errno_error("resolve " + std::string(path));
      done.push_back(std::move(part));
      continue;
    }
    if (!S_ISLNK(st.st_mode)) {
      done.push_back(std::move(part));
      continue;
    }
    if (++links > kMaxLinks) {
      return make_error(ErrorCode::kInvalidArgument,
                        "resolve " + std::string(path) + ": too many links");
    }
    auto target = sdk::fs::read_link_at(dir.get(), part);
    if (!target) return std::move(target).error().wrap("resolve " + std::string(path));
    // The link is replaced by its target's elements, raw: their ".." apply to the link's own
    // directory (`done`), or to "/" for an absolute target.
    if (starts_with(*target, "/")) done.clear();
    std::vector<std::string> elements;
    size_t pos = 0;
    while (pos <= target->size()) {
      size_t slash = target->find('/', pos);
      if (slash == std::string::npos) slash = target->size();
      if (slash > pos) elements.push_back(target->substr(pos, slash - pos));
      pos = slash + 1;
    }
    for (auto it = elements.rbegin(); it != elements.rend(); ++it) todo.push_back(std::move(*it));
  }
  return done;
}

// ---------------------------------------------------------------------------------------------
// PUT archive

using Member = layer::TarMember;

class Extractor {
 public:
  Extractor(int root_fd, PathParts dest, bool no_overwrite, bool copy_ids,
            std::optional<Owner> owner, layer::IdShift shift)
      : root_(root_fd),
        dest_(std::move(dest)),
        dest_abs_(abs_path(dest_)),
        no_overwrite_(no_overwrite),
        writer_("extract archive", "container",
                [this](const Member& m, std::string_view step, int err) {
                  return error(m, step, err);
                },
                // The tar's owners with copy_ids (docker cp -a), else root; `owner` wins. All
                // are container ids, stored as the host's for a remapped container.
                [owner, copy_ids, shift](const Member& m) -> std::optional<layer::EntryOwner> {
                  uint32_t uid = 0, gid = 0;
                  if (owner) {
                    uid = owner->uid;
                    gid = owner->gid;
                  } else if (copy_ids) {
                    uid = static_cast<uint32_t>(m.uid);
                    gid = static_cast<uint32_t>(m.gid);
                  }
                  return layer::EntryOwner{shift.uids.to_host(uid), shift.gids.to_host(gid)};
                }) {}

  Status run(Reader& in, const layer::TarLimits& limits);

 private:
  Status member(archive* a, archive_entry* e, bool* last);
  Status hardlink(const Member& m, int parent);
  int open_parent(const PathParts& full);

  Error error(const Member& m, std::string_view what, int err) const;
  std::string container_path(const Member& m) const { return abs_path(m.path); }

  int root_;
  PathParts dest_;
  std::string dest_abs_;
  bool no_overwrite_;
  layer::EntryWriter writer_;
};

Error Extractor::error(const Member& m, std::string_view what, int err) const {
  // Lookups use RESOLVE_IN_ROOT, which confines rather than refuses: EXDEV and ELOOP here are a
  // cross-mount hard link and a symlink loop, reported as what they are.
  return errno_error("extract archive: entry \"" + m.name + "\": " + std::string(what), err);
}

int Extractor::open_parent(const PathParts& full) {
  size_t depth = full.size() - 1;
  int fd = layer::open_dir_fd(root_, full, depth, kInRoot);
  if (fd >= 0 || errno != ENOENT) return fd;
  // Missing parents are made 0755 and root-owned (we run as root), as dockerd's untar does;
  // every step is resolved inside root again.
  UniqueFd current(layer::open_dir_fd(root_, full, 0, kInRoot));
  if (!current) return -1;
  for (size_t i = 0; i < depth; ++i) {
    int next = layer::open_dir_fd(root_, full, i + 1, kInRoot);
    if (next < 0) {
      if (errno != ENOENT) return -1;
      if (::mkdirat(current.get(), full[i].c_str(), 0755) == 0) {
        ::fchmodat(current.get(), full[i].c_str(), 0755, 0);  // whatever the umask
      } else if (errno != EEXIST) {
        return -1;
      }
      next = layer::open_dir_fd(root_, full, i + 1, kInRoot);
      if (next < 0) return -1;
    }
    current.reset(next);
  }
  return current.release();
}

Status Extractor::hardlink(const Member& m, int parent) {
  // dockerd: the target is joined to the extraction directory and must stay inside it.
  PathParts target = clamp_clean(m.linkname, dest_);
  if (target.size() <= dest_.size() || !std::equal(dest_.begin(), dest_.end(), target.begin())) {
    return make_error(ErrorCode::kInvalidArgument, "extract archive: invalid hardlink \"" +
                                                       container_path(m) + "\" -> \"" + m.linkname +
                                                       "\"");
  }
  UniqueFd target_parent(layer::open_dir_fd(root_, target, target.size() - 1, kInRoot));
  if (!target_parent) return error(m, "link", errno);
  // Flags 0: a target that is a symlink is linked itself, never followed.
  if (::linkat(target_parent.get(), target.back().c_str(), parent, m.path.back().c_str(), 0) !=
      0) {
    return error(m, "link to \"" + m.linkname + "\"", errno);
  }
  return {};
}

Status Extractor::member(archive* a, archive_entry* e, bool* last) {
  auto read = writer_.read_member(e);
  if (!read) return std::move(read).error();
  Member& m = *read;
  auto parts = layer::clean_path(m.name);
  if (!parts) {
    return make_error(ErrorCode::kInvalidArgument,
                      "extract archive: \"" + m.name + "\" is outside of \"" + dest_abs_ + "\"");
  }
  // "." (or "./"): the extraction directory itself, which dockerd leaves as it is.
  if (parts->empty()) return {};
  m.path = dest_;
  m.path.insert(m.path.end(), parts->begin(), parts->end());
  if (m.type == AE_IFLNK && !m.hardlink) {
    // dockerd refuses a relative link that, read from where it sits, leads above the
    // extraction directory (an absolute one is read as relative to it and always passes).
    if (!starts_with(m.linkname, "/")) {
      PathParts from(m.path.begin(), m.path.end() - 1);
      PathParts to = clamp_clean(m.linkname, std::move(from));
      if (to.size() < dest_.size() || !std::equal(dest_.begin(), dest_.end(), to.begin())) {
        return make_error(ErrorCode::kInvalidArgument, "extract archive: invalid symlink \"" +
                                                           container_path(m) + "\" -> \"" +
                                                           m.linkname + "\"");
      }
    }
  }

  UniqueFd parent(open_parent(m.path));
  if (!parent) return error(m, "open parent directory", errno);
  const std::string& base = m.path.back();
  struct stat old {};
  bool exists = layer::lstat_at(parent.get(), base, &old);
  if (!exists && errno != ENOENT) return error(m, "stat", errno);
  bool is_dir = m.type == AE_IFDIR && !m.hardlink;
  // A hard link to itself: the file is already there (and removing it first would lose it).
  if (m.hardlink && clamp_clean(m.linkname, dest_) == m.path) return {};
  if (exists) {
    if (no_overwrite_ && S_ISDIR(old.st_mode) && !is_dir) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "cannot overwrite directory \"" + container_path(m) +
                            "\" with non-directory \"" + dest_abs_ + "\"");
    }
    if (no_overwrite_ && !S_ISDIR(old.st_mode) && is_dir) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "cannot overwrite non-directory \"" + container_path(m) +
                            "\" with directory \"" + dest_abs_ + "\"");
    }
    // Anything in the way goes, except a directory that a directory entry merges into.
    if (!(S_ISDIR(old.st_mode) && is_dir)) {
      if (auto st = sdk::fs::remove_tree_at(parent.get(), base); !st) {
        return std::move(st).error().wrap("extract archive: entry \"" + m.name + "\"");
      }
    }
  }
  if (m.hardlink) return hardlink(m, parent.get());
  return writer_.write(a, e, m, parent.get(), last);
}

Status Extractor::run(Reader& in, const layer::TarLimits& limits) {
  layer::TarStream stream(in, limits);
  BERTH_TRY_STATUS(writer_.read_members(stream, [this](archive* a, archive_entry* e, bool* last) {
    return member(a, e, last);
  }));
  BERTH_TRY_STATUS(writer_.restore_dir_times(root_, kInRoot, "/"));
  if (auto end = stream.finish(); !end) return std::move(end).error().wrap("extract archive");
  return {};
}

}  // namespace

uint32_t go_file_mode(mode_t mode) {
  uint32_t out = mode & 0777;
  switch (mode & S_IFMT) {
    case S_IFDIR:
      out |= kGoModeDir;
      break;
    case S_IFLNK:
      out |= kGoModeSymlink;
      break;
    case S_IFBLK:
      out |= kGoModeDevice;
      break;
    case S_IFCHR:
      out |= kGoModeDevice | kGoModeCharDevice;
      break;
    case S_IFIFO:
      out |= kGoModeNamedPipe;
      break;
    case S_IFSOCK:
      out |= kGoModeSocket;
      break;
    default:
      break;
  }
  if (mode & S_ISUID) out |= kGoModeSetuid;
  if (mode & S_ISGID) out |= kGoModeSetgid;
  if (mode & S_ISVTX) out |= kGoModeSticky;
  return out;
}

Result<PathStat> stat_path(const std::string& root, const std::string& path) {
  auto root_fd = layer::open_root(root);
  if (!root_fd) return std::move(root_fd).error().wrap("stat " + path);
  ApiPath p = api_path(path);
  auto loc = locate(root_fd->get(), p, "stat");
  if (!loc) return std::move(loc).error();
  struct stat st {};
  if (!layer::lstat_at(loc->dir.get(), loc->name, &st)) return lookup_error("stat", p.abs, errno);
  PathStat out;
  out.name = go_base(p.abs);
  out.size = st.st_size;
  out.mode = go_file_mode(st.st_mode);
  out.mtime = rfc3339_seconds(st.st_mtim.tv_sec);
  if (S_ISLNK(st.st_mode)) {
    auto target = follow_in_scope(root_fd->get(), p.abs);
    if (!target) return std::move(target).error();
    out.link_target = abs_path(*target);
  }
  return out;
}

std::string encode_path_stat(const PathStat& stat) {
  json::object o;
  o["name"] = stat.name;
  o["size"] = stat.size;
  o["mode"] = stat.mode;
  o["mtime"] = stat.mtime;
  o["linkTarget"] = stat.link_target;
  return sdk::base64_encode(json_text::serialize(o));
}

Result<PathStat> decode_path_stat(std::string_view header) {
  auto fail = [] {
    return make_error(ErrorCode::kInvalidArgument, "invalid X-Docker-Container-Path-Stat header");
  };
  auto text = sdk::base64_decode(header);
  if (!text) return fail();
  json::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return fail();
  const auto& o = v.get_object();
  PathStat out;
  auto str = [&](std::string_view key, std::string& to) {
    if (const auto* f = o.if_contains(key); f != nullptr && f->is_string()) {
      to = std::string(f->get_string());
    }
  };
  str("name", out.name);
  str("mtime", out.mtime);
  str("linkTarget", out.link_target);
  if (const auto* f = o.if_contains("size"); f != nullptr && f->is_number()) {
    out.size = f->to_number<int64_t>(ec);
  }
  if (const auto* f = o.if_contains("mode"); f != nullptr && f->is_number()) {
    out.mode = f->to_number<uint32_t>(ec);
  }
  if (ec) return fail();
  return out;
}

Status archive_path(const std::string& root, const std::string& path, Writer& out,
                    layer::IdShift ids) {
  auto root_fd = layer::open_root(root);
  if (!root_fd) return std::move(root_fd).error().wrap("archive " + path);
  ApiPath p = api_path(path);
  auto loc = locate(root_fd->get(), p, "archive");
  if (!loc) return std::move(loc).error();
  struct stat st {};
  if (!layer::lstat_at(loc->dir.get(), loc->name, &st))
    return lookup_error("archive", p.abs, errno);
  // dockerd rebases the entries on the basename of the path as asked ("link/" archives its
  // target as "link", "dir/." as "."). The root has no basename: its contents go as "./...".
  std::string top = go_base(p.abs);
  if (top == "/") top = ".";
  layer::TreeArchiver archiver(out, ids);
  BERTH_TRY_STATUS(archiver.add(loc->dir.get(), loc->name, top, true));
  return archiver.finish();
}

Status extract_archive(const std::string& root, const std::string& dest_dir, Reader& tar,
                       bool no_overwrite_dir_non_dir, bool copy_uid_gid,
                       std::optional<Owner> owner, layer::IdShift ids,
                       const layer::TarLimits& limits) {
  auto root_fd = layer::open_root(root);
  if (!root_fd) return std::move(root_fd).error().wrap("extract archive");
  // The extraction point, with its last element followed too (an archive extracted to a
  // symlink to a directory lands in that directory), as dockerd's GetResourcePath.
  auto dest = follow_in_scope(root_fd->get(), dest_dir);
  if (!dest) return std::move(dest).error().wrap("extract archive");
  UniqueFd dir(layer::open_dir_fd(root_fd->get(), *dest, dest->size(), kInRoot, O_PATH));
  if (!dir) {
    if (errno == ENOTDIR) {
      return make_error(ErrorCode::kInvalidArgument, "extraction point is not a directory");
    }
    return lookup_error("extract archive", dest_dir, errno);
  }
  Extractor extractor(root_fd->get(), std::move(*dest), no_overwrite_dir_non_dir, copy_uid_gid,
                      owner, ids);
  return extractor.run(tar, limits);
}

Status export_rootfs(const std::string& root, Writer& out, layer::IdShift ids) {
  // The root's contents with no top entry: "bin/", "bin/sh", as dockerd's export.
  layer::TreeOptions options;
  options.ids = ids;
  return layer::write_tree(root, "", out, options);
}

}  // namespace berth::core::container
