// Storing a layer once: the tar framer (what is a tar, and where its files' bytes are), the bounded
// tar stream (bombs and non-tars refused), and the tar split that rebuilds the exact tar from the
// applied files.
#include <archive.h>
#include <gtest/gtest.h>

#include "core/common/sha256.hpp"
#include "core/layer/applier.hpp"
#include "core/layer/compression.hpp"
#include "core/layer/safe_path.hpp"
#include "core/layer/tar_framer.hpp"
#include "core/layer/tar_split.hpp"
#include "core/layer/tar_stream.hpp"
#include "tests/unit/layer/test_util.hpp"

namespace berth::core::layer {
namespace {

using testing::TarBuilder;
using testing::TempDir;

// Collects what a framer reports.
struct Recording final : TarFrameSink {
  std::vector<TarEntryInfo> entries;
  int64_t meta_bytes = 0, content_bytes = 0;
  Status meta(std::string_view b) override {
    meta_bytes += static_cast<int64_t>(b.size());
    return {};
  }
  Status entry(const TarEntryInfo& e) override {
    entries.push_back(e);
    return {};
  }
  Status content(std::string_view b) override {
    content_bytes += static_cast<int64_t>(b.size());
    return {};
  }
};

// Feeds `tar` in pieces of `step` bytes.
Status frame(const std::string& tar, TarFrameSink* sink, size_t step = 333) {
  TarFramer f(sink);
  for (size_t i = 0; i < tar.size(); i += step) BERTH_TRY_STATUS(f.feed(std::string_view(tar).substr(i, step)));
  return f.finish();
}

std::string gnu_tar_with_long_name(const std::string& name, const std::string& content) {
  archive* a = archive_write_new();
  archive_write_set_format_gnutar(a);
  archive_write_set_bytes_per_block(a, 0);
  std::string out;
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* self, const void* buf, size_t len) -> la_ssize_t {
        static_cast<std::string*>(self)->append(static_cast<const char*>(buf), len);
        return static_cast<la_ssize_t>(len);
      },
      nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
  archive_write_header(a, e);
  archive_write_data(a, content.data(), content.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

TEST(TarFramer, FindsEveryEntryAndAccountsForEveryByte) {
  std::string long_dir(150, 'd');
  std::string tar = TarBuilder()
                        .dir("etc")
                        .file("etc/hosts", "127.0.0.1 localhost\n")
                        .file(long_dir + "/x", std::string(5000, 'x'))
                        .symlink("etc/link", "hosts")
                        .hardlink("etc/hard", "etc/hosts")
                        .file("./empty", "")
                        .finish();
  Recording r;
  ASSERT_TRUE(frame(tar, &r));
  ASSERT_EQ(r.entries.size(), 6u);
  EXPECT_EQ(r.entries[0].path, "etc");
  EXPECT_EQ(r.entries[0].type, '5');
  EXPECT_EQ(r.entries[1].path, "etc/hosts");
  EXPECT_TRUE(r.entries[1].content_is_file());
  EXPECT_EQ(r.entries[2].path, long_dir + "/x");  // from the pax "path" record
  EXPECT_EQ(r.entries[2].size, 5000);
  EXPECT_EQ(r.entries[3].type, '2');
  EXPECT_EQ(r.entries[4].type, '1');
  EXPECT_EQ(r.entries[5].path, "empty");
  EXPECT_EQ(r.content_bytes, 20 + 5000);
  EXPECT_EQ(r.meta_bytes + r.content_bytes, static_cast<int64_t>(tar.size()));
}

TEST(TarFramer, ReadsGnuLongNames) {
  std::string name = std::string(120, 'n') + "/file";
  Recording r;
  ASSERT_TRUE(frame(gnu_tar_with_long_name(name, "abc"), &r, 1));
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].path, name);
  EXPECT_EQ(r.content_bytes, 3);
}

TEST(TarFramer, RefusesWhatIsNotATar) {
  // A damaged header.
  std::string tar = TarBuilder().file("a", "hello").finish();
  tar[10] ^= 0x55;
  auto s = frame(tar, nullptr);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("header checksum mismatch"), std::string::npos) << s.error().message;
  // Zeros: an end marker followed by megabytes.
  s = frame(std::string(3 << 20, '\0'), nullptr, 1 << 16);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("more than 1 MiB follows the end of the archive"), std::string::npos);
  // Cut inside an entry.
  std::string whole = TarBuilder().file("a", std::string(2000, 'a')).finish();
  s = frame(whole.substr(0, 1000), nullptr);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("ends inside an entry"), std::string::npos);
  // Tar's own padding after the end is fine.
  EXPECT_TRUE(frame(whole + std::string(9216, '\0'), nullptr));
}

// Applies `tar` under a temp root while recording its split, then rebuilds it.
struct RoundTrip {
  TempDir dir;
  std::string split;
  ApplyResult applied;

