// Helpers for the layer tests: temp dirs, tars built with libarchive's writer (no fixture files),
// and tree snapshots to compare directory trees.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace berth::core::layer::testing {

namespace stdfs = std::filesystem;

inline bool is_root() { return ::geteuid() == 0; }

#define BERTH_REQUIRE_ROOT(why)                      \
  do {                                               \
    if (!::berth::core::layer::testing::is_root()) { \
      GTEST_SKIP() << "needs root: " << (why);       \
    }                                                \
  } while (0)

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (stdfs::temp_directory_path() / "berth-layer-test-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    stdfs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const stdfs::path& path() const { return path_; }
  stdfs::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  stdfs::path path_;
};

inline void write_file(const stdfs::path& path, const std::string& content) {
  stdfs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::string read_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline struct stat lstat_of(const stdfs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) throw std::runtime_error("lstat " + path.string());
  return st;
}

inline bool exists_nofollow(const stdfs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

inline std::string get_xattr(const stdfs::path& path, const std::string& key) {
  char buf[4096];
  ssize_t n = ::lgetxattr(path.c_str(), key.c_str(), buf, sizeof buf);
  if (n < 0) return "<absent>";
  return std::string(buf, static_cast<size_t>(n));
}

// Per-member metadata for TarBuilder.
struct TarMeta {
  unsigned mode = 0;  // 0: the type's default
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t mtime = 1700000000;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// A tar written with libarchive's writer. Each method adds one member.
class TarBuilder {
 public:
  enum class Filter { kNone, kGzip, kBzip2, kXz, kZstd };

  explicit TarBuilder(Filter filter = Filter::kNone, bool pax = true) : a_(archive_write_new()) {
    if (pax) {
      archive_write_set_format_pax_restricted(a_);
    } else {
      archive_write_set_format_ustar(a_);
    }
    switch (filter) {
      case Filter::kNone:
        break;
      case Filter::kGzip:
        archive_write_add_filter_gzip(a_);
        break;
      case Filter::kBzip2:
        archive_write_add_filter_bzip2(a_);
        break;
      case Filter::kXz:
        archive_write_add_filter_xz(a_);
        break;
      case Filter::kZstd:
        archive_write_add_filter_zstd(a_);
        break;
    }
    // No padding to 10 KiB: the archive ends with its two zero blocks, so tests can cut it.
    archive_write_set_bytes_per_block(a_, 0);
    archive_write_open(a_, this, nullptr, &TarBuilder::on_write, nullptr);
  }
  ~TarBuilder() {
    if (a_ != nullptr) archive_write_free(a_);
  }
  TarBuilder(const TarBuilder&) = delete;
  TarBuilder& operator=(const TarBuilder&) = delete;

  using Meta = TarMeta;

  TarBuilder& file(const std::string& name, const std::string& content, Meta meta = {}) {
    auto* e = entry(name, AE_IFREG, meta.mode ? meta.mode : 0644, meta);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    write(e, content);
    return *this;
  }
  TarBuilder& dir(const std::string& name, Meta meta = {}) {
    write(entry(name, AE_IFDIR, meta.mode ? meta.mode : 0755, meta));
    return *this;
  }
  TarBuilder& symlink(const std::string& name, const std::string& target, Meta meta = {}) {
    auto* e = entry(name, AE_IFLNK, 0777, meta);
    archive_entry_set_symlink(e, target.c_str());
    write(e);
    return *this;
  }
  TarBuilder& hardlink(const std::string& name, const std::string& target, Meta meta = {}) {
    auto* e = entry(name, AE_IFREG, meta.mode ? meta.mode : 0644, meta);
    archive_entry_set_hardlink(e, target.c_str());
    archive_entry_set_size(e, 0);
    write(e);
    return *this;
  }
  TarBuilder& device(const std::string& name, unsigned type, unsigned major_no, unsigned minor_no,
                     Meta meta = {}) {
    auto* e = entry(name, type, meta.mode ? meta.mode : 0666, meta);
    archive_entry_set_rdevmajor(e, major_no);
    archive_entry_set_rdevminor(e, minor_no);
    write(e);
    return *this;
  }
  TarBuilder& fifo(const std::string& name, Meta meta = {}) {
    write(entry(name, AE_IFIFO, meta.mode ? meta.mode : 0644, meta));
    return *this;
  }

  std::string finish() {
    archive_write_close(a_);
    archive_write_free(a_);
    a_ = nullptr;
    return std::move(out_);
  }

 private:
  static la_ssize_t on_write(archive*, void* self, const void* buf, size_t len) {
    static_cast<TarBuilder*>(self)->out_.append(static_cast<const char*>(buf), len);
    return static_cast<la_ssize_t>(len);
  }

  archive_entry* entry(const std::string& name, unsigned type, unsigned mode, const Meta& meta) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_uid(e, meta.uid);
    archive_entry_set_gid(e, meta.gid);
    archive_entry_set_mtime(e, meta.mtime, 0);
    for (const auto& [k, v] : meta.xattrs) {
      archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    }
    return e;
  }

  void write(archive_entry* e, const std::string& content = {}) {
    // ARCHIVE_WARN: a non-ASCII name the C locale cannot translate, written as raw bytes.
    if (archive_write_header(a_, e) < ARCHIVE_WARN) {
      std::string msg = archive_error_string(a_) ? archive_error_string(a_) : "?";
      archive_entry_free(e);
      throw std::runtime_error("tar builder: " + msg);
    }
    if (!content.empty()) archive_write_data(a_, content.data(), content.size());
    archive_entry_free(e);
  }

  archive* a_;
  std::string out_;
};

// Members of a tar as libarchive reads them: name -> (type, hardlink target or symlink target).
struct TarMember {
  std::string name;
  unsigned type = 0;
  std::string link;  // symlink target
  std::string hardlink;
  int64_t size = 0;
  unsigned perm = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  std::string data;
  std::map<std::string, std::string> xattrs;
};

inline std::vector<TarMember> read_tar(const std::string& bytes) {
  std::vector<TarMember> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_format_empty(a);
  archive_read_support_filter_all(a);
  archive_read_open_memory(a, bytes.data(), bytes.size());
  archive_entry* e = nullptr;
  int r = 0;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    TarMember m;
    m.name = archive_entry_pathname(e);
    m.type = archive_entry_filetype(e);
    if (archive_entry_symlink(e)) m.link = archive_entry_symlink(e);
    if (archive_entry_hardlink(e)) m.hardlink = archive_entry_hardlink(e);
    m.size = archive_entry_size(e);
    m.perm = archive_entry_perm(e);
    m.uid = archive_entry_uid(e);
    m.gid = archive_entry_gid(e);
    if (archive_entry_xattr_reset(e) > 0) {
      const char* k = nullptr;
      const void* v = nullptr;
      size_t n = 0;
      while (archive_entry_xattr_next(e, &k, &v, &n) == ARCHIVE_OK) {
        m.xattrs[k] = std::string(static_cast<const char*>(v), n);
      }
    }
    char buf[65536];
    la_ssize_t n = 0;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
      m.data.append(buf, static_cast<size_t>(n));
    out.push_back(std::move(m));
  }
  std::string err = r == ARCHIVE_EOF ? "" : archive_error_string(a);
  archive_read_free(a);
  if (!err.empty()) throw std::runtime_error("read tar: " + err);
  return out;
}

