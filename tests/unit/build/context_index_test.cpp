// The build context's index against the directory unpacking the same tar gives: every path's
// type, mode, size, link target and listing, and the checksums COPY keys are made of, must agree,
// or a cached build would key differently from one that unpacked the context.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "core/build/build_context.hpp"
#include "core/build/context_index.hpp"
#include "core/layer/compression.hpp"
#include "core/layer/tar_writer.hpp"

using namespace berth;
using namespace berth::core::build;
using berth::core::layer::TarHeader;
namespace sfs = std::filesystem;

namespace {

class TarBuilder {
 public:
  TarBuilder& dir(const std::string& name, uint32_t perm = 0755) {
    return add(TarHeader{name + "/", TarHeader::Type::kDirectory, "", S_IFDIR | perm}, "");
  }
  TarBuilder& file(const std::string& name, const std::string& data, uint32_t perm = 0644) {
    TarHeader h{name, TarHeader::Type::kRegular, "", S_IFREG | perm};
    h.size = static_cast<int64_t>(data.size());
    return add(h, data);
  }
  TarBuilder& symlink(const std::string& name, const std::string& target) {
    return add(TarHeader{name, TarHeader::Type::kSymlink, target, S_IFLNK | 0777}, "");
  }
  TarBuilder& hardlink(const std::string& name, const std::string& target) {
    return add(TarHeader{name, TarHeader::Type::kHardLink, target, S_IFREG | 0644}, "");
  }
  TarBuilder& fifo(const std::string& name) { return add(TarHeader{name, TarHeader::Type::kFifo, "", S_IFIFO | 0600}, ""); }
  std::string tar() {
    EXPECT_TRUE(writer_.finish());
    return out_.take();
  }

 private:
  TarBuilder& add(const TarHeader& h, const std::string& data) {
    EXPECT_TRUE(writer_.add(h));
    if (!data.empty()) {
      EXPECT_TRUE(writer_.write_data(data));
    }
    return *this;
  }
  StringWriter out_;
  core::layer::TarWriter writer_{out_};
};

class ContextIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = sfs::temp_directory_path() / ("berth-context-index-" + std::to_string(::getpid()));
    sfs::remove_all(base_);
    sfs::create_directories(base_);
  }
  void TearDown() override { sfs::remove_all(base_); }

  std::unique_ptr<BuildContext> receive(const std::string& tar, const std::string& dockerfile = "Dockerfile") {
    StringReader in(tar);
    auto c = BuildContext::receive(in, (base_ / ("context-" + std::to_string(n_++))).string(), dockerfile, 0, {});
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? std::move(*c) : nullptr;
  }

  // Walks both trees together from `rel`.
  static void expect_same(const SourceTree& index, const SourceTree& disk, const std::string& rel) {
    SCOPED_TRACE("path \"" + rel + "\"");
    auto a = index.lstat(rel);
    auto b = disk.lstat(rel);
    ASSERT_EQ(a.has_value(), b.has_value());
    if (!a) return;
    EXPECT_EQ(a->mode, b->mode) << std::oct << a->mode << " vs " << b->mode;
    EXPECT_EQ(a->size, b->size);
    if (!S_ISDIR(a->mode)) {
      EXPECT_EQ(a->mtime, b->mtime);  // implicit parents are made "now" on either side
    }
    if (S_ISLNK(a->mode)) {
      EXPECT_EQ(index.read_link(rel), disk.read_link(rel));
    }
    if (S_ISREG(a->mode)) {
      EXPECT_EQ(*index.file_digest(rel), *disk.file_digest(rel));
    }
    if (!S_ISDIR(a->mode)) return;
    auto names = index.list(rel);
    auto on_disk = disk.list(rel);
    std::sort(names.begin(), names.end());
    std::sort(on_disk.begin(), on_disk.end());
    EXPECT_EQ(names, on_disk);
    for (const auto& n : names) expect_same(index, disk, join_rel(rel, n));
  }

  static void expect_index_is_the_directory(BuildContext& c) {
    const SourceTree& index = c.tree();
    EXPECT_FALSE(c.unpacked()) << "receiving the context must not unpack it";
    auto dir = c.directory();
    ASSERT_TRUE(dir) << dir.error().message;
    DiskTree disk(*dir);
    expect_same(index, disk, "");
    ChecksumCache one;
    ChecksumCache two;
    EXPECT_EQ(*one.checksum(index, ""), *two.checksum(disk, ""));
  }

  sfs::path base_;
  int n_ = 0;
};

