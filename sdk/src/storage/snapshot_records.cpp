#include "berth/sdk/storage/snapshot_records.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <boost/json.hpp>
#include <cerrno>
#include <string>

#include "berth/sdk/fs.hpp"
#include "berth/sdk/storage/durable_files.hpp"

namespace berth::sdk::storage {
namespace {

namespace json = boost::json;

// Bumped when the record shape changes incompatibly; older drivers refuse newer records.
constexpr int64_t kRecordVersion = 1;
constexpr std::string_view kSuffix = ".json";
// The temp name of the writer before berth/sdk/fs.hpp: still found after an upgrade.
constexpr std::string_view kLegacyTmpSuffix = ".json.tmp";

std::string file_name(uint64_t id) { return std::to_string(id) + std::string(kSuffix); }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Error bad_record(std::string_view source, std::string_view why) {
  return make_error(ErrorCode::kInternal,
                    "snapshot record " + std::string(source) + ": " + std::string(why));
}

std::string quoted_kind(SnapshotKind kind) {
  switch (kind) {
    case SnapshotKind::kView: return "a view";
    case SnapshotKind::kActive: return "active";
    case SnapshotKind::kCommitted: return "committed";
  }
  return "unknown";
}

}  // namespace

std::string SnapshotRecordStore::encode(const SnapshotRecord& record) const {
  const auto& info = record.info;
  json::object labels;
  for (const auto& [k, v] : info.labels) labels[k] = v;
  json::object o{{"version", kRecordVersion},
                 {"driver", driver_},
                 {"id", record.id},
                 {"name", info.name},
                 {"parent", info.parent},
                 {"kind", snapshot_kind_name(info.kind)},
                 {"labels", std::move(labels)},
                 {"created_unix_nano", info.created_unix_nano},
                 {"updated_unix_nano", info.updated_unix_nano}};
  return json::serialize(o);
}

Result<SnapshotRecord> SnapshotRecordStore::decode(std::string_view text,
                                                  std::string_view source) const {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return bad_record(source, "invalid JSON: " + ec.message());
  if (!v.is_object()) return bad_record(source, "not a JSON object");
  const json::object& o = v.get_object();
  auto string_field = [&](std::string_view key, std::string& out) -> bool {
    const json::value* f = o.if_contains(key);
    if (f == nullptr || !f->is_string()) return false;
    out = std::string(f->get_string());
    return true;
  };
  auto int_field = [&](std::string_view key, int64_t& out) -> bool {
    const json::value* f = o.if_contains(key);
    if (f == nullptr) return false;
    if (f->is_int64())
      out = f->get_int64();
    else if (f->is_uint64())
      out = static_cast<int64_t>(f->get_uint64());
    else
      return false;
    return true;
  };
  std::string driver;
  const bool named = string_field("driver", driver);
  if (named ? driver != driver_ : !accept_unnamed_) {
    return bad_record(source, "not a record of the " + driver_ + " driver (\"driver\": \"" +
                                  driver + "\")");
  }
  int64_t version = 0;
  if (!int_field("version", version)) return bad_record(source, "missing \"version\"");
  if (version != kRecordVersion) {
    return bad_record(source, "record version " + std::to_string(version) +
                                  " is not supported by this driver (supports " +
                                  std::to_string(kRecordVersion) + ")");
  }
  SnapshotRecord r;
  int64_t id = 0;
  if (!int_field("id", id) || id <= 0) return bad_record(source, "missing or invalid \"id\"");
  r.id = static_cast<uint64_t>(id);
  std::string kind;
  if (!string_field("name", r.info.name) || r.info.name.empty()) {
    return bad_record(source, "missing \"name\"");
  }
  if (!string_field("parent", r.info.parent)) return bad_record(source, "missing \"parent\"");
  if (!string_field("kind", kind)) return bad_record(source, "missing \"kind\"");
  if (kind == "active")
    r.info.kind = SnapshotKind::kActive;
  else if (kind == "view")
    r.info.kind = SnapshotKind::kView;
  else if (kind == "committed")
    r.info.kind = SnapshotKind::kCommitted;
  else
    return bad_record(source, "unknown kind \"" + kind + "\"");
  if (!int_field("created_unix_nano", r.info.created_unix_nano) ||
      !int_field("updated_unix_nano", r.info.updated_unix_nano)) {
    return bad_record(source, "missing timestamps");
  }
  if (const json::value* labels = o.if_contains("labels"); labels != nullptr) {
    if (!labels->is_object()) return bad_record(source, "\"labels\" is not an object");
    for (const auto& [k, val] : labels->get_object()) {
      if (!val.is_string()) {
        return bad_record(source, "label \"" + std::string(k) + "\" is not a string");
      }
      r.info.labels.emplace(std::string(k), std::string(val.get_string()));
    }
  }
  return r;
}

Result<std::vector<SnapshotRecord>> SnapshotRecordStore::load_all() const {
  auto names = list_dir(dir_);
  if (!names) return std::move(names).error();
  std::vector<SnapshotRecord> records;
  for (const auto& name : *names) {
    const std::string path = dir_ + "/" + name;
    if (fs::is_atomic_write_leftover(name) || ends_with(name, kLegacyTmpSuffix)) {
      // An interrupted save: the record it was replacing (if any) is still intact.
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return sys_error("remove " + path, errno);
      }
      continue;
    }
    // Anything else is not ours (an editor's backup, a note): not worth refusing to start over.
    if (!ends_with(name, kSuffix) || !is_decimal(name.substr(0, name.size() - kSuffix.size()))) {
      continue;
    }
    auto text = read_whole_file(path);
    if (!text) return std::move(text).error();
    auto record = decode(*text, path);
    if (!record) return std::move(record).error();
    if (file_name(record->id) != name) {
      return bad_record(path, "its id " + std::to_string(record->id) + " does not match the name");
    }
    records.push_back(std::move(*record));
  }
  std::sort(records.begin(), records.end(),
            [](const SnapshotRecord& a, const SnapshotRecord& b) { return a.id < b.id; });
  return records;
}