// A tree snapshot: what must survive a round trip through a layer tar.
struct Node {
  mode_t mode = 0;  // type and permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  int64_t size = 0;  // regular files only
  std::string content;
  std::string link;     // symlink target
  std::string same_as;  // first path (sorted) sharing the inode, for hard links
  dev_t rdev = 0;
  int64_t mtime = 0;  // seconds; 0 for directories when snapshotted without dir times
  std::map<std::string, std::string> xattrs;

  bool operator==(const Node&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Node& n) {
  os << "{mode=" << std::oct << n.mode << std::dec << " uid=" << n.uid << " gid=" << n.gid
     << " size=" << n.size << " link=" << n.link << " same_as=" << n.same_as << " rdev=" << n.rdev
     << " mtime=" << n.mtime << " xattrs=" << n.xattrs.size() << "}";
  return os;
}

inline std::map<std::string, std::string> xattrs_of(const stdfs::path& path) {
  std::map<std::string, std::string> out;
  char names[8192];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
  for (ssize_t i = 0; i < n;) {
    std::string key(names + i);
    i += static_cast<ssize_t>(key.size()) + 1;
    if (key.rfind("trusted.overlay.", 0) == 0 || key.rfind("security.selinux", 0) == 0) continue;
    out[key] = get_xattr(path, key);
  }
  return out;
}

using Tree = std::map<std::string, Node>;

inline Tree snapshot(const stdfs::path& root, bool dir_mtimes = false) {
  Tree tree;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes;
  std::vector<stdfs::path> paths;
  for (auto it = stdfs::recursive_directory_iterator(root);
       it != stdfs::recursive_directory_iterator(); ++it) {
    paths.push_back(it->path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    struct stat st = lstat_of(p);
    Node n;
    n.mode = st.st_mode;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    n.xattrs = xattrs_of(p);
    std::string rel = stdfs::relative(p, root).string();
    if (S_ISREG(st.st_mode)) {
      n.size = st.st_size;
      n.content = read_file(p);
      n.mtime = st.st_mtim.tv_sec;
    } else if (S_ISLNK(st.st_mode)) {
      n.link = stdfs::read_symlink(p).string();
      n.mtime = st.st_mtim.tv_sec;
    } else if (S_ISDIR(st.st_mode)) {
      n.mtime = dir_mtimes ? st.st_mtim.tv_sec : 0;
    } else {
      n.rdev = st.st_rdev;
      n.mtime = st.st_mtim.tv_sec;
    }
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, first] = inodes.try_emplace({st.st_dev, st.st_ino}, rel);
      n.same_as = it->second;
    }
    tree[rel] = std::move(n);
  }
  return tree;
}

// Reports differences entry by entry (clearer failures than one big map comparison).
inline void expect_same_tree(const Tree& expected, const Tree& actual) {
  for (const auto& [path, node] : expected) {
    auto it = actual.find(path);
    if (it == actual.end()) {
      ADD_FAILURE() << "missing " << path;
      continue;
    }
    EXPECT_EQ(it->second, node) << "at " << path;
  }
  for (const auto& [path, node] : actual) {
    if (!expected.contains(path)) ADD_FAILURE() << "unexpected " << path;
  }
}

inline void run(const std::string& command) {
  int rc = std::system(command.c_str());
  if (rc != 0) throw std::runtime_error("command failed: " + command);
}

}  // namespace berth::core::layer::testing
