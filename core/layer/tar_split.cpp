#include "core/layer/tar_split.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "core/common/sha256.hpp"
#include "core/layer/safe_path.hpp"

namespace berth::core::layer {
namespace {

// Record kinds. A split is "BTSPLIT1\n" then records:
//   'M' <varint n> <n bytes>               bytes of the tar kept as they are
//   'F' <varint ref> <varint size> <varint len> <path>   `size` bytes of the file at `path`
// A captures file holds <varint ref> <varint size> <bytes> for files replaced within the layer.
constexpr std::string_view kMagic = "BTSPLIT1\n";
constexpr size_t kMetaFlush = 64 * 1024;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

Error corrupt(const std::string& what) {
  return make_error(ErrorCode::kFailedPrecondition, "layer tar split is damaged: " + what);
}

// Reads exactly `n` bytes or fails.
Status read_exact(Reader& in, char* out, size_t n, const char* what) {
  while (n > 0) {
    auto got = in.read(out, n);
    if (!got) return std::move(got).error();
    if (*got == 0) return corrupt(std::string("cut short in ") + what);
    out += *got;
    n -= *got;
  }
  return {};
}

Result<uint64_t> get_varint(Reader& in, bool* eof = nullptr) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    char c;
    auto got = in.read(&c, 1);
    if (!got) return std::move(got).error();
    if (*got == 0) {
      if (eof != nullptr && shift == 0) {
        *eof = true;
        return uint64_t{0};
      }
      return corrupt("cut short in a number");
    }
    v |= static_cast<uint64_t>(static_cast<unsigned char>(c) & 0x7F) << shift;
    if ((static_cast<unsigned char>(c) & 0x80) == 0) return v;
  }
  return corrupt("number too long");
}

// Opens a file the applier created, resolved beneath the layer root as the applier resolved it.
Result<UniqueFd> open_layer_file(int root_fd, const std::string& path) {
  int fd = openat2_fd(root_fd, path, O_RDONLY | O_NOFOLLOW, kResolveBeneath);
  if (fd < 0) return path_error("open layer file", path, errno);
  return UniqueFd(fd);
}

}  // namespace

// ---- recording -------------------------------------------------------------------------------

SplitRecorder::SplitRecorder(Writer& out, std::filesystem::path captures_path)
    : out_(out), captures_path_(std::move(captures_path)) {}

SplitRecorder::~SplitRecorder() = default;

Status SplitRecorder::write_record(std::string_view record) {
  if (!started_) {
    started_ = true;
    BERTH_TRY_STATUS(out_.write(kMagic));
  }
  return out_.write(record);
}

Status SplitRecorder::flush_meta() {
  if (pending_meta_.empty()) return {};
  std::string head = "M";
  put_varint(head, pending_meta_.size());
  BERTH_TRY_STATUS(write_record(head));
  BERTH_TRY_STATUS(write_record(pending_meta_));
  pending_meta_.clear();
  return {};
}

Status SplitRecorder::meta(std::string_view bytes) {
  tar_size_ += static_cast<int64_t>(bytes.size());
  pending_meta_.append(bytes);
  if (pending_meta_.size() >= kMetaFlush) return flush_meta();
  return {};
}

Status SplitRecorder::entry(const TarEntryInfo& e) {
  Seen seen{e.path, -1, false};
  size_t slash = e.path.rfind('/');
  std::string_view base = slash == std::string::npos ? std::string_view(e.path)
                                                     : std::string_view(e.path).substr(slash + 1);
  if (base.rfind(".wh.", 0) == 0 && base.rfind(".wh..wh.", 0) != 0) {
    // A whiteout removes its target: record the target's path for before_apply.
    seen.path = (slash == std::string::npos ? std::string() : e.path.substr(0, slash + 1)) +
                std::string(base.substr(4));
    seen.whiteout = true;
  }
  content_left_ = 0;
  if (e.content_is_file() && e.size > 0) {
    BERTH_TRY_STATUS(flush_meta());
    seen.ref = next_ref_++;
    std::string rec = "F";
    put_varint(rec, static_cast<uint64_t>(seen.ref));
    put_varint(rec, static_cast<uint64_t>(e.size));
    put_varint(rec, e.path.size());
    rec += e.path;
    BERTH_TRY_STATUS(write_record(rec));
    content_left_ = e.size;
  }
  ahead_.push_back(std::move(seen));
  return {};
}