  Status apply(const std::string& tar) {
    std::filesystem::create_directories(dir / "root");
    StringWriter out;
    SplitRecorder recorder(out, dir / "captures");
    StringReader in(tar);
    ApplyOptions o;
    o.preserve_owner = false;
    o.recorder = &recorder;
    auto r = apply_tar(dir / "root", in, o);
    if (!r) return r.error();
    applied = *r;
    BERTH_TRY_STATUS(recorder.finish());
    split = out.take();
    return {};
  }
  Result<std::string> rebuild() {
    auto root = open_root(dir / "root");
    if (!root) return root.error();
    StringReader in(split);
    std::optional<std::filesystem::path> captures;
    if (std::filesystem::exists(dir / "captures")) captures = dir / "captures";
    SplitReplay replay(in, root->get(), captures, applied.diff_id);
    std::string out;
    char buf[7000];
    for (;;) {
      auto n = replay.read(buf, sizeof buf);
      if (!n) return n.error();
      if (*n == 0) return out;
      out.append(buf, *n);
    }
  }
};

TEST(TarSplit, RebuildsTheExactTarFromTheFilesAndKeepsOnlyTheRest) {
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
  std::string tar = TarBuilder()
                        .dir("usr", {.mode = 0755})
                        .file("usr/big.bin", big)
                        .file("usr/" + std::string(200, 'L'), "long name")
                        .symlink("usr/sym", "big.bin")
                        .hardlink("usr/hard", "usr/big.bin")
                        .file("usr/empty", "")
                        .file("usr/x", "attrs", {.xattrs = {{"user.k", "v"}}})
                        .finish() +
                    std::string(10240, '\0');  // record padding, kept too
  RoundTrip rt;
  ASSERT_TRUE(rt.apply(tar));
  EXPECT_EQ(rt.applied.diff_id, Sha256::of(tar));
  // The split is headers and records, not the 3 MiB of content.
  EXPECT_LT(rt.split.size(), 30000u);
  auto rebuilt = rt.rebuild();
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  EXPECT_EQ(rebuilt->size(), tar.size());
  EXPECT_TRUE(*rebuilt == tar);
}

TEST(TarSplit, AFileNamedTwiceKeepsItsFirstContentAside) {
  std::string tar = TarBuilder()
                        .file("etc/conf", "first version of the file")
                        .file("etc/other", "unrelated")
                        .file("etc/conf", "second")
                        .file("etc/gone", "removed by a whiteout in the same layer")
                        .file("etc/.wh.gone", "")
                        .finish();
  RoundTrip rt;
  ASSERT_TRUE(rt.apply(tar));
  EXPECT_TRUE(std::filesystem::exists(rt.dir / "captures"));
  auto rebuilt = rt.rebuild();
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  EXPECT_TRUE(*rebuilt == tar);
}

TEST(TarSplit, AChangedFileFailsTheRebuildInsteadOfLying) {
  std::string tar = TarBuilder().file("a", "original").file("b", "bbbb").finish();
  RoundTrip rt;
  ASSERT_TRUE(rt.apply(tar));
  testing::write_file(rt.dir / "root/a", "0riginal");  // same size, other bytes
  auto rebuilt = rt.rebuild();
  ASSERT_FALSE(rebuilt);
  EXPECT_NE(rebuilt.error().message.find("no longer rebuild its tar"), std::string::npos)
      << rebuilt.error().message;
  testing::write_file(rt.dir / "root/a", "short");
  rebuilt = rt.rebuild();
  ASSERT_FALSE(rebuilt);
  EXPECT_NE(rebuilt.error().message.find("shorter than when the layer was stored"), std::string::npos);
}

std::string gzip(const std::string& data) {
  StringWriter w;
  GzipWriter g(w, 1);
  EXPECT_TRUE(g.write(data));
  EXPECT_TRUE(g.finish());
  return w.take();
}

Result<std::string> drain(TarStream& s) {
  char buf[65536];
  for (;;) {
    auto n = s.read(buf, sizeof buf);
    if (!n) return n.error();
    if (*n == 0) return s.finish();
  }
}

TEST(TarStream, AGzipOfZerosIsNotAnEmptyImage) {
  std::string bomb = gzip(std::string(64 << 20, '\0'));
  StringReader in(bomb);
  TarStream s(in, TarLimits{});
  auto r = drain(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a tar archive"), std::string::npos) << r.error().message;
  EXPECT_LE(s.uncompressed_bytes(), (2 << 20) + (1 << 17));  // stopped early, not at 64 MiB
}

TEST(TarStream, AnExpansionPastTheRatioIsRefusedNamingTheKey) {
  std::string tar = TarBuilder().file("zeros", std::string(96 << 20, '\0')).finish();
  std::string gz = gzip(tar);
  StringReader in(gz);
  TarStream s(in, TarLimits{0, 100, 16 << 20});
  auto r = drain(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("max-expansion-ratio in daemon.json"), std::string::npos)
      << r.error().message;
  EXPECT_LT(s.uncompressed_bytes(), 32 << 20);
}

TEST(TarStream, ALayerPastTheSizeLimitIsRefusedNamingTheKey) {
  std::string tar = TarBuilder().file("data", std::string(3 << 20, 'x')).finish();
  StringReader in(tar);
  TarStream s(in, TarLimits{1 << 20, 0});
  auto r = drain(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("max-layer-size in daemon.json"), std::string::npos);
}

TEST(TarStream, AnOrdinaryCompressedTarPassesWithItsDiffId) {
  std::string tar = TarBuilder().file("a", std::string(200000, 'a')).finish();
  std::string gz = gzip(tar);
  StringReader in(gz);
  TarStream s(in, TarLimits{1 << 30, 100});
  auto r = drain(s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Sha256::of(tar));
  EXPECT_EQ(s.entries(), 1);
}

}  // namespace
}  // namespace berth::core::layer
