// The build context's in-memory index (see context_index.hpp).
#include "core/build/context_index.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <ctime>
#include <deque>

#include "core/build/dockerignore.hpp"
#include "core/common/sha256.hpp"
#include "core/layer/entry_writer.hpp"
#include "core/layer/safe_path.hpp"

namespace berth::core::build {
namespace {


// Texts kept from the stream (the Dockerfile, .dockerignore) up to this size; a larger one is
// read from the unpacked directory instead.
constexpr int64_t kMaxKeptText = int64_t{16} << 20;

// The extractor's parents: missing ones are made 0755 (as dockerd's untar does), and the
// context's own directory is 0700.
constexpr mode_t kImplicitDirMode = S_IFDIR | 0755;
constexpr mode_t kRootMode = S_IFDIR | 0700;

// Where each member's content starts in the uncompressed stream, in stream order (the framer
// sees the bytes before libarchive parses them, so these run ahead of the members).
class ContentOffsets final : public layer::TarFrameSink {
 public:
  struct At {
    std::string path;
    int64_t offset = 0;
    int64_t size = 0;
    bool usable = false;
  };
  Status meta(std::string_view bytes) override {
    pos_ += static_cast<int64_t>(bytes.size());
    return {};
  }
  Status entry(const layer::TarEntryInfo& e) override {
    queue_.push_back(At{e.path, pos_, e.size, e.content_is_file()});
    return {};
  }
  Status content(std::string_view bytes) override {
    pos_ += static_cast<int64_t>(bytes.size());
    return {};
  }
  // The offset of member `path`'s bytes; -1 when the framer did not see it as plain content.
  int64_t take(const std::string& path, int64_t size) {
    while (!queue_.empty()) {
      At at = std::move(queue_.front());
      queue_.pop_front();
      if (at.path == path) return at.usable && at.size == size ? at.offset : -1;
    }
    return -1;
  }

 private:
  int64_t pos_ = 0;
  std::deque<At> queue_;
};

// Writes what passes through: the uncompressed tar, as the index's offsets count it.
class SpoolingReader final : public Reader {
 public:
  SpoolingReader(Reader& in, Writer& out) : in_(in), out_(out) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    auto n = in_.read(buffer, capacity);
    if (!n || *n == 0) return n;
    if (auto s = out_.write(std::string_view(buffer, *n)); !s) return std::move(s).error().wrap("spool the build context");
    return n;
  }

 private:
  Reader& in_;
  Writer& out_;
};

}  // namespace

// One pass over the tar: members become nodes, regular files are hashed as they stream by.
class ContextIndex::Reading {
 public:
  Reading(ContextIndex& index, const std::string& dockerfile)
      : index_(index),
        dockerfile_(clean_relative(dockerfile)),
        writer_("extract archive", "build",
                [](const layer::TarMember& m, std::string_view step, int err) {
                  return errno_error("extract archive: entry \"" + m.name + "\": " + std::string(step), err);
                },
                [](const layer::TarMember&) { return std::nullopt; }) {}

  Status run(Reader& in, const layer::TarLimits& limits, Writer& spool) {
    layer::TarStream stream(in, limits, &offsets_);
    SpoolingReader spooling(stream, spool);
    BERTH_TRY_STATUS(writer_.read_members(spooling, [this](archive* a, archive_entry* e, bool* last) -> Status {
      auto m = writer_.read_member(e);
      if (!m) return std::move(m).error();
      return member(a, *m, last);
    }));
    if (auto end = stream.finish(); !end) return std::move(end).error().wrap("extract archive");
    return {};
  }

  std::map<std::string, std::string> texts;  // kept contents by cleaned path