Status SplitRecorder::content(std::string_view bytes) {
  if (content_left_ > 0) {
    // The file's own bytes: they are in the snapshot, not in the split.
    tar_size_ += static_cast<int64_t>(bytes.size());
    content_left_ -= static_cast<int64_t>(bytes.size());
    return {};
  }
  return meta(bytes);  // content of an entry that is not a plain file: kept as it is
}

Status SplitRecorder::before_apply(int64_t index, const std::string& path, int root_fd) {
  while (!ahead_.empty() && first_ahead_ < index) {
    // Entries the applier skipped (libarchive and the framer may disagree on exotic headers).
    const Seen& s = ahead_.front();
    if (s.ref >= 0) applied_refs_[s.path] = s.ref;
    ahead_.pop_front();
    ++first_ahead_;
  }
  if (ahead_.empty() || first_ahead_ != index) return {};
  Seen s = std::move(ahead_.front());
  ahead_.pop_front();
  ++first_ahead_;
  // Only when both readers agree on the entry is its file known to be ours.
  std::string target = s.whiteout ? s.path : path;
  if (!s.whiteout && s.path != path) return {};
  if (auto it = applied_refs_.find(target); it != applied_refs_.end()) {
    // An earlier entry of this layer wrote `target`; this one replaces or removes it.
    int64_t ref = it->second;
    applied_refs_.erase(it);
    BERTH_TRY_STATUS(capture(ref, target, root_fd));
  }
  if (s.ref >= 0) applied_refs_[s.path] = s.ref;
  return {};
}

Status SplitRecorder::capture(int64_t ref, const std::string& path, int root_fd) {
  auto fd = open_layer_file(root_fd, path);
  if (!fd) return std::move(fd).error().wrap("keep replaced file of the layer");
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode)) return {};  // not a file: nothing to keep
  if (!captures_) {
    int cfd = ::open(captures_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (cfd < 0) return errno_error("create " + captures_path_.string());
    captures_fd_ = UniqueFd(cfd);
    captures_ = std::make_unique<FdWriter>(cfd);
  }
  std::string head;
  put_varint(head, static_cast<uint64_t>(ref));
  put_varint(head, static_cast<uint64_t>(st.st_size));
  BERTH_TRY_STATUS(captures_->write(head));
  std::string buf(1 << 16, '\0');
  int64_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::read(fd->get(), buf.data(), static_cast<size_t>(std::min<int64_t>(left, buf.size())));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_error("read replaced file " + path);
    BERTH_TRY_STATUS(captures_->write(std::string_view(buf.data(), static_cast<size_t>(n))));
    left -= n;
  }
  return {};
}

Status SplitRecorder::finish() {
  BERTH_TRY_STATUS(flush_meta());
  if (!started_) BERTH_TRY_STATUS(write_record(""));  // an empty tar still gets its magic
  if (captures_fd_ && ::fsync(captures_fd_.get()) != 0) return errno_error("fsync captures");
  return {};
}

// ---- replay ----------------------------------------------------------------------------------

struct SplitReplay::Impl {
  Reader& split;
  int root_fd;
  std::optional<std::filesystem::path> captures_path;
  std::string diff_id;
  Sha256 hash;
  bool started = false;
  bool done = false;
  // The record being emitted.
  std::string meta;    // bytes of an 'M' record not yet handed out
  size_t meta_pos = 0;
  UniqueFd file;       // an 'F' record's source
  int64_t file_left = 0;
  std::string file_path;
  // ref → offset of its content in the captures file (loaded on first need).
  std::optional<std::map<int64_t, std::pair<int64_t, int64_t>>> captures;
  UniqueFd captures_fd;

  Impl(Reader& s, int root, std::optional<std::filesystem::path> c, std::string d)
      : split(s), root_fd(root), captures_path(std::move(c)), diff_id(std::move(d)) {}

