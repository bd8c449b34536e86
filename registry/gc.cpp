#include "registry/gc.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <set>

#include "core/common/fs.hpp"
#include "distribution/manifest.hpp"

namespace berth::registry {
namespace stdfs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::system_clock;

namespace {

std::vector<std::string> entries(const stdfs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : stdfs::directory_iterator(dir, ec)) {
    out.push_back(entry.path().filename().string());
  }
  return out;
}

std::optional<Clock::time_point> modified(const stdfs::path& path, int64_t* size = nullptr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  if (size) *size = st.st_size;
  return Clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec));
}

struct Revision {
  Digest digest;
  distribution::Manifest manifest;
  Clock::time_point modified;
};

// The revisions of one repository, parsed. An unreadable manifest is an error (abort).
Result<std::vector<Revision>> read_revisions(FsStorage& storage, const std::string& repo) {
  std::vector<Revision> out;
  auto base = storage.repo_dir(repo) / "_manifests" / "revisions";
  for (const auto& algorithm : entries(base)) {
    for (const auto& hex : entries(base / algorithm)) {
      auto digest = distribution::parse_digest(algorithm + ":" + hex);
      if (!digest) continue;  // a temp file of an interrupted write
      auto when = modified(base / algorithm / hex);
      auto stored = storage.get_manifest(repo, *digest);
      if (!stored) {
        if (stored.error().code == ErrorCode::kNotFound || !storage.blob_size(*digest)) continue;
        return std::move(stored).error().wrap("gc: read manifest " + repo + "@" + digest->string());
      }
      auto parsed = distribution::parse_manifest(stored->content, stored->media_type);
      if (!parsed) {
        return std::move(parsed).error().wrap("gc: parse manifest " + repo + "@" + digest->string());
      }
      out.push_back({*digest, std::move(*parsed), when.value_or(Clock::now())});
    }
  }
  return out;
}

// The revisions to keep: tagged ones, young ones, and (transitively) children of kept indexes
// and referrers of kept subjects.
std::set<std::string> kept_revisions(FsStorage& storage, const std::string& repo,
                                     const std::vector<Revision>& revisions,
                                     const GcOptions& options, Clock::time_point now) {
  std::set<std::string> keep;
  if (auto tags = storage.list_tags(repo)) {
    for (const auto& tag : *tags) {
      if (auto d = storage.resolve_tag(repo, tag)) keep.insert(d->string());
    }
  }
  for (const auto& r : revisions) {
    if (now - r.modified < options.grace_period) keep.insert(r.digest.string());
  }
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& r : revisions) {
      std::string d = r.digest.string();
      if (keep.count(d)) {
        for (const auto& child : r.manifest.manifests) grew |= keep.insert(child.digest.string()).second;
      } else if (r.manifest.subject && keep.count(r.manifest.subject->digest.string())) {
        grew |= keep.insert(d).second;
      }
    }
  }
  return keep;
}

}  // namespace

json::object GcReport::to_json() const {
  json::array blobs(deleted_blobs.begin(), deleted_blobs.end());
  json::array manifests(deleted_manifests.begin(), deleted_manifests.end());
  return {{"dry_run", dry_run},
          {"deleted_blobs", std::move(blobs)},
          {"deleted_manifests", std::move(manifests)},
          {"freed_bytes", freed_bytes},
          {"marked_blobs", marked_blobs},
          {"kept_young_blobs", kept_young_blobs}};
}

Result<GcReport> collect_garbage(FsStorage& storage, const GcOptions& options) {
  GcReport report;
  report.dry_run = options.dry_run;
  auto now = Clock::now();
  auto repos = storage.list_repositories();
  if (!repos) return std::move(repos).error();

  // Mark (and, when asked, drop unreachable untagged revisions first).
  std::set<std::string> marked;
  for (const auto& repo : *repos) {
    auto revisions = read_revisions(storage, repo);
    if (!revisions) return std::move(revisions).error();
    std::set<std::string> keep;
    if (options.delete_untagged) keep = kept_revisions(storage, repo, *revisions, options, now);
    for (const auto& r : *revisions) {
      std::string d = r.digest.string();
      if (options.delete_untagged && !keep.count(d)) {
        if (!options.dry_run) {
          // Re-checked under the exclusive guard: a push of this manifest (or a tag naming it)
          // since the listing restarts its age and keeps it.
          BlobGuard::Hold hold = storage.guard().exclusive();
          auto when = modified(storage.revision_link(repo, r.digest));
          bool young = !when || now - *when < options.grace_period;
          bool tagged = false;
          if (auto tags = storage.list_tags(repo)) {
            for (const auto& tag : *tags) {
              if (auto t = storage.resolve_tag(repo, tag); t && *t == r.digest) tagged = true;
            }
          }
          if (tagged || young) {
            keep.insert(d);
          } else if (auto st = storage.delete_manifest(repo, r.digest); !st) {
            return std::move(st).error().wrap("gc: delete manifest " + repo + "@" + d);
          }
        }
        if (!keep.count(d)) {
          report.deleted_manifests.push_back(repo + "@" + d);
          continue;
        }
      }
      marked.insert(d);
      if (r.manifest.config) marked.insert(r.manifest.config->digest.string());
      for (const auto& layer : r.manifest.layers) marked.insert(layer.digest.string());
      for (const auto& child : r.manifest.manifests) marked.insert(child.digest.string());
    }
  }
  report.marked_blobs = marked.size();

  // Sweep.
  auto blobs = storage.root() / "blobs";
  for (const auto& algorithm : entries(blobs)) {
    for (const auto& prefix : entries(blobs / algorithm)) {
      for (const auto& name : entries(blobs / algorithm / prefix)) {
        auto path = blobs / algorithm / prefix / name;
        std::string digest = algorithm + ":" + name;
        bool temp_file = name.starts_with(".");  // left by a write that died half way
        if (!temp_file && marked.count(digest)) continue;
        BlobGuard::Hold hold = storage.guard().exclusive();
        int64_t size = 0;
        auto when = modified(path, &size);
        if (!when) continue;
        if (now - *when < options.grace_period) {
          if (!temp_file) ++report.kept_young_blobs;
          continue;
        }
        if (!options.dry_run && ::unlink(path.c_str()) != 0) {
          return errno_error("gc: delete blob " + digest);
        }
        if (temp_file) continue;
        report.deleted_blobs.push_back(digest);
        report.freed_bytes += static_cast<uint64_t>(size);
      }
    }
  }

  // Repository links to blobs that are gone: a later upload of the same content elsewhere
  // must not make them valid again.
  if (!options.dry_run) {
    std::error_code ec;
    auto base = storage.root() / "repositories";
    for (auto it = stdfs::recursive_directory_iterator(base, ec);
         !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().filename() != "_layers") {
        if (it->path().filename().string().starts_with("_")) it.disable_recursion_pending();
        continue;
      }
      it.disable_recursion_pending();
      for (const auto& algorithm : entries(it->path())) {
        for (const auto& hex : entries(it->path() / algorithm)) {
          auto digest = distribution::parse_digest(algorithm + ":" + hex);
          if (!digest) continue;
          BlobGuard::Hold hold = storage.guard().exclusive();
          if (!storage.blob_size(*digest)) ::unlink((it->path() / algorithm / hex).c_str());
        }
      }
    }
  }
  return report;
}

}  // namespace berth::registry
