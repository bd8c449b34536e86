// Stages, build args, the build cache lookups and commits (see builder.hpp). The config
// instructions are in builder_config.cpp, RUN and COPY/ADD in builder_steps.cpp.
#include "core/build/builder.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <thread>
#include <filesystem>

#include "core/build/build_run.hpp"
#include "core/common/fs.hpp"
#include "core/common/ids.hpp"
#include "core/common/json_text.hpp"
#include "core/common/logging.hpp"
#include "core/common/time.hpp"
#include "core/container/create_config.hpp"
#include "core/image/image_config.hpp"

namespace berth::core::build {

namespace json = boost::json;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const std::set<std::string>& proxy_args() {
  static const std::set<std::string> names = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                              "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
                                              "ALL_PROXY",  "all_proxy"};
  return names;
}

// BuildKit's automatic platform args (only this host's platform is built).
const Vars& platform_args() {
  static const Vars vars = {{"TARGETPLATFORM", "linux/amd64"}, {"TARGETOS", "linux"}, {"TARGETARCH", "amd64"},
                            {"TARGETVARIANT", ""},             {"BUILDPLATFORM", "linux/amd64"}, {"BUILDOS", "linux"},
                            {"BUILDARCH", "amd64"},            {"BUILDVARIANT", ""}};
  return vars;
}

}  // namespace

Error step_error(const Instruction& inst, const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument, "Dockerfile line " + std::to_string(inst.line) + ": " +
                                                     inst.keyword + " " + what);
}

std::string short_id(const std::string& id) {
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return hex.substr(0, 12);
}

Builder::Builder(image::ImageService& images, container::ContainerManager& containers, std::string state_dir)
    : images_(images), containers_(containers), state_dir_(std::move(state_dir)),
      cache_(state_dir_ + "/cache.json") {
  (void)fs::ensure_dir(state_dir_, 0700);
  // Contexts and scratch files of builds a previous berthd did not finish.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(state_dir_, ec)) {
    std::string name = e.path().filename();
    if (name.rfind("context-", 0) == 0 || name.rfind("tmp-", 0) == 0) (void)fs::remove_all(e.path().string());
  }
  // Step containers of builds a previous berthd did not finish.
  for (const auto& c : containers_.all()) {
    std::string id;
    {
      std::lock_guard lock(c->mutex);
      if (c->record.labels().contains(kStepLabel)) id = c->record.id;
    }
    if (id.empty()) continue;
    auto ctx = container::background_context("build-cleanup");
    if (auto s = containers_.remove(ctx, id, true, true); !s) {
      logging::get("build")->warn("could not remove the leftover build container {}: {}", id, s.error().message);
    }
  }
}

Result<std::string> Builder::build(BuildContext& context, const BuildOptions& options, const BuildSink& sink) {
  auto text = context.dockerfile_text();
  if (!text) return text.error();
  auto df = parse_dockerfile(*text, options.dockerfile);
  if (!df) return df.error();
  Run run{*this, options, sink, context, state_dir_ + "/tmp-" + random_hex(6), std::move(*df)};
  BERTH_TRY_STATUS(fs::ensure_dir(run.scratch_dir, 0700));
  auto result = [&]() -> Result<std::string> {
    BERTH_TRY_STATUS(run.plan());
    return run.execute();
  }();
  (void)fs::remove_all(run.scratch_dir);
  return result;
}

void Builder::Run::say(const std::string& text) const {
  if (!options.quiet && sink.stream) sink.stream(text);
}

Vars Builder::Run::vars(const StageState& st) const {
  Vars v = st.args;
  if (const auto* c = st.image.if_contains("config"); c != nullptr && c->is_object()) {
    if (const auto* env = c->get_object().if_contains("Env"); env != nullptr && env->is_array()) {
      for (const auto& e : env->get_array()) {
        if (!e.is_string()) continue;
        std::string s(e.get_string());
        size_t eq = s.find('=');
        if (eq != std::string::npos) v[s.substr(0, eq)] = s.substr(eq + 1);
      }
    }
  }
  return v;
}

json::object& Builder::Run::config(StageState& st) {
  auto& c = st.image["config"];
  if (!c.is_object()) c = json::object{};
  return c.get_object();
}