  Status load_captures() {
    captures.emplace();
    if (!captures_path) return {};
    int fd = ::open(captures_path->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? Status{} : errno_error("open " + captures_path->string());
    captures_fd = UniqueFd(fd);
    FdReader r(fd);
    for (;;) {
      bool eof = false;
      auto ref = get_varint(r, &eof);
      if (!ref) return std::move(ref).error();
      if (eof) break;
      auto size = get_varint(r);
      if (!size) return std::move(size).error();
      off_t offset = ::lseek(fd, 0, SEEK_CUR);
      (*captures)[static_cast<int64_t>(*ref)] = {offset, static_cast<int64_t>(*size)};
      if (::lseek(fd, static_cast<off_t>(*size), SEEK_CUR) < 0) return errno_error("seek captures");
    }
    return {};
  }

  // Opens the source of file reference `ref`: its capture when the layer replaced it later.
  Status open_source(int64_t ref, const std::string& path, int64_t size) {
    if (!captures) BERTH_TRY_STATUS(load_captures());
    if (auto it = captures->find(ref); it != captures->end()) {
      if (it->second.second != size) return corrupt("capture of " + path + " has the wrong size");
      int fd = ::open(captures_path->c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return errno_error("open " + captures_path->string());
      if (::lseek(fd, static_cast<off_t>(it->second.first), SEEK_SET) < 0) {
        ::close(fd);
        return errno_error("seek captures");
      }
      file = UniqueFd(fd);
    } else {
      auto fd = open_layer_file(root_fd, path);
      if (!fd) return std::move(fd).error();
      file = std::move(*fd);
    }
    file_left = size;
    file_path = path;
    return {};
  }

  // Loads the next record; false at the end of the split.
  Result<bool> next() {
    char kind = 0;
    auto got = split.read(&kind, 1);
    if (!got) return std::move(got).error();
    if (*got == 0) return false;
    if (kind == 'M') {
      auto n = get_varint(split);
      if (!n) return std::move(n).error();
      if (*n > (64u << 20)) return corrupt("record too large");
      meta.assign(*n, '\0');
      BERTH_TRY_STATUS(read_exact(split, meta.data(), meta.size(), "a record"));
      meta_pos = 0;
      return true;
    }
    if (kind == 'F') {
      auto ref = get_varint(split);
      if (!ref) return std::move(ref).error();
      auto size = get_varint(split);
      if (!size) return std::move(size).error();
      auto len = get_varint(split);
      if (!len) return std::move(len).error();
      if (*len > 65536) return corrupt("path too long");
      std::string path(*len, '\0');
      BERTH_TRY_STATUS(read_exact(split, path.data(), path.size(), "a path"));
      BERTH_TRY_STATUS(open_source(static_cast<int64_t>(*ref), path, static_cast<int64_t>(*size)));
      return true;
    }
    return corrupt("unknown record kind " + std::to_string(static_cast<unsigned char>(kind)));
  }

  Result<size_t> read(char* out, size_t capacity) {
    if (!started) {
      started = true;
      char magic[kMagic.size()];
      BERTH_TRY_STATUS(read_exact(split, magic, sizeof magic, "its header"));
      if (std::string_view(magic, sizeof magic) != kMagic) return corrupt("unknown format");
    }
    for (;;) {
      if (done) return size_t{0};
      if (meta_pos < meta.size()) {
        size_t n = std::min(capacity, meta.size() - meta_pos);
        std::memcpy(out, meta.data() + meta_pos, n);
        meta_pos += n;
        hash.update(std::string_view(out, n));
        return n;
      }
      if (file_left > 0) {
        ssize_t n = ::read(file.get(), out, static_cast<size_t>(std::min<int64_t>(file_left, capacity)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read layer file " + file_path);
        if (n == 0) {
          return make_error(ErrorCode::kFailedPrecondition,
                            "layer file " + file_path + " is shorter than when the layer was stored");
        }
        file_left -= n;
        if (file_left == 0) file.reset();
        hash.update(std::string_view(out, static_cast<size_t>(n)));
        return static_cast<size_t>(n);
      }
      auto more = next();
      if (!more) return std::move(more).error();
      if (!*more) {
        done = true;
        if (std::string got = hash.digest(); got != diff_id) {
          return make_error(ErrorCode::kFailedPrecondition,
                            "the layer's files no longer rebuild its tar (" + got + " instead of " +
                                diff_id + "): its snapshot was changed on disk");
        }
        return size_t{0};
      }
    }
  }
};

SplitReplay::SplitReplay(Reader& split, int root_fd, std::optional<std::filesystem::path> captures,
                         std::string diff_id)
    : impl_(std::make_unique<Impl>(split, root_fd, std::move(captures), std::move(diff_id))) {}

SplitReplay::~SplitReplay() = default;

Result<size_t> SplitReplay::read(char* buffer, size_t capacity) { return impl_->read(buffer, capacity); }

}  // namespace berth::core::layer
