// A container's filesystem from the outside: access for cp and export, diff against its image,
// commit to a new image, and the process and resource views (top, stats, size).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <set>
#include <sstream>

#include "berth/sdk/mount.hpp"
#include "core/common/fs.hpp"
#include "core/common/host_info.hpp"
#include "core/common/ids.hpp"
#include "core/common/logging.hpp"
#include "core/common/time.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/mount_points_view.hpp"
#include "core/image/dockerfile_changes.hpp"
#include "core/layer/changes.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t pos = s.find(sep, start);
    if (pos == std::string::npos) pos = s.size();
    if (pos > start) out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

// A read-only view of a snapshot's mounts: an overlay's upper dir becomes its top lower layer
// (so a running container's own mount is never mounted twice with the same upperdir), a bind
// becomes read-only.
std::vector<sdk::Mount> read_only_view(const std::vector<sdk::Mount>& mounts) {
  std::vector<sdk::Mount> out;
  for (auto m : mounts) {
    if (m.type == "overlay") {
      std::string upper, lower;
      std::vector<std::string> rest;
      for (const auto& o : m.options) {
        if (o.rfind("upperdir=", 0) == 0) upper = o.substr(9);
        else if (o.rfind("lowerdir=", 0) == 0) lower = o.substr(9);
        else if (o.rfind("workdir=", 0) == 0) continue;
        else rest.push_back(o);
      }
      std::string lowers = upper.empty() ? lower : (lower.empty() ? upper : upper + ":" + lower);
      if (lowers.find(':') == std::string::npos) {
        // A single layer cannot be an overlay without an upper dir: bind it read-only.
        out.push_back(sdk::Mount{"bind", lowers, m.target, {"rbind", "ro"}});
        continue;
      }
      rest.push_back("lowerdir=" + lowers);
      rest.push_back("ro");
      m.options = std::move(rest);
      out.push_back(std::move(m));
    } else {
      std::erase(m.options, "rw");
      m.options.push_back("ro");
      out.push_back(std::move(m));
    }
  }
  return out;
}

}  // namespace

ContainerManager::RootfsAccess::RootfsAccess(RootfsAccess&& o) noexcept
    : path_(std::move(o.path_)),
      ids_(o.ids_),
      mounted_(std::exchange(o.mounted_, {})),
      volumes_(std::exchange(o.volumes_, nullptr)),
      volume_refs_(std::exchange(o.volume_refs_, {})) {}

ContainerManager::RootfsAccess& ContainerManager::RootfsAccess::operator=(RootfsAccess&& o) noexcept {
  if (this != &o) {
    this->~RootfsAccess();
    path_ = std::move(o.path_);
    ids_ = o.ids_;
    mounted_ = std::exchange(o.mounted_, {});
    volumes_ = std::exchange(o.volumes_, nullptr);
    volume_refs_ = std::exchange(o.volume_refs_, {});
  }
  return *this;
}

ContainerManager::RootfsAccess::~RootfsAccess() {
  if (!mounted_.empty()) {
    (void)sdk::unmount_all(mounted_);  // the volumes and binds over it too
    std::error_code ec;
    std::filesystem::remove(mounted_, ec);
  }
  if (volumes_ != nullptr) {
    for (const auto& v : volume_refs_) (void)volumes_->unmount(v);
  }
}