 private:
  Status member(archive* a, const layer::TarMember& m, bool* last) {
    auto parts = layer::clean_path(m.name);
    if (!parts) {
      index_.exact_ = false;  // the extractor refuses it, in its own words
      return {};
    }
    if (parts->empty()) return {};  // "./": the context directory itself is left as it is
    std::string path = layer::join_path(*parts);
    texts.erase(path);
    Node* parent = parent_of(*parts);
    if (parent == nullptr) return {};
    const std::string& base = parts->back();
    auto existing = parent->children.find(base);
    bool is_dir = m.type == AE_IFDIR && !m.hardlink;
    if (m.hardlink) {
      // A second name for a file: the same node (a later member with either name replaces the
      // file, which leaves the other name with the old one, as separate copies do).
      // As the extractor reads a hard link's target: ".." stops at the root.
      auto target = layer::clamp_clean(m.linkname);
      if (target == *parts) return {};
      // As the extractor: what is in the way goes first (the target may be below it).
      if (existing != parent->children.end()) parent->children.erase(existing);
      const Node* t = target.empty() ? nullptr : index_.find(layer::join_path(target));
      if (t == nullptr || S_ISDIR(t->mode)) {
        index_.exact_ = false;
        return {};
      }
      auto copy = std::make_unique<Node>();
      copy->mode = t->mode;
      copy->size = t->size;
      copy->link = t->link;
      copy->digest = t->digest;
      copy->offset = t->offset;
      copy->mtime = t->mtime;
      parent->children[base] = std::move(copy);
      return {};
    }
    if (is_dir && existing != parent->children.end() && S_ISDIR(existing->second->mode)) {
      existing->second->mode = S_IFDIR | m.perm;  // a directory member merges into the directory
      return {};
    }
    if (existing != parent->children.end()) parent->children.erase(existing);
    auto node = std::make_unique<Node>();
    node->mtime = m.times.mtime.tv_sec;
    switch (m.type) {
      case AE_IFDIR:
        node->mode = S_IFDIR | m.perm;
        break;
      case AE_IFREG: {
        node->mode = S_IFREG | m.perm;
        node->size = m.size;
        node->offset = offsets_.take(path, m.size);
        if (node->offset < 0) index_.contents_complete_ = false;
        bool keep = (path == dockerfile_ || path == ".dockerignore") && m.size <= kMaxKeptText;
        std::string text;
        BERTH_TRY_STATUS(content(a, m, keep ? &text : nullptr, &node->digest, last));
        if (keep) texts[path] = std::move(text);
        break;
      }
      case AE_IFLNK:
        node->mode = S_IFLNK | 0777;
        node->link = m.linkname;
        break;
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
        node->mode = m.type | m.perm;
        break;
      default:
        return {};  // sockets and unknown types are not unpacked
    }
    parent->children[base] = std::move(node);
    return {};
  }

  // The directory that holds `parts`' last element, made as the extractor makes missing ones;
  // nullptr (and the index inexact) when the way goes through something else than directories.
  Node* parent_of(const layer::PathParts& parts) {
    Node* dir = index_.root_.get();
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto& slot = dir->children[parts[i]];
      if (!slot) {
        slot = std::make_unique<Node>();
        slot->mode = kImplicitDirMode;
        slot->mtime = now_;
      } else if (!S_ISDIR(slot->mode)) {
        index_.exact_ = false;
        return nullptr;
      }
      dir = slot.get();
    }
    return dir;
  }

  // Hashes a regular member's bytes (holes of a sparse one read as zeros), keeping them in
  // `text` when asked.
  Status content(archive* a, const layer::TarMember& m, std::string* text, std::string* digest, bool* last) {
    Sha256 h;
    int64_t pos = 0;
    auto feed = [&](std::string_view bytes) {
      h.update(bytes);
      if (text != nullptr) text->append(bytes);
      pos += static_cast<int64_t>(bytes.size());
    };
    auto zeros = [&](int64_t n) {
      static const std::string kZeros(1 << 16, '\0');
      while (n > 0) {
        int64_t step = std::min<int64_t>(n, static_cast<int64_t>(kZeros.size()));
        feed(std::string_view(kZeros.data(), static_cast<size_t>(step)));
        n -= step;
      }
    };
    auto end = writer_.read_content(a, m, [&](std::string_view data, int64_t offset) -> Status {
      if (offset > pos) zeros(offset - pos);
      feed(data);
      return {};
    }, last);
    if (!end) return std::move(end).error();
    if (pos < m.size) zeros(m.size - pos);
    *digest = h.hex_digest();
    return {};
  }

  ContextIndex& index_;
  ContentOffsets offsets_;
  int64_t now_ = ::time(nullptr);
  std::string dockerfile_;
  layer::EntryWriter writer_;
};