Status SnapshotRecordStore::save(const SnapshotRecord& record) const {
  return fs::atomic_write(dir_ + "/" + file_name(record.id), encode(record), 0600);
}

Status SnapshotRecordStore::erase(uint64_t id) const {
  return remove_file_durable(dir_, file_name(id));
}

const SnapshotRecord* find_snapshot(const SnapshotIndex& index, std::string_view key) {
  auto it = index.find(key);
  return it == index.end() ? nullptr : &it->second;
}

size_t count_children(const SnapshotIndex& index, std::string_view name, std::string* first_child) {
  size_t n = 0;
  for (const auto& [child, r] : index) {
    if (r.info.parent == name) {
      if (n++ == 0 && first_child != nullptr) *first_child = child;
    }
  }
  return n;
}

std::vector<SnapshotInfo> walk_snapshots(const SnapshotIndex& index, const WalkFilter& filter) {
  std::vector<const SnapshotRecord*> matched;
  for (const auto& [name, r] : index) {
    if (!filter.parent.empty() && r.info.parent != filter.parent) continue;
    if (filter.kind && r.info.kind != *filter.kind) continue;
    matched.push_back(&r);
  }
  std::sort(matched.begin(), matched.end(),
            [](const SnapshotRecord* a, const SnapshotRecord* b) { return a->id < b->id; });
  std::vector<SnapshotInfo> out;
  out.reserve(matched.size());
  for (const auto* r : matched) out.push_back(r->info);
  return out;
}