TEST_F(ContextIndexTest, MatchesTheUnpackedDirectory) {
  std::string tar = TarBuilder()
                        .file("Dockerfile", "FROM scratch\nCOPY . /\n")
                        .dir("app", 0750)
                        .file("app/main.sh", "#!/bin/sh\necho hi\n", 0755)
                        .file("app/setuid", "x", 04755)
                        .file("./lib/deep/implicit.txt", "parents made 0755")  // no entry for lib/ or lib/deep/
                        .symlink("app/link", "../lib/deep/implicit.txt")
                        .symlink("abs", "/etc/passwd")
                        .hardlink("app/same", "app/main.sh")
                        .fifo("app/pipe")
                        .file("replaced", "first")
                        .file("replaced", "second, longer")     // a later member replaces the file
                        .file("turns-dir", "file")
                        .dir("turns-dir", 0700)                 // ... and a file by a directory
                        .file("turns-dir/inner", "in")
                        .dir("app", 0711)                       // a directory member merges
                        .file("empty", "")
                        .tar();
  auto c = receive(tar);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->dockerfile_text(), "FROM scratch\nCOPY . /\n");
  expect_index_is_the_directory(*c);

  // COPY app /x from the spool through the index writes what it writes from the files.
  ASSERT_NE(c->contents(), nullptr);
  std::vector<CopyEntry> entries{{"app", ""}, {"replaced", "replaced"}, {"lib/deep/implicit.txt", "implicit.txt"}};
  StringWriter from_index;
  StringWriter from_disk;
  ASSERT_TRUE(write_copy_tar(*c->contents(), entries, std::nullopt, from_index));
  ASSERT_TRUE(write_copy_tar(DiskTree(*c->directory()), entries, std::nullopt, from_disk));
  EXPECT_GT(from_index.str().size(), 4096u);
  EXPECT_TRUE(from_index.str() == from_disk.str());
}

TEST_F(ContextIndexTest, DockerignoreIsAppliedAsOnDisk) {
  std::string tar = TarBuilder()
                        .file(".dockerignore", "**/*.log\nbuild\n!build/keep.txt\nDockerfile\nsecret*\n")
                        .file("Dockerfile", "FROM scratch\n")  // excluded, yet kept for the build
                        .file("a.log", "x")
                        .file("src/b.log", "x")
                        .file("src/b.c", "int main;")
                        .file("build/out.o", "o")
                        .file("build/keep.txt", "kept by the exception")
                        .file("secret.key", "k")
                        .tar();
  auto c = receive(tar);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->tree().lstat("Dockerfile"));
  EXPECT_FALSE(c->tree().lstat("a.log"));
  EXPECT_FALSE(c->tree().lstat("src/b.log"));
  EXPECT_FALSE(c->tree().lstat("secret.key"));
  EXPECT_FALSE(c->tree().lstat("build/out.o"));
  EXPECT_TRUE(c->tree().lstat("build/keep.txt"));
  expect_index_is_the_directory(*c);

  // A .dockerignore that is a link is not read (it could name a host file), on either side.
  auto linked = receive(TarBuilder().file("Dockerfile", "FROM scratch\n").file("patterns", "secret\n").symlink(".dockerignore", "patterns").file("secret", "s").tar());
  ASSERT_TRUE(linked);
  EXPECT_TRUE(linked->tree().lstat("secret"));
  expect_index_is_the_directory(*linked);
}

TEST_F(ContextIndexTest, CompressedContextsAndMatchingWork) {
  std::string tar = TarBuilder().file("Dockerfile", "FROM scratch\n").file("src/a.txt", "a").file("src/b.txt", "b").symlink("alias", "src/a.txt").tar();
  StringReader plain(tar);
  StringWriter gz;
  ASSERT_TRUE(core::layer::gzip_compress(plain, gz));
  auto c = receive(gz.str());
  ASSERT_TRUE(c);
  EXPECT_EQ(*match_sources(c->tree(), "src/*.txt"), (std::vector<std::string>{"src/a.txt", "src/b.txt"}));
  EXPECT_EQ(*match_sources(c->tree(), "alias"), (std::vector<std::string>{"src/a.txt"}));
  EXPECT_FALSE(match_sources(c->tree(), "nothing*"));
  expect_index_is_the_directory(*c);
}