StageState* Builder::Run::stage_ref(const std::string& name, size_t before) {
  std::string n = lower(name);
  for (size_t i = 0; i < before && i < stages.size(); ++i) {
    if (!stages[i].name.empty() && stages[i].name == n) return &states[i];
  }
  if (!n.empty() && std::all_of(n.begin(), n.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    size_t idx = std::stoul(n.substr(0, 6));
    if (idx < before) return &states[idx];
  }
  return nullptr;
}

// Cuts the Dockerfile into stages, works out which ones the target needs and numbers the steps.
Status Builder::Run::plan() {
  const auto& insts = dockerfile.instructions;
  size_t i = 0;
  for (; i < insts.size() && insts[i].keyword != "FROM"; ++i) {
    if (insts[i].keyword != "ARG") {
      return make_error(ErrorCode::kInvalidArgument,
                        "Dockerfile line " + std::to_string(insts[i].line) + ": " + insts[i].keyword +
                            " before the first FROM: only ARG may come before FROM (expected FROM)");
    }
    for (const auto& w : split_words(insts[i].rest, dockerfile.escape)) {
      size_t eq = w.find('=');
      std::string name = w.substr(0, eq);
      auto value = eq == std::string::npos ? Result<std::string>(std::string()) : expand_word(w.substr(eq + 1), global_args, dockerfile.escape);
      if (!value) return value.error();
      std::string v = *value;
      if (auto it = options.build_args.find(name); it != options.build_args.end() && it->second) {
        v = *it->second;
        used_args.insert(name);
      } else if (eq == std::string::npos) {
        if (auto p = platform_args().find(name); p != platform_args().end()) v = p->second;
      }
      global_args[name] = v;
    }
  }
  if (i == insts.size()) return make_error(ErrorCode::kInvalidArgument, "the Dockerfile has no FROM instruction");
  for (; i < insts.size(); ++i) {
    if (insts[i].keyword == "FROM") {
      if (!stages.empty()) stages.back().end = i;
      Stage s;
      s.first = i;
      auto words = split_words(insts[i].rest, dockerfile.escape);
      if (words.size() == 3 && lower(words[1]) == "as") s.name = lower(words[2]);
      else if (words.size() != 1) return step_error(insts[i], "requires either one or three arguments: FROM <image> [AS <name>]");
      // A stage used as a base.
      if (auto base = expand_word(words[0], global_args, dockerfile.escape)) {
        std::string b = lower(*base);
        for (size_t k = 0; k < stages.size(); ++k) {
          if ((!stages[k].name.empty() && stages[k].name == b)) s.deps.insert(k);
        }
      }
      stages.push_back(std::move(s));
    } else {
      // COPY --from / RUN --mount from= name earlier stages.
      std::string from = flag_value(insts[i], "from");
      for (const auto& f : insts[i].flags) {
        size_t p = f.find("from=");
        if (f.rfind("--mount", 0) == 0 && p != std::string::npos) {
          from = f.substr(p + 5, f.find(',', p) == std::string::npos ? std::string::npos : f.find(',', p) - p - 5);
        }
      }
      if (!from.empty()) {
        std::string n = lower(from);
        for (size_t k = 0; k < stages.size(); ++k) {
          if ((!stages[k].name.empty() && stages[k].name == n) || n == std::to_string(k)) stages.back().deps.insert(k);
        }
      }
    }
  }
  stages.back().end = insts.size();
  states.resize(stages.size());
  size_t target = stages.size() - 1;
  if (!options.target.empty()) {
    bool found = false;
    for (size_t k = 0; k < stages.size(); ++k) {
      if (stages[k].name == lower(options.target)) {
        target = k;
        found = true;
      }
    }
    if (!found) return make_error(ErrorCode::kInvalidArgument, "failed to reach build target " + options.target + " in Dockerfile: no stage named \"" + options.target + "\"");
  }
  std::vector<size_t> todo{target};
  while (!todo.empty()) {
    size_t k = todo.back();
    todo.pop_back();
    if (stages[k].needed) continue;
    stages[k].needed = true;
    for (size_t d : stages[k].deps) todo.push_back(d);
  }
  for (size_t k = 0; k <= target; ++k) {
    if (stages[k].needed) total += static_cast<int>(stages[k].end - stages[k].first);
  }
  stages.resize(target + 1);
  return {};
}

// Stages run as soon as the stages they read are built: independent ones at the same time (as
// BuildKit; the legacy builder runs them in order). The first failure stops the others.
Result<std::string> Builder::Run::execute() {
  std::mutex m;
  std::condition_variable cv;
  std::optional<Error> first_error;
  std::vector<std::thread> threads;
  for (size_t k = 0; k < stages.size(); ++k) {
    if (!stages[k].needed) continue;
    threads.emplace_back([&, k] {
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] {
          return failed.load() || std::all_of(stages[k].deps.begin(), stages[k].deps.end(),
                                              [&](size_t d) { return states[d].built; });
        });
        if (failed.load()) return;
      }
      auto s = run_stage(k);
      std::lock_guard lock(m);
      if (!s) {
        if (!first_error) first_error = s.error();
        failed = true;
      } else {
        states[k].built = true;
      }
      cv.notify_all();
    });
  }
  for (auto& t : threads) t.join();
  if (first_error) return *first_error;
  StageState& last = states.back();
  BERTH_TRY_STATUS(ensure_image(last));
  // Labels from the request go on the final image only.
  if (!options.labels.empty()) {
    auto& labels = config(last)["Labels"];
    if (!labels.is_object()) labels = json::object{};
    for (const auto& [k, v] : options.labels) labels.get_object()[k] = v;
    std::vector<std::string> parts{"labels", last.image_id};
    for (const auto& [k, v] : options.labels) parts.push_back(k + "=" + v);
    BERTH_TRY_STATUS(commit_config(last, "LABEL (from the build request)", parts));
  }
  std::vector<std::string> unused;
  for (const auto& [k, v] : options.build_args) {
    if (!used_args.contains(k) && !proxy_args().contains(k)) unused.push_back(k);
  }
  if (!unused.empty()) {
    std::string list;
    for (const auto& u : unused) list += (list.empty() ? "" : " ") + u;
    say("[Warning] One or more build-args [" + list + "] were not consumed\n");
  }
  return last.image_id;
}

