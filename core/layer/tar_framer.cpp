#include "core/layer/tar_framer.hpp"

#include <algorithm>

#include "core/layer/safe_path.hpp"

namespace berth::core::layer {
namespace {

constexpr size_t kBlock = 512;
// pax and GNU long-name records larger than this are not metadata anyone writes.
constexpr int64_t kMaxMetaRecord = 1 << 20;

Error damaged(int64_t offset, const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument,
                    "not a valid tar archive: " + what + " at byte " + std::to_string(offset));
}

std::string_view field(std::string_view block, size_t at, size_t len) {
  std::string_view f = block.substr(at, len);
  size_t nul = f.find('\0');
  return nul == std::string_view::npos ? f : f.substr(0, nul);
}

// Octal with optional spaces/NULs around it, or GNU base-256 (first byte's high bit).
bool parse_number(std::string_view raw, int64_t* out) {
  if (!raw.empty() && (static_cast<unsigned char>(raw[0]) & 0x80) != 0) {
    if (static_cast<unsigned char>(raw[0]) == 0xFF) return false;  // negative
    uint64_t v = static_cast<unsigned char>(raw[0]) & 0x7F;
    for (size_t i = 1; i < raw.size(); ++i) {
      if (v > (uint64_t{1} << 55)) return false;
      v = (v << 8) | static_cast<unsigned char>(raw[i]);
    }
    *out = static_cast<int64_t>(v);
    return true;
  }
  size_t i = 0;
  while (i < raw.size() && raw[i] == ' ') ++i;
  uint64_t v = 0;
  bool digits = false;
  for (; i < raw.size() && raw[i] >= '0' && raw[i] <= '7'; ++i) {
    if (v > (uint64_t{1} << 60)) return false;
    v = v * 8 + static_cast<uint64_t>(raw[i] - '0');
    digits = true;
  }
  for (; i < raw.size(); ++i) {
    if (raw[i] != ' ' && raw[i] != '\0') return false;
  }
  *out = digits ? static_cast<int64_t>(v) : 0;
  return true;
}

bool checksum_ok(std::string_view block) {
  int64_t expected = 0;
  if (!parse_number(block.substr(148, 8), &expected)) return false;
  int64_t unsigned_sum = 0, signed_sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    bool in_field = i >= 148 && i < 156;
    unsigned char u = in_field ? ' ' : static_cast<unsigned char>(block[i]);
    unsigned_sum += u;
    signed_sum += in_field ? ' ' : static_cast<signed char>(block[i]);
  }
  return expected == unsigned_sum || expected == signed_sum;  // old tars summed signed bytes
}

bool all_zero(std::string_view block) {
  return std::all_of(block.begin(), block.end(), [](char c) { return c == '\0'; });
}

bool is_meta_type(char type) {
  return type == 'x' || type == 'g' || type == 'X' || type == 'L' || type == 'K';
}

int64_t padding_for(int64_t size) {
  return (kBlock - static_cast<size_t>(size % kBlock)) % kBlock;
}

}  // namespace

std::string clean_entry_path(std::string_view raw) {
  auto parts = clean_path(raw);
  // A name climbing out of the root names nothing the applier will create (it refuses it).
  return parts ? join_path(*parts) : std::string();
}

bool TarEntryInfo::content_is_file() const {
  if ((type != '0' && type != '7') || sparse || path.empty()) return false;
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string::npos ? std::string_view(path)
                                                     : std::string_view(path).substr(slash + 1);
  return base.rfind(".wh.", 0) != 0;  // whiteouts are never files on disk
}

Status TarFramer::emit_meta(std::string_view bytes) {
  if (sink_ != nullptr && !bytes.empty()) return sink_->meta(bytes);
  return {};
}

Status TarFramer::feed(std::string_view data) {
  while (!data.empty()) {
    switch (state_) {
      case State::kHeader: {
        size_t take = std::min(kBlock - block_.size(), data.size());
        block_.append(data.substr(0, take));
        data.remove_prefix(take);
        offset_ += static_cast<int64_t>(take);
        if (block_.size() == kBlock) {
          std::string block = std::move(block_);
          block_.clear();
          BERTH_TRY_STATUS(header_block(block));
        }
        break;
      }
      case State::kMetaRecord: {
        size_t take = static_cast<size_t>(std::min<int64_t>(left_, static_cast<int64_t>(data.size())));
        record_.append(data.substr(0, take));
        BERTH_TRY_STATUS(emit_meta(data.substr(0, take)));
        data.remove_prefix(take);
        offset_ += static_cast<int64_t>(take);
        left_ -= static_cast<int64_t>(take);
        if (left_ == 0) BERTH_TRY_STATUS(meta_record_done());  // sets the next state
        break;
      }
      case State::kContent: {
        size_t take = static_cast<size_t>(std::min<int64_t>(left_, static_cast<int64_t>(data.size())));
        if (sink_ != nullptr) BERTH_TRY_STATUS(sink_->content(data.substr(0, take)));
        data.remove_prefix(take);
        offset_ += static_cast<int64_t>(take);
        left_ -= static_cast<int64_t>(take);
        if (left_ == 0) state_ = padding_ > 0 ? State::kPadding : State::kHeader;
        break;
      }
      case State::kPadding: {
        size_t take = static_cast<size_t>(std::min<int64_t>(padding_, static_cast<int64_t>(data.size())));
        BERTH_TRY_STATUS(emit_meta(data.substr(0, take)));
        data.remove_prefix(take);
        offset_ += static_cast<int64_t>(take);
        padding_ -= static_cast<int64_t>(take);
        if (padding_ == 0) state_ = State::kHeader;
        break;
      }
      case State::kTrailer: {
        trailer_ += static_cast<int64_t>(data.size());
        if (trailer_ > kMaxTrailer) {
          return make_error(ErrorCode::kInvalidArgument,
                            "not a tar archive: more than 1 MiB follows the end of the archive "
                            "(at byte " + std::to_string(offset_) + ")");
        }
        BERTH_TRY_STATUS(emit_meta(data));
        offset_ += static_cast<int64_t>(data.size());
        data = {};
        break;
      }
    }
  }
  return {};
}

