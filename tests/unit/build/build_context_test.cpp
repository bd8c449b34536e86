// The builder's pure-ish parts: source resolution inside the context (symlinks never escape),
// wildcard matching, content checksums and the cache index.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/build/build_cache.hpp"
#include "core/build/build_context.hpp"

using namespace berth::core::build;
namespace fs = std::filesystem;

namespace {

class ContextDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("berth-build-unit-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "src" / "sub");
    write("src/a.txt", "a");
    write("src/b.txt", "b");
    write("src/sub/c.md", "c");
    fs::create_symlink("/etc", root_ / "abs");           // absolute: resolved inside the root
    fs::create_symlink("../../../../etc", root_ / "up");  // climbing: stops at the root
    fs::create_symlink("src/a.txt", root_ / "alias");
    fs::create_symlink("loop2", root_ / "loop1");
    fs::create_symlink("loop1", root_ / "loop2");
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& rel, const std::string& text) { std::ofstream(root_ / rel) << text; }
  std::string root() const { return root_.string(); }
  fs::path root_;
};

TEST_F(ContextDir, SymlinksResolveInsideTheRoot) {
  EXPECT_EQ(*resolve_in_root(root(), "abs/passwd", true), "etc/passwd");
  EXPECT_EQ(*resolve_in_root(root(), "up/shadow", true), "etc/shadow");
  EXPECT_EQ(*resolve_in_root(root(), "/../../src/./a.txt", true), "src/a.txt");
  EXPECT_EQ(*resolve_in_root(root(), "alias", true), "src/a.txt");
  EXPECT_EQ(*resolve_in_root(root(), "alias", false), "alias");
  EXPECT_EQ(*resolve_in_root(root(), ".", true), "");
  EXPECT_FALSE(resolve_in_root(root(), "loop1", true));
}

TEST_F(ContextDir, SourcesMatchLikeDocker) {
  EXPECT_EQ(*match_sources(root(), "src/*.txt"), (std::vector<std::string>{"src/a.txt", "src/b.txt"}));
  EXPECT_EQ(*match_sources(root(), "src/?.txt"), (std::vector<std::string>{"src/a.txt", "src/b.txt"}));
  EXPECT_EQ(*match_sources(root(), "src/s*/*.md"), (std::vector<std::string>{"src/sub/c.md"}));
  EXPECT_EQ(*match_sources(root(), "alias"), (std::vector<std::string>{"src/a.txt"}));
  // The host's /etc/passwd is not in the context: a link to it matches nothing.
  auto escaped = match_sources(root(), "abs/passwd");
  ASSERT_FALSE(escaped);
  EXPECT_NE(escaped.error().message.find("abs/passwd"), std::string::npos);
  EXPECT_FALSE(match_sources(root(), "src/*.none"));
}

TEST_F(ContextDir, ChecksumsFollowContent) {
  ChecksumCache first;
  auto a = first.checksum(root(), "src");
  write("src/sub/c.md", "changed");
  EXPECT_EQ(*first.checksum(root(), "src"), *a);  // remembered for the rest of the build
  ChecksumCache second;
  EXPECT_NE(*second.checksum(root(), "src"), *a);
  EXPECT_NE(*second.checksum(root(), "src/a.txt"), *second.checksum(root(), "src/b.txt"));
}

TEST_F(ContextDir, CacheIndexPersistsAndPrunes) {
  std::string path = root() + "/cache.json";
  std::string key = BuildCache::key_of({"run", "sha256:parent", "[\"/bin/sh\",\"-c\",\"x\"]"});
  EXPECT_NE(key, BuildCache::key_of({"run", "sha256:parent", "[\"/bin/sh\",\"-c\",\"y\"]"}));
  EXPECT_NE(BuildCache::key_of({"ab", "c"}), BuildCache::key_of({"a", "bc"}));
  {
    BuildCache c(path);
    EXPECT_FALSE(c.lookup(key));
    c.record(key, "sha256:img", 10);
  }
  BuildCache again(path);
  EXPECT_EQ(again.lookup(key).value_or(""), "sha256:img");
  EXPECT_TRUE(again.prune(int64_t{0}).empty());  // nothing older than 1970
  EXPECT_EQ(again.prune(std::nullopt).size(), 1u);
  EXPECT_FALSE(BuildCache(path).lookup(key));
}

}  // namespace