Status Builder::Run::run_stage(size_t index) {
  const Stage& s = stages[index];
  StageState& st = states[index];
  for (size_t i = s.first; i < s.end; ++i) {
    if (cancelled()) return make_error(ErrorCode::kCancelled, "the build was cancelled");
    const auto& inst = dockerfile.instructions[i];
    int n = ++step;
    say("Step " + std::to_string(n) + "/" + std::to_string(total) + " : " + inst.original + "\n");
    BERTH_TRY_STATUS(dispatch(st, inst, false));
  }
  // Stages that read this one find an image (even for a bare FROM scratch) and change nothing.
  return ensure_image(st);
}

Status Builder::Run::dispatch(StageState& st, const Instruction& inst, bool onbuild) {
  const std::string& kw = inst.keyword;
  if (kw == "FROM") {
    if (onbuild) return step_error(inst, "is not allowed as an ONBUILD trigger");
    return from(st, inst);
  }
  if (kw == "ARG") return arg(st, inst);
  if (kw == "RUN") return run_step(st, inst);
  if (kw == "COPY" || kw == "ADD") return copy_step(st, inst);
  return config_step(st, inst);
}

Status Builder::Run::adopt(StageState& st, const std::string& id) {
  auto img = builder.images_.resolve(id);
  if (!img) return img.error();
  st.image_id = img->record.id;
  st.image = img->config.json();
  return {};
}

Status Builder::Run::from(StageState& st, const Instruction& inst) {
  auto words = split_words(inst.rest, dockerfile.escape);
  auto base = expand_word(words.empty() ? "" : words[0], global_args, dockerfile.escape);
  if (!base) return base.error();
  if (base->empty()) return step_error(inst, "needs an image name: FROM <image> [AS <name>]");
  st.args.clear();
  st.cmd_set = false;
  size_t self = static_cast<size_t>(&st - states.data());
  if (StageState* earlier = stage_ref(*base, self); earlier != nullptr && !std::all_of(base->begin(), base->end(), ::isdigit)) {
    BERTH_TRY_STATUS(ensure_image(*earlier));
    st.image_id = earlier->image_id;
    st.image = earlier->image;
  } else if (lower(*base) == "scratch") {
    st.image_id.clear();
    st.image = json::object{{"architecture", "amd64"}, {"os", "linux"}, {"config", json::object{}},
                            {"rootfs", json::object{{"type", "layers"}, {"diff_ids", json::array{}}}},
                            {"history", json::array{}}};
    say(" ---> \n");
    return {};
  } else {
    auto img = builder.images_.resolve(*base);
    if (!img && img.error().code == ErrorCode::kNotFound && builder.pull_) {
      auto pulled = builder.pull_(*base, [this](const std::string& text) { say(text); });
      if (!pulled) return std::move(pulled).error().wrap("FROM " + *base);
      img = builder.images_.resolve(*pulled);
    }
    if (!img) {
      return make_error(ErrorCode::kNotFound,
                        "FROM " + *base + ": no such image in this berthd (" + img.error().message +
                            "); `berth pull " + *base + "` or `berth load` it first");
    }
    st.image_id = img->record.id;
    st.image = img->config.json();
  }
  say(" ---> " + short_id(st.image_id) + "\n");
  // ONBUILD triggers of the base run now, and are not inherited.
  auto& cfg = config(st);
  if (const auto* ob = cfg.if_contains("OnBuild"); ob != nullptr && ob->is_array() && !ob->get_array().empty()) {
    json::array triggers = ob->get_array();
    cfg.erase("OnBuild");
    say("# Executing " + std::to_string(triggers.size()) + " build trigger(s)\n");
    for (const auto& t : triggers) {
      if (!t.is_string()) continue;
      auto trig = parse_dockerfile(std::string(t.get_string()) + "\n", "ONBUILD trigger");
      if (!trig) return trig.error();
      for (const auto& ti : trig->instructions) BERTH_TRY_STATUS(dispatch(st, ti, true));
    }
  }
  return {};
}

