// RUN, COPY and ADD: the filesystem steps, through containers as `docker commit` makes layers
// (see builder.hpp). A step's container is removed whatever happens; its image exists only when
// the step succeeded.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <thread>

#include "core/build/build_run.hpp"
#include "core/build/run_mount.hpp"
#include "core/build/url_fetch.hpp"
#include "core/common/fs.hpp"
#include "core/common/ids.hpp"
#include "core/common/json_text.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/common/unique_fd.hpp"
#include "core/container/archive.hpp"
#include "core/container/logs.hpp"
#include "core/container/user_lookup.hpp"
#include "core/image/image_config.hpp"
#include "core/layer/safe_path.hpp"

namespace berth::core::build {

namespace json = boost::json;

namespace {

std::vector<std::string> env_list(const json::object& config) {
  std::vector<std::string> env;
  if (const auto* e = config.if_contains("Env"); e != nullptr && e->is_array()) {
    for (const auto& x : e->get_array()) {
      if (x.is_string()) env.emplace_back(x.get_string());
    }
  }
  return env;
}

std::string str_field(const json::object& config, std::string_view key) {
  const auto* v = config.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// A step's container: made from the stage's image, removed (with its volumes) when done.
class StepContainer {
 public:
  StepContainer(container::ContainerManager& m) : m_(m) {}
  ~StepContainer() {
    if (!id_.empty()) {
      if (auto s = m_.remove(ctx_, id_, true, true); !s) {
        logging::get("build")->warn("could not remove build container {}: {}", id_, s.error().message);
      }
    }
  }
  Status create(json::object body) {
    // Marked, so a berthd that died mid-step removes it at its next start (Builder's constructor).
    auto& labels = body["Labels"];
    if (!labels.is_object()) labels = json::object{};
    labels.get_object()[kStepLabel] = "true";
    auto c = m_.create(ctx_, "", body);
    if (!c) return std::move(c).error().wrap("create the build container");
    id_ = c->id;
    return {};
  }
  const std::string& id() const { return id_; }

  sdk::Context& context() { return ctx_; }

 private:
  container::ContainerManager& m_;
  // The step's driver calls. The build's own cancellation (client gone) is checked between and
  // during steps by the builder, so this context is never cancelled itself.
  sdk::Context ctx_ = container::background_context("build");
  std::string id_;
};

// mkdir -p of `path` inside `root`, symlinks resolved inside it; new directories get `owner`.
Status mkdir_in_root(const std::string& root, const std::string& path, container::Owner owner) {
  auto root_fd = layer::open_root(root);
  if (!root_fd) return root_fd.error();
  std::string partial;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    std::string next = partial.empty() ? part : partial + "/" + part;
    int fd = layer::openat2_fd(root_fd->get(), next, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0) {
      ::close(fd);
      partial = next;
      continue;
    }
    if (errno != ENOENT) return layer::path_error("open directory", "/" + next, errno);
    UniqueFd parent(layer::openat2_fd(root_fd->get(), partial.empty() ? "." : partial, O_PATH | O_DIRECTORY | O_CLOEXEC,
                                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
    if (!parent.valid()) return layer::path_error("open directory", "/" + partial, errno);
    UniqueFd dir(layer::openat2_fd(parent.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
    if (!dir.valid()) return layer::path_error("open directory", "/" + partial, errno);
    if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
      return layer::path_error("create directory", "/" + next, errno);
    }
    (void)::fchownat(dir.get(), part.c_str(), owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW);
    partial = next;
  }
  return {};
}

// Whether the file starts like an archive ADD unpacks (tar, or compressed with gzip, bzip2,
// xz or zstd).
bool looks_like_archive(const std::string& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return false;
  unsigned char b[512] = {};
  ssize_t n = ::pread(fd.get(), b, sizeof(b), 0);
  if (n < 4) return false;
  if (b[0] == 0x1f && b[1] == 0x8b) return true;
  if (b[0] == 'B' && b[1] == 'Z' && b[2] == 'h') return true;
  if (n >= 6 && b[0] == 0xfd && b[1] == '7' && b[2] == 'z' && b[3] == 'X' && b[4] == 'Z' && b[5] == 0) return true;
  if (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) return true;
  return n >= 262 && std::string_view(reinterpret_cast<const char*>(b) + 257, 5) == "ustar";
}

std::string basename_of(const std::string& p) {
  std::string s = p;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  size_t slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

}  // namespace

Status Builder::Run::run_step(StageState& st, const Instruction& inst) {
  // A copy: ensure_image() below may replace st.image.
  const json::object c = config(st);
  // --network and --mount flags.
  std::string network = options.network_mode;
  std::vector<RunMount> mounts;
  for (const auto& f : inst.flags) {
    if (f.rfind("--network=", 0) == 0) {
      network = f.substr(10);
      if (network != "none" && network != "host" && network != "default") {
        return make_error(ErrorCode::kInvalidArgument, "Dockerfile line " + std::to_string(inst.line) +
                                                           ": RUN --network=" + network + ": expected none, host or default");
      }
      if (network == "default") network = options.network_mode;
    } else if (f.rfind("--mount=", 0) == 0) {
      auto spec = expand_word(f.substr(8), vars(st), dockerfile.escape);
      if (!spec) return spec.error();
      auto m = parse_run_mount(*spec, inst.line);
      if (!m) return m.error();
      mounts.push_back(std::move(*m));
    } else if (f.rfind("--security=", 0) == 0) {
      return make_error(ErrorCode::kInvalidArgument, "Dockerfile line " + std::to_string(inst.line) + ": RUN " +
                                                         f.substr(0, f.find('=')) + " is not supported by this berthd yet");
    } else {
      return make_error(ErrorCode::kInvalidArgument, "Dockerfile line " + std::to_string(inst.line) +
                                                         ": unknown flag for RUN: " + f + " (expected --network or --mount)");
    }
  }
  json::array argv;
  if (inst.json) {
    for (const auto& a : inst.args) argv.emplace_back(a);
  } else {
    std::string script = inst.rest;
    // Heredocs: `RUN <<EOF` alone runs the body as the script; otherwise the shell gets the
    // heredocs as it would read them from a script.
    if (inst.heredocs.size() == 1 && split_words(inst.rest, dockerfile.escape).size() == 1) {
      script = inst.heredocs[0].content;
    } else {
      for (const auto& d : inst.heredocs) script += "\n" + d.content + d.name;
    }
    if (const auto* sh = c.if_contains("Shell"); sh != nullptr && sh->is_array() && !sh->get_array().empty()) {
      argv = sh->get_array();
    } else {
      argv = {"/bin/sh", "-c"};
    }
    argv.emplace_back(script);
  }
  if (argv.empty()) return make_error(ErrorCode::kInvalidArgument, "Dockerfile line " + std::to_string(inst.line) + ": RUN needs a command");
  // The build args in effect reach RUN's environment (not the image's).
  std::vector<std::string> env = env_list(c);
  Vars env_vars = vars(st);
  for (const auto& [k, val] : st.args) {
    const std::string prefix = k + "=";  // not `k` in the lambda: clang 14 cannot capture a binding
    bool in_env = std::any_of(env.begin(), env.end(), [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
    if (!in_env) env.push_back(k + "=" + val);
  }
  for (const auto& [k, val] : options.build_args) {
    if (val && (k.find("PROXY") != std::string::npos || k.find("proxy") != std::string::npos) && !st.args.contains(k)) {
      env.push_back(k + "=" + *val);
    }
  }
  std::vector<std::string> key{"run", st.image_id, json_text::serialize(argv), network};
  for (const auto& e : env) key.push_back(e);
  // Mounts: a cache directory per id kept under the builder's state (not part of the key, as
  // BuildKit), a bind of the context (its content is), a tmpfs.
  json::array binds;
  json::object tmpfs;
  // from= sources: a container of the stage's image and its mounted root, held until the RUN ends
  // (declared before the RUN's container, so they go after it).
  std::vector<std::pair<std::unique_ptr<StepContainer>, std::optional<container::ContainerManager::RootfsAccess>>> from_mounts;
  // Binds of the context: their places in `binds`, filled once the step misses the cache (a hit
  // needs only the context's checksums, not its files).
  std::vector<std::pair<size_t, std::string>> context_binds;
  for (const auto& m : mounts) {
    key.push_back("mount " + m.type + " " + m.target + (m.readonly ? " ro" : " rw"));
    if (m.type == "tmpfs") {
      tmpfs[m.target] = "";
    } else if (m.type == "cache") {
      std::string dir = builder.state_dir_ + "/cache-mounts/" + BuildCache::key_of({m.id.empty() ? m.target : m.id}).substr(7, 32);
      BERTH_TRY_STATUS(fs::ensure_dir(dir, 0755));
      binds.emplace_back(dir + ":" + m.target + (m.readonly ? ":ro" : ""));
    } else if (!m.from.empty()) {
      // A stage's or image's filesystem, mounted for the step (its id is in the key).
      size_t self = static_cast<size_t>(&st - states.data());
      std::string from_image;
      if (StageState* src = stage_ref(m.from, self); src != nullptr) {
        BERTH_TRY_STATUS(ensure_image(*src));
        from_image = src->image_id;
      } else {
        auto img = builder.images_.resolve(m.from);
        if (!img) {
          return make_error(ErrorCode::kNotFound, "Dockerfile line " + std::to_string(inst.line) + ": RUN --mount from=" +
                                                      m.from + ": no stage or image of that name (" + img.error().message + ")");
        }
        from_image = img->record.id;
      }
      auto& holder = from_mounts.emplace_back(std::make_unique<StepContainer>(builder.containers_), std::nullopt);
      BERTH_TRY_STATUS(holder.first->create(json::object{{"Image", from_image}, {"Cmd", json::array{"#(nop) RUN --mount source"}},
                                                         {"Entrypoint", json::array{}}, {"HostConfig", json::object{{"NetworkMode", "none"}}}}));
      auto r = builder.containers_.open_rootfs(holder.first->context(), holder.first->id(), false);
      if (!r) return std::move(r).error().wrap("mount the from=" + m.from + " filesystem");
      holder.second.emplace(std::move(*r));
      const std::string& froot = holder.second->path();
      auto rel = resolve_in_root(froot, m.source.empty() ? "." : m.source, true);
      if (!rel) return rel.error();
      struct stat sst{};
      if (::lstat((froot + "/" + *rel).c_str(), &sst) != 0) {
        return make_error(ErrorCode::kNotFound, "Dockerfile line " + std::to_string(inst.line) + ": RUN --mount source \"" +
                                                    m.source + "\" not found in from=" + m.from);
      }
      key.push_back("from " + from_image + " " + *rel);
      binds.emplace_back(froot + (rel->empty() ? "" : "/" + *rel) + ":" + m.target + (m.readonly ? ":ro" : ""));
    } else {
      const SourceTree& tree = context.tree();
      auto rel = resolve_in_root(tree, m.source.empty() ? "." : m.source, true);
      if (!rel) return rel.error();
      if (!tree.lstat(*rel)) {
        return make_error(ErrorCode::kNotFound, "Dockerfile line " + std::to_string(inst.line) + ": RUN --mount source \"" +
                                                    m.source + "\" not found in the build context");
      }
      auto sum = sums.checksum(tree, *rel);
      if (!sum) return sum.error();
      key.push_back(*rel + "=" + *sum);
      context_binds.emplace_back(binds.size(), (rel->empty() ? "" : "/" + *rel) + ":" + m.target + (m.readonly ? ":ro" : ""));
      binds.emplace_back("");
    }
  }
  std::string cache_key = BuildCache::key_of(key);
  if (cache_hit(st, cache_key)) return {};
  {
    // What a commit of the step's container records as created_by (its command line).
    std::string shown;
    for (const auto& a : argv) shown += (shown.empty() ? "" : " ") + std::string(a.get_string());
    // A bind mount's content is not in created_by: such a step never matches another image.
    bool binds_content = std::any_of(mounts.begin(), mounts.end(), [](const RunMount& m) { return m.type == "bind"; });
    if (!binds_content && cache_from_hit(st, shown, cache_key)) return {};
  }
  BERTH_TRY_STATUS(ensure_image(st));
  if (!context_binds.empty()) {
    auto dir = context.directory();
    if (!dir) return dir.error();
    for (const auto& [at, rest] : context_binds) binds[at] = *dir + rest;
  }

  json::array env_json;
  for (const auto& e : env) env_json.emplace_back(e);
  json::object host{{"NetworkMode", network.empty() ? "default" : network}};
  if (!binds.empty()) host["Binds"] = binds;
  if (!tmpfs.empty()) host["Tmpfs"] = tmpfs;
  json::object body{{"Image", st.image_id},  {"Cmd", argv},
                    {"Entrypoint", json::array{}}, {"Env", env_json},
                    {"WorkingDir", str_field(c, "WorkingDir")}, {"User", str_field(c, "User")},
                    {"AttachStdout", true}, {"AttachStderr", true},
                    {"Labels", json::object{}}, {"HostConfig", host}};
  StepContainer ctr(builder.containers_);
  BERTH_TRY_STATUS(ctr.create(body));
  say(" ---> Running in " + ctr.id().substr(0, 12) + "\n");
  std::string log_path;
  {
    auto found = builder.containers_.find(ctr.id());
    if (!found) return found.error();
    std::lock_guard lock((*found)->mutex);
    log_path = (*found)->record.log_path;
  }
  auto started = builder.containers_.start(ctr.context(), ctr.id());
  if (!started) return std::move(started).error().wrap("start the RUN container");
  // The output follows the container's log while it runs.
  std::atomic<bool> running{true};
  std::thread output([&] {
    container::LogQuery q;
    q.follow = true;
    (void)container::read_logs(log_path, 1, q, [&](const container::LogEntry& e) {
      say(e.text);
      return true;
    }, [&] { return running.load(); });
  });
  auto waited = builder.containers_.wait(ctr.id(), "not-running", {}, [&] { return cancelled(); });
  running = false;
  output.join();
  if (cancelled()) return make_error(ErrorCode::kCancelled, "the build was cancelled");
  if (!waited) return waited.error();
  if (waited->first != 0) {
    std::string shown;
    for (const auto& a : argv) shown += (shown.empty() ? "" : " ") + std::string(a.get_string());
    if (sink.run_failed) sink.run_failed(waited->first);
    return make_error(ErrorCode::kFailedPrecondition, "The command '" + shown + "' returned a non-zero code: " + std::to_string(waited->first));
  }
  auto id = builder.containers_.commit(ctr.context(), ctr.id(), "", "", "", str_field(st.image, "author"), {}, false,
                                         image::full_container_config(c));
  if (!id) return std::move(id).error().wrap("commit the RUN step");
  say("Removing intermediate container " + ctr.id().substr(0, 12) + "\n");
  BERTH_TRY_STATUS(adopt(st, *id));
  builder.cache_.record(cache_key, *id, 0);
  say(" ---> " + short_id(*id) + "\n");
  return {};
}

Status Builder::Run::copy_step(StageState& st, const Instruction& inst) {
  const bool add = inst.keyword == "ADD";
  // A copy: ensure_image() below may replace st.image.
  const json::object c = config(st);
  Vars v = vars(st);
  char esc = dockerfile.escape;
  auto fail = [&](const std::string& what) {
    return make_error(ErrorCode::kInvalidArgument, "Dockerfile line " + std::to_string(inst.line) + ": " + inst.keyword + " " + what);
  };
  std::string from, chown, chmod_text;
  for (const auto& f : inst.flags) {
    std::string name = f.substr(2, f.find('=') == std::string::npos ? std::string::npos : f.find('=') - 2);
    std::string value = f.find('=') == std::string::npos ? "" : f.substr(f.find('=') + 1);
    auto e = expand_word(value, v, esc);
    if (!e) return e.error();
    if (name == "from" && !add) from = *e;
    else if (name == "chown") chown = *e;
    else if (name == "chmod") chmod_text = *e;
    else if (name == "link" || (name == "keep-git-dir" && add) || (name == "checksum" && add)) continue;
    else return fail("has an unknown flag " + f + " (expected --chown, --chmod, --link" + (add ? ")" : ", --from)"));
  }
  std::optional<uint32_t> chmod;
  if (!chmod_text.empty()) {
    char* end = nullptr;
    unsigned long m = std::strtoul(chmod_text.c_str(), &end, 8);
    if (end == nullptr || *end != 0 || m > 07777) return fail("--chmod=" + chmod_text + ": expected an octal mode such as 0755");
    chmod = static_cast<uint32_t>(m);
  }
  std::vector<std::string> words;
  if (inst.json) {
    for (const auto& a : inst.args) {
      auto e = expand_word(a, v, esc);
      if (!e) return e.error();
      words.push_back(*e);
    }
  } else {
    for (const auto& w : split_words(inst.rest, esc)) {
      bool heredoc = w.rfind("<<", 0) == 0;
      if (heredoc) {
        words.push_back(w);
        continue;
      }
      auto e = expand_word(w, v, esc);
      if (!e) return e.error();
      words.push_back(*e);
    }
  }
  if (words.size() < 2) return fail("requires at least two arguments: " + inst.keyword + " <src>... <dest>");
  std::string dest = words.back();
  words.pop_back();
  std::string workdir = str_field(c, "WorkingDir");
  if (dest.front() != '/') dest = (workdir.empty() ? "/" : workdir + "/") + dest;
  bool dest_dir_hint = dest.back() == '/' || dest.ends_with("/.");

  // Where the sources come from: the context, heredocs, or an image/stage's root filesystem.
  // Keys are computed from `tree`; the files are read from `root`, which for the context is
  // known only once the step misses the cache (the context is unpacked then).
  std::string root;
  std::string from_image;
  std::unique_ptr<StepContainer> from_ctr;
  std::optional<container::ContainerManager::RootfsAccess> from_root;
  if (!inst.heredocs.empty()) {
    root = scratch_dir + "/heredoc-" + random_hex(6);
    BERTH_TRY_STATUS(fs::ensure_dir(root, 0700));
    size_t next = 0;
    for (auto& w : words) {
      if (w.rfind("<<", 0) != 0) return fail("cannot mix heredocs and paths as sources");
      const auto& doc = inst.heredocs.at(next++);
      std::string content = doc.content;
      if (doc.expand) {
        auto e = expand_word("\"" + content + "\"", v, esc);
        if (e) content = *e;
      }
      BERTH_TRY_STATUS(fs::atomic_write(root + "/" + doc.name, content, 0644));
      w = doc.name;
    }
  } else if (!from.empty()) {
    size_t self = static_cast<size_t>(&st - states.data());
    if (StageState* s = stage_ref(from, self); s != nullptr) {
      BERTH_TRY_STATUS(ensure_image(*s));
      from_image = s->image_id;
    } else {
      auto img = builder.images_.resolve(from);
      if (!img) return make_error(ErrorCode::kNotFound, "COPY --from=" + from + ": no stage or image of that name (" + img.error().message + ")");
      from_image = img->record.id;
    }
    from_ctr = std::make_unique<StepContainer>(builder.containers_);
    BERTH_TRY_STATUS(from_ctr->create(json::object{{"Image", from_image}, {"Cmd", json::array{"#(nop) COPY --from source"}},
                                                   {"Entrypoint", json::array{}}, {"HostConfig", json::object{{"NetworkMode", "none"}}}}));
    auto r = builder.containers_.open_rootfs(from_ctr->context(), from_ctr->id(), false);
    if (!r) return std::move(r).error().wrap("mount the --from=" + from + " filesystem");
    from_root.emplace(std::move(*r));
    root = from_root->path();
  }

  // Sources, and their checksums for the cache key.
  std::vector<std::string> matched;
  std::vector<std::string> key{inst.keyword, st.image_id, dest, chown, chmod_text, from_image};
  bool wildcard = false;
  // ADD <url>: each URL is fetched (every build, as dockerd: its content is the cache key) into
  // a directory of its own, which then is the sources' root.
  auto is_url = [](const std::string& w) { return w.rfind("http://", 0) == 0 || w.rfind("https://", 0) == 0; };
  const bool from_url = add && std::any_of(words.begin(), words.end(), is_url);
  if (from_url && !std::all_of(words.begin(), words.end(), is_url)) {
    return fail("cannot mix URLs and other sources in one instruction here: use one ADD for the URLs");
  }
  if (from_url) {
    root = scratch_dir + "/url-" + random_hex(6);
    BERTH_TRY_STATUS(fs::ensure_dir(root, 0700));
  }
  const bool from_context = inst.heredocs.empty() && from.empty() && !from_url;
  std::optional<DiskTree> disk;
  if (!from_context) disk.emplace(root);
  const SourceTree& tree = from_context ? context.tree() : *disk;
  for (const auto& pattern : words) {
    if (from_url) {
      std::string dir = std::to_string(matched.size());
      BERTH_TRY_STATUS(fs::ensure_dir(root + "/" + dir, 0700));
      std::string part = root + "/" + dir + "/download";
      say("Downloading " + pattern + "\n");
      auto got = fetch_url(pattern, part, 0, [this] { return cancelled(); });
      if (!got) return got.error();
      std::string name = got->name.empty() ? "download" : got->name;
      std::string rel = dir + "/" + name;
      if (name != "download" && ::rename(part.c_str(), (root + "/" + rel).c_str()) != 0) return errno_error("rename " + part);
      if (got->mtime > 0) {
        timespec times[2] = {{got->mtime, 0}, {got->mtime, 0}};
        (void)::utimensat(AT_FDCWD, (root + "/" + rel).c_str(), times, AT_SYMLINK_NOFOLLOW);
      }
      auto sum = sums.checksum(tree, rel);
      if (!sum) return sum.error();
      key.push_back(pattern + "=" + *sum);
      matched.push_back(rel);
      continue;
    }
    if (pattern.find_first_of("*?[") != std::string::npos) wildcard = true;
    auto m = match_sources(tree, pattern);
    if (!m) {
      if (m.error().code == ErrorCode::kNotFound) {
        return make_error(ErrorCode::kNotFound, "Dockerfile line " + std::to_string(inst.line) + ": " + inst.keyword +
                                                    " failed: source \"" + pattern + "\" not found in the " +
                                                    (from.empty() ? "build context" : "--from=" + from + " filesystem"));
      }
      return m.error();
    }
    for (const auto& rel : *m) {
      // Sources from an image are content-addressed by its id already.
      auto sum = from_image.empty() ? sums.checksum(tree, rel) : Result<std::string>(std::string("image"));
      if (!sum) return sum.error();
      key.push_back(rel + "=" + *sum);
      matched.push_back(rel);
    }
  }
  std::string cache_key = BuildCache::key_of(key);
  if (cache_hit(st, cache_key)) return {};
  Sha256 summary;
  for (size_t i = 6; i < key.size(); ++i) summary.update(key[i]);
  std::string created_by = "#(nop) " + inst.keyword + " " + (matched.size() > 1 ? "multi" : "file") + ":" +
                           summary.hex_digest() + " in " + dest + " ";
  // An --from image is not content-addressed in created_by: only context sources match there.
  if (from_image.empty() && cache_from_hit(st, "/bin/sh -c " + created_by, cache_key)) return {};
  // The files: COPY from the context reads them from the context's spool through its index
  // (nothing is unpacked); ADD (which may unpack an archive), and an index that cannot give
  // every file's bytes, read the unpacked directory.
  const SourceTree* files = &tree;
  if (from_context) {
    files = add ? nullptr : context.contents();
    if (files == nullptr) {
      auto dir = context.directory();
      if (!dir) return dir.error();
      root = *dir;
      disk.emplace(root);
      files = &*disk;
    }
  }
  BERTH_TRY_STATUS(ensure_image(st));
  StepContainer ctr(builder.containers_);
  BERTH_TRY_STATUS(ctr.create(json::object{{"Image", st.image_id}, {"Cmd", json::array{"/bin/sh", "-c", created_by}},
                                           {"Entrypoint", json::array{}}, {"WorkingDir", workdir},
                                           {"HostConfig", json::object{{"NetworkMode", "none"}}}}));
  auto target = builder.containers_.open_rootfs(ctr.context(), ctr.id(), false);
  if (!target) return std::move(target).error().wrap("mount the build container's filesystem");
  const std::string& troot = target->path();

  container::Owner owner{0, 0};
  if (!chown.empty()) {
    auto user = container::resolve_user_in_root(troot, chown);
    if (!user) return std::move(user).error().wrap(inst.keyword + " --chown=" + chown);
    owner = container::Owner{user->uid, user->gid};
  }
  auto dest_stat = container::stat_path(troot, dest);
  bool dest_exists_dir = dest_stat && (dest_stat->mode & container::kGoModeDir) != 0;
  bool first_is_dir = false;
  if (matched.size() == 1) {
    auto first = files->lstat(matched[0]);
    first_is_dir = first && S_ISDIR(first->mode);
  }
  bool into_dir = dest_dir_hint || dest_exists_dir || matched.size() > 1 || wildcard || first_is_dir;
  if (matched.size() > 1 && !dest_dir_hint && !dest_exists_dir) {
    return fail("with more than one source file needs a destination directory ending with a /");
  }
  std::string dest_dir = into_dir ? dest : dest.substr(0, dest.find_last_of('/') + 1);
  if (dest_dir.empty()) dest_dir = "/";

  // ADD unpacking an archive goes through the container (the archive's entries may replace
  // anything); every other COPY/ADD writes its layer directly from the sources.
  bool unpacks = false;
  for (const auto& rel : matched) {
    struct stat sst{};
    std::string full = root + "/" + rel;
    if (add && !from_url && from_image.empty() && ::lstat(full.c_str(), &sst) == 0 && !S_ISDIR(sst.st_mode) && looks_like_archive(full)) {
      unpacks = true;
    }
  }
  if (!unpacks) {
    std::vector<CopyEntry> entries;
    for (const auto& rel : matched) {
      auto source = files->lstat(rel);
      bool is_dir = source && S_ISDIR(source->mode);
      entries.push_back(CopyEntry{rel, is_dir ? "" : (into_dir ? basename_of(rel) : basename_of(dest))});
    }
    auto parents = destination_headers(troot, target->ids(), dest_dir, owner);
    if (!parents) return std::move(parents).error().wrap(inst.keyword + " into " + dest_dir);
    std::string dest_rel = parents->empty() ? "" : parents->back().name.substr(0, parents->back().name.size() - 1);
    target = Result<container::ContainerManager::RootfsAccess>(make_error(ErrorCode::kInternal, "released"));
    auto layer = write_layer([&](Writer& w) {
      return write_copy_layer(*files, entries, chmod, CopyOwner{owner.uid, owner.gid}, *parents, dest_rel, w);
    }, st.image_id);
    if (!layer) return std::move(layer).error().wrap(inst.keyword + " into " + dest_dir);
    auto id = commit_layer(st, *layer, "/bin/sh -c " + created_by, image::full_container_config(c), ctr.id());
    if (!id) return id.error();
    BERTH_TRY_STATUS(adopt(st, *id));
    builder.cache_.record(cache_key, *id, layer->size);
    say(" ---> " + short_id(*id) + "\n");
    return {};
  }
  BERTH_TRY_STATUS(mkdir_in_root(troot, dest_dir, owner));

  std::vector<CopyEntry> entries;
  for (const auto& rel : matched) {
    std::string full = root + "/" + rel;
    struct stat sst{};
    bool is_dir = ::lstat(full.c_str(), &sst) == 0 && S_ISDIR(sst.st_mode);
    if (add && from_image.empty() && !is_dir && looks_like_archive(full)) {
      UniqueFd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (!fd.valid()) return errno_error("open " + rel);
      FdReader in(fd.get());
      std::string extract_to = into_dir ? dest : dest_dir;
      BERTH_TRY_STATUS(mkdir_in_root(troot, extract_to, owner));
      std::optional<container::Owner> tar_owner;
      if (!chown.empty()) tar_owner = owner;
      auto s = container::extract_archive(troot, extract_to, in, false, true, tar_owner);
      if (!s) return std::move(s).error().wrap("ADD " + rel + ": unpack the archive");
      continue;
    }
    std::string name = is_dir ? "" : (into_dir ? basename_of(rel) : basename_of(dest));
    entries.push_back(CopyEntry{rel, name});
  }
  if (!entries.empty()) {
    std::string spool = scratch_dir + "/copy-" + random_hex(6) + ".tar";
    UniqueFd out(::open(spool.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!out.valid()) return errno_error("create " + spool);
    ::unlink(spool.c_str());
    FdWriter w(out.get());
    BERTH_TRY_STATUS(write_copy_tar(*files, entries, chmod, w));
    if (::lseek(out.get(), 0, SEEK_SET) != 0) return errno_error("rewind the copy spool");
    FdReader in(out.get());
    auto s = container::extract_archive(troot, dest_dir, in, false, true, owner);
    if (!s) return std::move(s).error().wrap(inst.keyword + " into " + dest_dir);
  }
  target = Result<container::ContainerManager::RootfsAccess>(make_error(ErrorCode::kInternal, "released"));
  auto id = builder.containers_.commit(ctr.context(), ctr.id(), "", "", "", str_field(st.image, "author"), {}, false,
                                         image::full_container_config(c));
  if (!id) return std::move(id).error().wrap("commit the " + inst.keyword + " step");
  BERTH_TRY_STATUS(adopt(st, *id));
  builder.cache_.record(cache_key, *id, 0);
  say(" ---> " + short_id(*id) + "\n");
  return {};
}

}  // namespace berth::core::build