ContextIndex::ContextIndex() : root_(std::make_unique<Node>()), key_("<build context>") { root_->mode = kRootMode; }

Result<std::unique_ptr<ContextIndex>> ContextIndex::read(Reader& tar, const std::string& dockerfile,
                                                         const layer::TarLimits& limits, Writer& spool) {
  std::unique_ptr<ContextIndex> index(new ContextIndex());
  Reading reading(*index, dockerfile);
  BERTH_TRY_STATUS(reading.run(tar, limits, spool));
  std::string df = clean_relative(dockerfile);
  if (const Node* n = index->find(df); n != nullptr && S_ISREG(n->mode) && reading.texts.contains(df)) {
    index->dockerfile_text_ = reading.texts[df];
  }
  // Only a regular .dockerignore counts (as unpack_context reads it): a link is not followed.
  if (const Node* n = index->find(".dockerignore"); n != nullptr && S_ISREG(n->mode)) {
    if (!reading.texts.contains(".dockerignore")) {
      index->exact_ = false;  // over the size kept in memory
    } else {
      IgnoreMatcher ignore(reading.texts[".dockerignore"]);
      prune_ignored(*index, "", ignore, {df, ".dockerignore"}, [&](const std::string& rel) { index->erase(rel); });
    }
  }
  return index;
}

void ContextIndex::erase(const std::string& rel) {
  auto parts = split_parts(rel);
  if (parts.empty()) return;
  std::string name = parts.back();
  parts.pop_back();
  std::string parent;
  for (const auto& p : parts) parent = join_rel(parent, p);
  // A path that lstat() found: its parent is a directory node of this index.
  if (auto* dir = const_cast<Node*>(find(parent)); dir != nullptr) dir->children.erase(name);
}

const ContextIndex::Node* ContextIndex::find(const std::string& rel) const {
  const Node* node = root_.get();
  for (const auto& part : split_parts(rel)) {
    // Callers pass resolved paths: a link on the way is not followed here.
    if (!S_ISDIR(node->mode)) return nullptr;
    auto it = node->children.find(part);
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
  }
  return node;
}

std::optional<SourceStat> ContextIndex::lstat(const std::string& rel) const {
  const Node* n = find(rel);
  if (n == nullptr) return std::nullopt;
  return SourceStat{n->mode, S_ISREG(n->mode) ? n->size : 0, n->mtime};
}

std::string ContextIndex::read_link(const std::string& rel) const {
  const Node* n = find(rel);
  return n != nullptr ? n->link : std::string();
}

std::vector<std::string> ContextIndex::list(const std::string& rel) const {
  std::vector<std::string> names;
  const Node* n = find(rel);
  if (n == nullptr || !S_ISDIR(n->mode)) return names;
  for (const auto& [name, child] : n->children) names.push_back(name);
  return names;
}

Result<std::string> ContextIndex::file_digest(const std::string& rel) const {
  const Node* n = find(rel);
  if (n == nullptr || !S_ISREG(n->mode)) {
    return make_error(ErrorCode::kNotFound, "checksum " + rel + ": not a file in the build context");
  }
  return n->digest;
}

Result<std::unique_ptr<Reader>> ContextIndex::open(const std::string& rel) const {
  const Node* n = find(rel);
  if (n == nullptr || !S_ISREG(n->mode) || n->offset < 0 || spool_fd_ < 0) {
    return make_error(ErrorCode::kInternal, "read " + rel + ": not a file the build context's index holds");
  }
  return std::unique_ptr<Reader>(std::make_unique<FdRangeReader>(spool_fd_, n->offset, n->size));
}

}  // namespace berth::core::build