Result<SnapshotInfo> update_snapshot_labels(SnapshotIndex& index, const SnapshotRecordStore& store,
                                            std::string_view key, const Labels& labels) {
  auto it = index.find(key);
  if (it == index.end()) return snapshot_not_found(key);
  SnapshotRecord updated = it->second;
  updated.info.labels = labels;
  updated.info.updated_unix_nano = std::max(now_unix_nano(), it->second.info.updated_unix_nano + 1);
  if (auto s = store.save(updated); !s) {
    return std::move(s).error().wrap("update labels of " + std::string(key));
  }
  it->second = std::move(updated);
  return it->second.info;
}

Result<NewSnapshot> plan_snapshot(const SnapshotIndex& index, uint64_t& next_id,
                                  SnapshotKind kind, std::string_view key,
                                  std::string_view parent, const Labels& labels) {
  if (key.empty()) return make_error(ErrorCode::kInvalidArgument, "snapshot key is empty");
  if (find_snapshot(index, key) != nullptr) {
    return make_error(ErrorCode::kAlreadyExists,
                      "snapshot " + std::string(key) + " already exists");
  }
  NewSnapshot out;
  if (!parent.empty()) {
    out.parent_record = find_snapshot(index, parent);
    if (out.parent_record == nullptr) {
      return make_error(ErrorCode::kNotFound,
                        "parent snapshot " + std::string(parent) + " does not exist");
    }
    if (out.parent_record->info.kind != SnapshotKind::kCommitted) {
      return make_error(ErrorCode::kInvalidArgument,
                        "parent snapshot " + std::string(parent) + " is " +
                            quoted_kind(out.parent_record->info.kind) + ", not committed");
    }
  }
  SnapshotRecord& record = out.record;
  record.id = next_id++;
  record.info.name = std::string(key);
  record.info.parent = std::string(parent);
  record.info.kind = kind;
  record.info.labels = labels;
  record.info.created_unix_nano = now_unix_nano();
  record.info.updated_unix_nano = record.info.created_unix_nano;
  return out;
}

Result<SnapshotRecord> plan_commit(const SnapshotIndex& index, std::string_view name,
                                   std::string_view key, const Labels& labels) {
  if (name.empty()) return make_error(ErrorCode::kInvalidArgument, "commit name is empty");
  const SnapshotRecord* active = find_snapshot(index, key);
  if (active == nullptr) return snapshot_not_found(key);
  if (active->info.kind != SnapshotKind::kActive) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "snapshot " + std::string(key) + " is " + quoted_kind(active->info.kind) +
                          ": only an active snapshot can be committed");
  }
  if (find_snapshot(index, name) != nullptr) {
    return make_error(ErrorCode::kAlreadyExists,
                      "snapshot " + std::string(name) + " already exists");
  }
  SnapshotRecord committed = *active;
  committed.info.name = std::string(name);
  committed.info.kind = SnapshotKind::kCommitted;
  committed.info.labels = labels;
  committed.info.created_unix_nano = now_unix_nano();
  committed.info.updated_unix_nano = committed.info.created_unix_nano;
  return committed;
}

Result<uint64_t> forget_snapshot(SnapshotIndex& index, const SnapshotRecordStore& store,
                                 std::string_view key) {
  auto it = index.find(key);
  if (it == index.end()) return snapshot_not_found(key);
  std::string child;
  if (size_t n = count_children(index, key, &child); n > 0) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "snapshot " + std::string(key) + " has " + std::to_string(n) +
                          (n == 1 ? " child" : " children") + " (" + child +
                          (n > 1 ? ", ..." : "") + "): remove them first");
  }
  if (auto s = store.erase(it->second.id); !s) {
    return std::move(s).error().wrap("remove snapshot " + std::string(key));
  }
  const uint64_t id = it->second.id;
  index.erase(it);
  return id;
}

Error snapshot_not_found(std::string_view key) {
  return make_error(ErrorCode::kNotFound, "snapshot " + std::string(key) + " does not exist");
}

int64_t now_unix_nano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace berth::sdk::storage
