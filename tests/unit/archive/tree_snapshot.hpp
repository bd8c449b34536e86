// A tree snapshot keyed by each entry's path as written, not resolved: layer::testing::snapshot
// names entries with std::filesystem::relative, which follows symlinks, so a link to another
// entry (or to the host's /etc) would be filed under its target's name.
#pragma once

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/unit/layer/test_util.hpp"

namespace berth::core::testing {

inline layer::testing::Tree lexical_snapshot(const std::filesystem::path& root,
                                             bool dir_mtimes = false) {
  namespace stdfs = std::filesystem;
  layer::testing::Tree tree;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes;
  std::vector<stdfs::path> paths;
  for (auto it = stdfs::recursive_directory_iterator(root);
       it != stdfs::recursive_directory_iterator(); ++it) {
    paths.push_back(it->path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    struct stat st = layer::testing::lstat_of(p);
    layer::testing::Node n;
    n.mode = st.st_mode;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    n.xattrs = layer::testing::xattrs_of(p);
    std::string rel = p.lexically_relative(root).string();
    if (S_ISREG(st.st_mode)) {
      n.size = st.st_size;
      n.content = layer::testing::read_file(p);
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

}  // namespace berth::core::testing