Status Builder::Run::arg(StageState& st, const Instruction& inst) {
  auto words = split_words(inst.rest, dockerfile.escape);
  if (words.empty()) return step_error(inst, "requires at least one argument");
  Vars v = vars(st);
  std::string text = "ARG";
  for (const auto& w : words) {
    size_t eq = w.find('=');
    std::string name = w.substr(0, eq);
    std::string value;
    if (eq != std::string::npos) {
      auto e = expand_word(w.substr(eq + 1), v, dockerfile.escape);
      if (!e) return e.error();
      value = *e;
    } else if (auto g = global_args.find(name); g != global_args.end()) {
      value = g->second;  // a global ARG redeclared in the stage
    } else if (auto p = platform_args().find(name); p != platform_args().end()) {
      value = p->second;
    }
    if (auto it = options.build_args.find(name); it != options.build_args.end() && it->second) {
      value = *it->second;
    }
    {
      std::lock_guard lock(used_args_mutex);
      used_args.insert(name);
    }
    st.args[name] = value;
    v[name] = value;
    text += " " + name + (eq == std::string::npos && value.empty() ? "" : "=" + value);
  }
  // As Docker's legacy builder: an image per ARG, so a changed value misses the cache from here.
  return commit_config(st, text, {"arg", st.image_id, text});
}

bool Builder::Run::cache_hit(StageState& st, const std::string& key) {
  if (options.no_cache) return false;
  auto id = builder.cache_.lookup(key);
  if (!id || !adopt(st, *id)) return false;
  say(" ---> Using cache\n ---> " + short_id(st.image_id) + "\n");
  return true;
}

Status Builder::Run::commit_config(StageState& st, const std::string& created_by,
                                   const std::vector<std::string>& key_parts) {
  std::string key = BuildCache::key_of(key_parts);
  if (cache_hit(st, key)) return {};
  if (cache_from_hit(st, "/bin/sh -c #(nop)  " + created_by, key)) return {};
  json::object doc = st.image;
  std::string now = rfc3339_nano(now_unix_nano());
  doc["created"] = now;
  json::array history;
  if (const auto* h = doc.if_contains("history"); h != nullptr && h->is_array()) history = h->get_array();
  history.push_back(json::object{{"created", now}, {"created_by", "/bin/sh -c #(nop)  " + created_by}, {"empty_layer", true}});
  doc["history"] = std::move(history);
  if (auto* cfg = doc.if_contains("config"); cfg != nullptr && cfg->is_object()) {
    doc["config"] = image::full_container_config(cfg->get_object());
  }
  auto id = builder.images_.create_image(image::encode_config(doc), st.image_id);
  if (!id) return std::move(id).error().wrap("store the image of step " + std::to_string(step));
  BERTH_TRY_STATUS(adopt(st, *id));
  builder.cache_.record(key, *id, 0);
  say(" ---> " + short_id(*id) + "\n");
  return {};
}

Status Builder::Run::ensure_image(StageState& st) {
  if (!st.image_id.empty()) return {};
  // FROM scratch: an image without layers, so containers (COPY) can be made from it.
  return commit_config(st, "FROM scratch", {"scratch", image::encode_config(st.image)});
}

}  // namespace berth::core::build