TEST_F(ContextIndexTest, WhatTheIndexDoesNotModelIsReadFromTheFiles) {
  // A member placed through a symlinked directory: the index gives up and the context is
  // unpacked at once, so keys come from the files.
  std::string tar = TarBuilder().file("Dockerfile", "FROM scratch\n").dir("real").symlink("via", "real").file("via/x", "x").tar();
  auto c = receive(tar);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->unpacked());
  EXPECT_TRUE(c->tree().lstat("real/x"));

  // A Dockerfile that is a link is read through it, inside the context.
  std::string linked = TarBuilder().file("docker/real.Dockerfile", "FROM scratch\n").symlink("Dockerfile", "docker/real.Dockerfile").tar();
  auto l = receive(linked);
  ASSERT_TRUE(l);
  EXPECT_EQ(*l->dockerfile_text(), "FROM scratch\n");

  // A missing Dockerfile is refused without unpacking anything.
  auto m = receive(TarBuilder().file("other", "x").tar());
  ASSERT_TRUE(m);
  auto text = m->dockerfile_text();
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message.find("Cannot locate specified Dockerfile: Dockerfile"), std::string::npos);
  EXPECT_FALSE(m->unpacked());
}

TEST_F(ContextIndexTest, ABrokenTarLeavesNothing) {
  std::string tar = TarBuilder().file("Dockerfile", "FROM scratch\n").file("big", std::string(10000, 'x')).tar();
  StringReader in(tar.substr(0, 2000));  // cut inside "big"
  std::string dir = (base_ / "context-cut").string();
  auto c = BuildContext::receive(in, dir, "Dockerfile", 0, {});
  ASSERT_FALSE(c);
  EXPECT_FALSE(sfs::exists(dir));
  EXPECT_FALSE(sfs::exists(dir + ".tar"));

  StringReader over(tar);
  auto limited = BuildContext::receive(over, dir, "Dockerfile", 4096, {});
  ASSERT_FALSE(limited);
  EXPECT_NE(limited.error().message.find("build-max-context-size"), std::string::npos);
  EXPECT_FALSE(sfs::exists(dir + ".tar"));
}

TEST_F(ContextIndexTest, RandomTarsIndexAsTheyUnpack) {
  // Members in random order over a few overlapping paths: replacements, merges, implicit
  // parents, links to whatever is there, members under links. Whenever the index says it is
  // exact, it must be the directory the extractor makes.
  const std::vector<std::string> paths{"a", "b", "a/b", "a/c", "b/a", "a/b/c", "c", "a/b/c/d"};
  std::mt19937 rng(20261208);
  auto pick = [&](const std::vector<std::string>& from) { return from[rng() % from.size()]; };
  int exact = 0;
  for (int round = 0; round < 500; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    TarBuilder t;
    t.file("Dockerfile", "FROM scratch\n");
    std::string shown;
    int members = 1 + static_cast<int>(rng() % 10);
    for (int i = 0; i < members; ++i) {
      std::string p = pick(paths);
      switch (rng() % 6) {
        case 0: t.dir(p, rng() % 2 ? 0755 : 0700); shown += "dir " + p; break;
        case 1: t.file(p, std::string(rng() % 3, 'x') + p, rng() % 2 ? 0644 : 04750); shown += "file " + p; break;
        case 2: { std::string to = pick(paths); t.symlink(p, rng() % 2 ? to : "/" + to); shown += "symlink " + p + " " + to; break; }
        case 3: { std::string to = pick(paths); t.hardlink(p, to); shown += "hardlink " + p + " " + to; break; }
        case 4: t.fifo(p); shown += "fifo " + p; break;
        default: t.file(p + "x", "y"); shown += "file " + p + "x"; break;
      }
      shown += "; ";
    }
    SCOPED_TRACE(shown);
    StringReader in(t.tar());
    auto c = BuildContext::receive(in, (base_ / ("random-" + std::to_string(round))).string(), "Dockerfile", 0, {});
    if (!c) continue;  // the extractor refused it (a hard link to nothing, a path through a file)
    if ((*c)->unpacked()) continue;  // the index gave up: the files decide
    ++exact;
    expect_index_is_the_directory(**c);
    if (HasFailure()) return;
  }
  EXPECT_GT(exact, 100);  // many rounds must exercise the index itself
}

}  // namespace
