#include "core/store/content_store.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/common/fs.hpp"
#include "core/common/sha256.hpp"

namespace berth::core::store {
namespace {

namespace stdfs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (stdfs::temp_directory_path() / "berth-store-test-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    stdfs::remove_all(path_, ec);
  }
  const stdfs::path& path() const { return path_; }

 private:
  stdfs::path path_;
};

size_t count_entries(const stdfs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : stdfs::directory_iterator(dir)) ++n;
  return n;
}

std::string pseudo_random(size_t size, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = ContentStore::open(dir_.path() / "content");
    ASSERT_TRUE(opened) << opened.error().message;
    store_.emplace(std::move(*opened));
  }
  stdfs::path ingest_dir() const { return dir_.path() / "content" / "ingest"; }
  stdfs::path blob_dir() const { return dir_.path() / "content" / "blobs" / "sha256"; }

  TempDir dir_;
  std::optional<ContentStore> store_;
};

TEST_F(ContentStoreTest, OpenCreatesLayout) {
  EXPECT_TRUE(stdfs::is_directory(blob_dir()));
  EXPECT_TRUE(stdfs::is_directory(ingest_dir()));
  auto listed = store_->list();
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
}

TEST_F(ContentStoreTest, PutReadRoundTrip) {
  const std::string data = R"({"architecture":"amd64","os":"linux"})";
  auto digest = store_->put(data);
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*digest, Sha256::of(data));

  EXPECT_TRUE(store_->exists(*digest));
  auto read = store_->read(*digest);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, data);

  auto size = store_->size(*digest);
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, static_cast<int64_t>(data.size()));

  auto path = store_->path(*digest);
  ASSERT_TRUE(path);
  EXPECT_EQ(*path, blob_dir() / digest->substr(7));
  struct stat st {};
  ASSERT_EQ(::stat(path->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444u) << "blobs are stored read-only";

  auto fd = store_->open_blob(*digest);
  ASSERT_TRUE(fd);
  char buf[128] = {};
  ASSERT_EQ(::read(fd->get(), buf, sizeof buf), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(std::string(buf, data.size()), data);

  EXPECT_TRUE(store_->verify(*digest));
  auto listed = store_->list();
  ASSERT_TRUE(listed);
  EXPECT_EQ(*listed, std::vector<std::string>{*digest});
  EXPECT_EQ(count_entries(ingest_dir()), 0u);

  ASSERT_TRUE(store_->remove(*digest));
  EXPECT_FALSE(store_->exists(*digest));
  auto again = store_->remove(*digest);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  auto missing = store_->read(*digest);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find(*digest), std::string::npos);
}