Result<ContainerManager::RootfsAccess> ContainerManager::open_rootfs(sdk::Context& ctx, std::string_view name, bool live) {
  auto c = find(name);
  if (!c) return c.error();
  ContainerRecord rec;
  {
    std::lock_guard lock((*c)->mutex);
    rec = (*c)->record;
  }
  bool running = (rec.state.status == State::kRunning || rec.state.status == State::kPaused) &&
                 rec.state.pid > 0;
  RootfsAccess access;
  if (auto remap = userns_remap_for(rec.host_config); remap) access.ids_ = id_shift(*remap);
  if (live && running) {
    access.path_ = "/proc/" + std::to_string(rec.state.pid) + "/root";
    return access;
  }
  auto mounts = storage_.mounts(ctx, rec.storage_key);
  if (!mounts) return mounts.error().wrap("root filesystem of " + rec.short_id());
  std::string target = options_.exec_root + "/mounts/rootfs-" + rec.short_id() + "-" + random_hex(4);
  BERTH_TRY_STATUS(fs::ensure_dir(target, 0700));
  auto view = running ? read_only_view(*mounts) : *mounts;
  auto mounted = sdk::ScopedMounts::mount(view, target);
  if (!mounted) {
    std::filesystem::remove(target);
    return mounted.error();
  }
  access.path_ = target;
  access.mounted_ = mounted->release();
  if (live) {
    // From here the handle owns what is mounted: an early return unmounts it all.
    access.volumes_ = &volumes_;
    for (const auto& m : rec.mounts) {
      if (m.type != "volume") continue;
      BERTH_TRY_STATUS(volumes_.mount(m.name));
      access.volume_refs_.push_back(m.name);
    }
    if (auto s = mount_points_into(target, rec.mounts); !s) {
      return std::move(s).error().wrap("mount the volumes of " + rec.short_id());
    }
  }
  return access;
}

Result<json::array> ContainerManager::changes(sdk::Context& ctx, std::string_view name) {
  auto c = find(name);
  if (!c) return c.error();
  ContainerRecord rec;
  {
    std::lock_guard lock((*c)->mutex);
    rec = (*c)->record;
  }
  auto mounts = storage_.mounts(ctx, rec.storage_key);
  if (!mounts) return mounts.error();
  Result<std::vector<layer::Change>> list = std::vector<layer::Change>{};
  std::string upper;
  std::vector<std::filesystem::path> lowers;
  if (mounts->size() == 1 && (*mounts)[0].type == "overlay") {
    for (const auto& o : (*mounts)[0].options) {
      if (o.rfind("upperdir=", 0) == 0) upper = o.substr(9);
      if (o.rfind("lowerdir=", 0) == 0) {
        for (const auto& l : split(o.substr(9), ':')) lowers.emplace_back(l);
      }
    }
  } else if (mounts->size() == 1 && (*mounts)[0].type == "bind") {
    auto img = images_.resolve(rec.image_id);
    if (img && img->record.top_chain.empty()) {
      upper = (*mounts)[0].source;  // no image layers: everything is an addition
    }
  }
  if (!upper.empty()) {
    list = layer::overlay_changes(upper, lowers);
  } else {
    // Generic: compare with a view of the image.
    auto img = images_.resolve(rec.image_id);
    if (!img) return img.error();
    std::string key = "diff-" + rec.short_id() + "-" + random_hex(4);
    auto base_mounts = storage_.view(ctx, key, img->record.top_chain, {});
    if (!base_mounts) return base_mounts.error();
    std::string base_dir = options_.exec_root + "/mounts/" + key;
    (void)fs::ensure_dir(base_dir, 0700);
    auto base = sdk::ScopedMounts::mount(*base_mounts, base_dir);
    auto root = open_rootfs(ctx, rec.id, false);
    if (base && root) list = layer::tree_changes(base_dir, root->path());
    else list = base ? root.error() : base.error();
    if (base) (void)base->unmount();
    std::filesystem::remove(base_dir);
    (void)storage_.remove(ctx, key);
  }
  if (!list) return list.error();
  // The files berthd mounts over the container's /etc are not its changes (dockerd keeps them
  // in an init layer): neither their mount points nor the /etc they alone changed show, and
  // commit, which reads this list, leaves them out too.
  static const std::set<std::string> kDaemonFiles = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"};
  std::erase_if(*list, [](const layer::Change& ch) { return kDaemonFiles.contains(ch.path); });
  bool other_etc = std::any_of(list->begin(), list->end(),
                               [](const layer::Change& ch) { return ch.path.rfind("/etc/", 0) == 0; });
  if (!other_etc) {
    std::erase_if(*list, [](const layer::Change& ch) {
      return ch.path == "/etc" && ch.kind == layer::Change::kModified;
    });
  }
  json::array out;
  for (const auto& ch : *list) {
    out.push_back(json::object{{"Path", ch.path}, {"Kind", static_cast<int>(ch.kind)}});
  }
  return out;
}