Status TarFramer::header_block(std::string_view block) {
  int64_t at = offset_ - static_cast<int64_t>(kBlock);
  if (all_zero(block)) {
    // The end-of-archive marker; what follows (its second block, record padding) is trailer.
    state_ = State::kTrailer;
    trailer_ = 0;
    return emit_meta(block);
  }
  if (!checksum_ok(block)) return damaged(at, "header checksum mismatch");
  int64_t size = 0;
  if (!parse_number(block.substr(124, 12), &size)) return damaged(at, "invalid entry size");
  char type = block[156] == '\0' ? '0' : block[156];
  BERTH_TRY_STATUS(emit_meta(block));
  // Old GNU sparse headers may be followed by extension blocks; count them as header bytes.
  if (type == 'S' && block[482] != '\0') {
    // Extension blocks are read as "meta records" of one block each until one says "last".
    record_type_ = 'S';
    record_.clear();
    left_ = kBlock;
    padding_ = 0;
    state_ = State::kMetaRecord;
    next_sparse_ = true;
    next_size_ = next_size_ >= 0 ? next_size_ : size;
    return {};
  }
  if (next_size_ >= 0 && !is_meta_type(type)) size = next_size_;
  if (is_meta_type(type)) {
    if (size > kMaxMetaRecord) return damaged(at, "metadata record of " + std::to_string(size) + " bytes");
    record_type_ = type;
    record_.clear();
    left_ = size;
    padding_ = padding_for(size);
    state_ = State::kMetaRecord;
    if (size == 0) return meta_record_done();
    return {};
  }
  TarEntryInfo e;
  e.type = type;
  e.size = size;
  e.sparse = next_sparse_ || type == 'S';
  if (!next_path_.empty()) {
    e.path = clean_entry_path(next_path_);
  } else {
    std::string name(field(block, 0, 100));
    bool posix = block.substr(257, 6) == std::string_view("ustar\0", 6);
    std::string_view prefix = posix ? field(block, 345, 155) : std::string_view();
    e.path = clean_entry_path(prefix.empty() ? name : std::string(prefix) + "/" + name);
  }
  next_path_.clear();
  next_size_ = -1;
  next_sparse_ = false;
  ++entries_;
  if (sink_ != nullptr) BERTH_TRY_STATUS(sink_->entry(e));
  left_ = size;
  padding_ = padding_for(size);
  state_ = size > 0 ? State::kContent : (padding_ > 0 ? State::kPadding : State::kHeader);
  return {};
}

Status TarFramer::meta_record_done() {
  if (record_type_ == 'S') {
    // A GNU sparse extension block: another follows while its "isextended" byte is set.
    if (record_.size() == kBlock && record_[504] != '\0') {
      record_.clear();
      left_ = kBlock;
      state_ = State::kMetaRecord;
      return {};
    }
    TarEntryInfo e;
    e.type = 'S';
    e.size = next_size_;
    e.sparse = true;
    next_size_ = -1;
    next_sparse_ = false;
    ++entries_;
    if (sink_ != nullptr) BERTH_TRY_STATUS(sink_->entry(e));
    left_ = e.size;
    padding_ = padding_for(e.size);
    state_ = left_ > 0 ? State::kContent : (padding_ > 0 ? State::kPadding : State::kHeader);
    return {};
  }
  if (record_type_ == 'L') {
    next_path_ = std::string(field(record_, 0, record_.size()));
  } else if (record_type_ == 'x' || record_type_ == 'X') {
    // "<len> <key>=<value>\n" records; only what changes the next entry's framing or name.
    std::string_view rest = record_;
    while (!rest.empty()) {
      size_t space = rest.find(' ');
      if (space == std::string_view::npos) break;
      int64_t len = 0;
      for (size_t i = 0; i < space; ++i) {
        if (rest[i] < '0' || rest[i] > '9' || len > kMaxMetaRecord) return damaged(offset_, "invalid pax record");
        len = len * 10 + (rest[i] - '0');
      }
      if (len <= static_cast<int64_t>(space) + 1 || len > static_cast<int64_t>(rest.size())) {
        return damaged(offset_, "invalid pax record length");
      }
      std::string_view kv = rest.substr(space + 1, static_cast<size_t>(len) - space - 2);
      rest.remove_prefix(static_cast<size_t>(len));
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
      if (key == "path") {
        next_path_ = std::string(value);
      } else if (key == "size") {
        int64_t v = 0;
        for (char c : value) {
          if (c < '0' || c > '9' || v > (int64_t{1} << 55)) return damaged(offset_, "invalid pax size");
          v = v * 10 + (c - '0');
        }
        next_size_ = v;
      } else if (key.rfind("GNU.sparse.", 0) == 0) {
        next_sparse_ = true;
      }
    }
  }
  // 'g' (global) and 'K' (long link name) change neither framing nor the next entry's path.
  state_ = padding_ > 0 ? State::kPadding : State::kHeader;
  return {};
}

Status TarFramer::finish() {
  if (state_ == State::kContent || state_ == State::kMetaRecord ||
      (state_ == State::kHeader && !block_.empty())) {
    return make_error(ErrorCode::kInvalidArgument,
                      "not a valid tar archive: it ends inside an entry (at byte " +
                          std::to_string(offset_) + ")");
  }
  return {};
}

}  // namespace berth::core::layer