TEST_F(ContentStoreTest, EmptyBlob) {
  auto digest = store_->put("");
  ASSERT_TRUE(digest);
  EXPECT_EQ(*digest, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto read = store_->read(*digest);
  ASSERT_TRUE(read);
  EXPECT_TRUE(read->empty());
}

TEST_F(ContentStoreTest, PutSameContentTwiceIsIdempotent) {
  auto a = store_->put("same");
  auto b = store_->put("same");
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(count_entries(blob_dir()), 1u);
  EXPECT_EQ(count_entries(ingest_dir()), 0u);
}

TEST_F(ContentStoreTest, StreamingIngestWithExpectedDigestAndSize) {
  const std::string data = pseudo_random(300000, 1);
  auto ingest = store_->begin();
  ASSERT_TRUE(ingest);
  EXPECT_EQ(count_entries(ingest_dir()), 1u) << "a temp file exists while ingesting";
  for (size_t off = 0; off < data.size(); off += 7777) {
    ASSERT_TRUE(ingest->write(std::string_view(data).substr(off, 7777)));
  }
  EXPECT_EQ(ingest->written(), static_cast<int64_t>(data.size()));
  auto digest = ingest->commit(Sha256::of(data), static_cast<int64_t>(data.size()));
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*digest, Sha256::of(data));
  EXPECT_EQ(*store_->read(*digest), data);
  EXPECT_EQ(count_entries(ingest_dir()), 0u);

  // The ingest is finished: more writes or a second commit are refused.
  EXPECT_FALSE(ingest->write("x"));
  auto twice = ingest->commit();
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(ContentStoreTest, DigestMismatchStoresNothing) {
  const std::string wrong = Sha256::of("something else");
  auto ingest = store_->begin();
  ASSERT_TRUE(ingest);
  ASSERT_TRUE(ingest->write("actual content"));
  auto digest = ingest->commit(wrong, std::nullopt);
  ASSERT_FALSE(digest);
  EXPECT_EQ(digest.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(digest.error().message,
            "digest mismatch: expected " + wrong + ", got " + Sha256::of("actual content"));
  EXPECT_EQ(count_entries(blob_dir()), 0u);
  EXPECT_EQ(count_entries(ingest_dir()), 0u);
  EXPECT_FALSE(store_->exists(Sha256::of("actual content")));
  EXPECT_FALSE(store_->exists(wrong));
}

TEST_F(ContentStoreTest, SizeMismatchStoresNothing) {
  auto ingest = store_->begin();
  ASSERT_TRUE(ingest);
  ASSERT_TRUE(ingest->write("12345"));
  auto digest = ingest->commit(Sha256::of("12345"), 6);
  ASSERT_FALSE(digest);
  EXPECT_EQ(digest.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(digest.error().message, "size mismatch: expected 6, got 5");
  EXPECT_EQ(count_entries(blob_dir()), 0u);
  EXPECT_EQ(count_entries(ingest_dir()), 0u);
}

TEST_F(ContentStoreTest, InvalidExpectedDigestIsRefused) {
  auto ingest = store_->begin();
  ASSERT_TRUE(ingest);
  ASSERT_TRUE(ingest->write("x"));
  auto digest = ingest->commit("sha256:../../etc/passwd", std::nullopt);
  ASSERT_FALSE(digest);
  EXPECT_EQ(digest.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(count_entries(blob_dir()), 0u);
  EXPECT_EQ(count_entries(ingest_dir()), 0u);
}

TEST_F(ContentStoreTest, AbortAndDestructorRemoveTempFiles) {
  {
    auto ingest = store_->begin();
    ASSERT_TRUE(ingest);
    ASSERT_TRUE(ingest->write("abandoned"));
    EXPECT_EQ(count_entries(ingest_dir()), 1u);
  }
  EXPECT_EQ(count_entries(ingest_dir()), 0u);

  auto ingest = store_->begin();
  ASSERT_TRUE(ingest);
  ASSERT_TRUE(ingest->write("aborted"));
  ingest->abort();
  ingest->abort();
  EXPECT_EQ(count_entries(ingest_dir()), 0u);
  EXPECT_FALSE(ingest->commit());
  EXPECT_EQ(count_entries(blob_dir()), 0u);

  // Moving an ingest transfers ownership of the temp file; only the last owner removes it.
  auto first = store_->begin();
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->write("moved "));
  Ingest moved = std::move(*first);
  ASSERT_TRUE(moved.write("content"));
  auto digest = moved.commit();
  ASSERT_TRUE(digest);
  EXPECT_EQ(*store_->read(*digest), "moved content");
}

TEST_F(ContentStoreTest, IngestFromReader) {
  const std::string data = pseudo_random(200001, 2);
  StringReader reader(data);
  auto digest = store_->ingest(reader, Sha256::of(data), static_cast<int64_t>(data.size()));
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*store_->read(*digest), data);

  StringReader bad(data);
  auto refused = store_->ingest(bad, Sha256::of("other"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(count_entries(ingest_dir()), 0u);
}

TEST_F(ContentStoreTest, ConcurrentIdenticalIngests) {
  const std::string data = pseudo_random(1 << 20, 3);
  const std::string expected = Sha256::of(data);
  constexpr int kThreads = 8;
  std::vector<std::string> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto ingest = store_->begin();
      if (!ingest) return;
      for (size_t off = 0; off < data.size(); off += 65536) {
        if (!ingest->write(std::string_view(data).substr(off, 65536))) return;
      }
      auto digest = ingest->commit(expected, static_cast<int64_t>(data.size()));
      if (digest) results[static_cast<size_t>(i)] = *digest;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r, expected);
  EXPECT_EQ(count_entries(blob_dir()), 1u);
  EXPECT_EQ(count_entries(ingest_dir()), 0u);
  EXPECT_TRUE(store_->verify(expected));
}

TEST_F(ContentStoreTest, ConcurrentDifferentIngests) {
  constexpr int kThreads = 6;
  std::vector<std::string> payloads;
  for (int i = 0; i < kThreads; ++i) payloads.push_back(pseudo_random(100000 + i, 10 + i));
  std::vector<std::string> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto digest = store_->put(payloads[static_cast<size_t>(i)]);
      if (digest) results[static_cast<size_t>(i)] = *digest;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(results[static_cast<size_t>(i)], Sha256::of(payloads[static_cast<size_t>(i)]));
    EXPECT_EQ(*store_->read(results[static_cast<size_t>(i)]), payloads[static_cast<size_t>(i)]);
  }
  auto listed = store_->list();
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), static_cast<size_t>(kThreads));
}