Result<std::string> ContainerManager::commit(sdk::Context& ctx, std::string_view name, const std::string& repo,
                                             const std::string& tag, const std::string& comment,
                                             const std::string& author,
                                             const std::vector<std::string>& changes, bool pause,
                                             const json::object& config_override) {
  auto c = find(name);
  if (!c) return c.error();
  ContainerRecord rec;
  {
    std::lock_guard lock((*c)->mutex);
    rec = (*c)->record;
  }
  // Validate everything the caller gave before touching anything.
  std::optional<image::Reference> target;
  if (!repo.empty()) {
    auto ref = image::parse_normalized_tagged(repo + (tag.empty() ? "" : ":" + tag));
    if (!ref) return ref.error();
    target = *ref;
  }
  json::object new_config = rec.config;
  for (const auto& [k, v] : config_override) new_config[k] = v;
  for (const auto& ch : changes) {
    if (auto s = image::apply_change(new_config, ch); !s) return std::move(s).error().wrap("invalid change");
  }
  auto img = images_.resolve(rec.image_id);
  if (!img) return img.error().wrap("image of the container");

  bool paused_here = false;
  if (pause && rec.state.status == State::kRunning && isolation_ != nullptr) {
    paused_here = isolation_->pause(ctx, rec.id).has_value();
  }
  auto resume = [&] {
    if (paused_here) {
      (void)isolation_->resume(ctx, rec.id);
    }
  };
  auto diff = this->changes(ctx, rec.id);
  Result<std::string> diff_id = std::string();
  {
    std::vector<layer::Change> list;
    if (diff) {
      for (const auto& v : *diff) {
        const auto& o = v.as_object();
        list.push_back(layer::Change{std::string(o.at("Path").as_string()),
                                     static_cast<layer::Change::Kind>(o.at("Kind").as_int64())});
      }
    }
    auto root = diff ? open_rootfs(ctx, rec.id, false) : Result<RootfsAccess>(diff.error());
    if (!root) {
      resume();
      return root.error();
    }
    auto ingest = images_.content().begin();
    if (!ingest) {
      resume();
      return ingest.error();
    }
    auto s = layer::write_changes_tar(root->path(), list, *ingest, root->ids());
    resume();
    if (!s) {
      ingest->abort();
      return s.error().wrap("write the layer");
    }
    diff_id = ingest->commit();
  }
  if (!diff_id) return diff_id.error();
  // The changes were spooled while the container was paused (short); the layer store keeps
  // them once, as files, and the spool goes.
  Result<image::LayerRecord> layer = make_error(ErrorCode::kInternal, "no layer");
  {
    auto spool = images_.content().open_blob(*diff_id);
    if (!spool) return spool.error();
    FdReader in(spool->get());
    layer = images_.ingest_layer(ctx, img->record.top_chain, in, *diff_id);
  }
  images_.remove_unused_blob(*diff_id);
  if (!layer) return layer.error();

  json::object config = img->config.json();
  std::string now = rfc3339_nano(now_unix_nano());
  // Docker keeps Image as the base image's id in a committed config.
  new_config["Image"] = rec.image_id;
  config["config"] = new_config;
  config["container"] = rec.id;
  config["created"] = now;
  if (!author.empty()) config["author"] = author;
  else config.erase("author");
  config["comment"] = comment;
  json::array history;
  if (const auto* h = config.if_contains("history"); h != nullptr && h->is_array()) history = h->get_array();
  std::string created_by = rec.path;
  for (const auto& a : rec.args) created_by += " " + a;
  json::object entry{{"created", now}, {"created_by", created_by}};
  if (!author.empty()) entry["author"] = author;
  if (!comment.empty()) entry["comment"] = comment;
  history.push_back(std::move(entry));
  config["history"] = std::move(history);
  json::array diff_ids;
  for (const auto& d : img->config.diff_ids()) diff_ids.emplace_back(d);
  diff_ids.emplace_back(*diff_id);
  config["rootfs"] = json::object{{"type", "layers"}, {"diff_ids", std::move(diff_ids)}};
  auto id = images_.create_image(image::encode_config(config), rec.image_id);
  if (!id) return id.error();
  if (target) BERTH_TRY_STATUS(images_.set_tag(*target, *id));
  publish(**c, "commit", {{"comment", comment}});
  return *id;
}