TEST(ContentStoreOpenTest, CrashLeftoversAreCleanedOnOpen) {
  TempDir dir;
  auto root = dir.path() / "content";
  std::string kept;
  {
    auto store = ContentStore::open(root);
    ASSERT_TRUE(store);
    auto digest = store->put("survives a restart");
    ASSERT_TRUE(digest);
    kept = *digest;
    // Simulate a crash: an ingest that never committed nor aborted, and odd leftovers.
    auto ingest = store->begin();
    ASSERT_TRUE(ingest);
    ASSERT_TRUE(ingest->write("half written"));
    for (const auto& entry : stdfs::directory_iterator(root / "ingest")) {
      stdfs::copy_file(entry.path(), root / "ingest" / "copy-of-crashed");
    }
    stdfs::create_directories(root / "ingest" / "stale-dir" / "sub");
    std::ofstream(root / "ingest" / "stale-dir" / "sub" / "f") << "x";
    // A non-digest file in the blob directory is not listed as a blob.
    std::ofstream(root / "blobs" / "sha256" / "not-a-digest") << "x";
  }
  ASSERT_EQ(count_entries(root / "ingest"), 2u) << "the destructor removed only its own temp";
  auto store = ContentStore::open(root);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(count_entries(root / "ingest"), 0u);
  EXPECT_TRUE(store->exists(kept));
  EXPECT_EQ(*store->read(kept), "survives a restart");
  auto listed = store->list();
  ASSERT_TRUE(listed);
  EXPECT_EQ(*listed, std::vector<std::string>{kept});
}

TEST_F(ContentStoreTest, InvalidDigestsAreRefusedBeforeTouchingTheFilesystem) {
  // A canary that "sha256:../../canary" would reach if the digest were concatenated blindly.
  auto canary = dir_.path() / "content" / "canary";
  std::ofstream(canary) << "keep me";
  const std::string hex64(64, 'a');
  const std::vector<std::string> bad = {
      "",
      "sha256:",
      "sha256:../../etc",
      "sha256:../../canary",
      "sha256:../../../../../../etc/passwd",
      "sha256:" + hex64.substr(0, 63),
      "sha256:" + hex64 + "a",
      "sha256:" + std::string(64, 'A'),
      "sha256:" + std::string(63, 'a') + "g",
      "sha256:" + hex64 + "/..",
      "sha512:" + hex64,
      "SHA256:" + hex64,
      hex64,
      "sha256/" + hex64,
      "sha256:" + hex64.substr(0, 32) + "/" + hex64.substr(0, 31),
  };
  for (const auto& digest : bad) {
    SCOPED_TRACE(digest);
    EXPECT_FALSE(store_->exists(digest));
    auto code = [](const auto& result) { return result ? ErrorCode::kOk : result.error().code; };
    EXPECT_EQ(code(store_->path(digest)), ErrorCode::kInvalidArgument);
    EXPECT_EQ(code(store_->read(digest)), ErrorCode::kInvalidArgument);
    EXPECT_EQ(code(store_->open_blob(digest)), ErrorCode::kInvalidArgument);
    EXPECT_EQ(code(store_->size(digest)), ErrorCode::kInvalidArgument);
    EXPECT_EQ(code(store_->remove(digest)), ErrorCode::kInvalidArgument);
    EXPECT_EQ(code(store_->verify(digest)), ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(stdfs::exists(canary));
  EXPECT_EQ(*fs::read_file(canary), "keep me");
}

TEST_F(ContentStoreTest, VerifyDetectsCorruption) {
  auto digest = store_->put("pristine");
  ASSERT_TRUE(digest);
  ASSERT_TRUE(store_->verify(*digest));
  auto path = *store_->path(*digest);
  ::chmod(path.c_str(), 0644);
  std::ofstream(path, std::ios::trunc) << "tampered";
  auto verified = store_->verify(*digest);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(verified.error().message.find(Sha256::of("tampered")), std::string::npos);

  auto absent = store_->verify(Sha256::of("absent"));
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, ErrorCode::kNotFound);
}

TEST_F(ContentStoreTest, LargeStreamedIngest) {
  constexpr size_t kChunk = 1 << 20;
  constexpr size_t kChunks = 50;
  const std::string chunk = pseudo_random(kChunk, 4);
  Sha256 expected_hash;
  auto ingest = store_->begin();
  ASSERT_TRUE(ingest);
  for (size_t i = 0; i < kChunks; ++i) {
    // Vary every chunk so a bug that repeats or drops a chunk changes the digest.
    std::string piece = chunk;
    piece[i] = static_cast<char>(i);
    expected_hash.update(piece);
    ASSERT_TRUE(ingest->write(piece));
  }
  const std::string expected = expected_hash.digest();
  auto digest = ingest->commit(expected, static_cast<int64_t>(kChunk * kChunks));
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*digest, expected);
  EXPECT_EQ(*store_->size(*digest), static_cast<int64_t>(kChunk * kChunks));
  EXPECT_TRUE(store_->verify(*digest));
  EXPECT_EQ(count_entries(ingest_dir()), 0u);
}

}  // namespace
}  // namespace berth::core::store