Result<json::object> ContainerManager::top(sdk::Context& ctx, std::string_view name, const std::string& ps_args) {
  auto c = find(name);
  if (!c) return c.error();
  std::string id;
  {
    std::lock_guard lock((*c)->mutex);
    if (!is_running((*c)->record.state.status)) {
      return make_error(ErrorCode::kFailedPrecondition, "Container " + (*c)->record.id + " is not running");
    }
    id = (*c)->record.id;
  }
  auto pids = isolation_->pids(ctx, id);
  if (!pids) return pids.error();
  // As dockerd: run the host's ps and keep the rows of the container's processes.
  std::vector<std::string> argv = {"ps"};
  for (const auto& a : split(ps_args.empty() ? "-ef" : ps_args, ' ')) argv.push_back(a);
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return errno_error("pipe");
  pid_t child = ::fork();
  if (child == 0) {
    ::dup2(out_pipe[1], 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp("ps", args.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  std::string output;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  ::close(out_pipe[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error(ErrorCode::kInternal, "ps: failed to run ps " + ps_args);
  }
  std::istringstream lines(output);
  std::string header;
  std::getline(lines, header);
  auto titles = split(header, ' ');
  int pid_col = -1;
  for (size_t i = 0; i < titles.size(); ++i) {
    if (titles[i] == "PID") pid_col = static_cast<int>(i);
  }
  if (pid_col < 0) {
    return make_error(ErrorCode::kInvalidArgument, "Couldn't find PID field in ps output");
  }
  std::set<std::string> wanted;
  for (int p : *pids) wanted.insert(std::to_string(p));
  json::array processes;
  std::string line;
  while (std::getline(lines, line)) {
    auto fields = split(line, ' ');
    if (fields.size() < titles.size() || !wanted.contains(fields[pid_col])) continue;
    json::array row;
    for (size_t i = 0; i + 1 < titles.size(); ++i) row.emplace_back(fields[i]);
    std::string last;
    for (size_t i = titles.size() - 1; i < fields.size(); ++i) last += (last.empty() ? "" : " ") + fields[i];
    row.emplace_back(last);
    processes.push_back(std::move(row));
  }
  json::array t;
  for (const auto& title : titles) t.emplace_back(title);
  return json::object{{"Titles", std::move(t)}, {"Processes", std::move(processes)}};
}

Result<StatsSample> ContainerManager::stats_sample(sdk::Context& ctx, std::string_view name) {
  auto c = find(name);
  if (!c) return c.error();
  StatsSample sample;
  bool running;
  {
    std::lock_guard lock((*c)->mutex);
    sample.id = (*c)->record.id;
    sample.name = (*c)->record.name;
    running = is_running((*c)->record.state.status);
  }
  if (running) {
    // A failed read reports zeros, like a stopped container (the container may just have exited).
    if (auto metrics = isolation_->stats(ctx, sample.id)) sample.metrics = std::move(*metrics);
  }
  sample.read_unix_nano = now_unix_nano();
  return sample;
}

Result<int64_t> ContainerManager::size_rw(sdk::Context& ctx, const Container& c) const {
  auto usage = storage_.usage(ctx, c.record.storage_key);
  if (!usage) return usage.error();
  return usage->size;
}

}  // namespace berth::core::container
