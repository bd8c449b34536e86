#include "common/create_config.hpp"

#include <boost/json.hpp>

namespace berth::plugins::isolation {
namespace json = boost::json;

std::string create_config_to_json(const CreateConfig& config) {
  json::array procs;
  for (const auto& p : config.cgroup.procs_files) procs.emplace_back(p);
  json::array dirs;
  for (const auto& [name, path] : config.cgroup.v1_dirs) {
    dirs.push_back(json::object{{"name", name}, {"path", path}});
  }
  json::object out{{"id", config.id},
                   {"bundle", config.bundle},
                   {"oci", config.oci.is_object() ? config.oci : json::value(json::object())},
                   {"rootfs", mounts_to_json(config.rootfs)},
                   {"init", config.init_path},
                   {"terminal", config.terminal},
                   {"cgroup", json::object{{"version", config.cgroup.version},
                                           {"procs", std::move(procs)},
                                           {"dirs", std::move(dirs)},
                                           {"path", config.cgroup.v2_dir}}}};
  return json::serialize(out);
}

sdk::Result<CreateConfig> create_config_from_json(std::string_view text) {
  auto bad = [](const std::string& what) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "create config: " + what);
  };
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return bad("not a JSON object");
  const auto& o = v.get_object();
  CreateConfig c;
  auto str = [&](std::string_view key) -> std::string {
    const auto* x = o.if_contains(key);
    return x != nullptr && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  c.id = str("id");
  c.bundle = str("bundle");
  c.init_path = str("init");
  if (const auto* t = o.if_contains("terminal"); t != nullptr && t->is_bool()) {
    c.terminal = t->get_bool();
  }
  const auto* oci = o.if_contains("oci");
  if (oci == nullptr) return bad("no oci spec");
  auto spec = parse_spec(*oci);
  if (!spec) return std::move(spec).error();
  c.spec = std::move(*spec);
  if (const auto* r = o.if_contains("rootfs"); r != nullptr && !r->is_null()) {
    auto mounts = mounts_from_json(*r);
    if (!mounts) return std::move(mounts).error();
    c.rootfs = std::move(*mounts);
  }
  if (const auto* cg = o.if_contains("cgroup"); cg != nullptr && cg->is_object()) {
    const auto& co = cg->get_object();
    if (const auto* ver = co.if_contains("version"); ver != nullptr && ver->is_int64()) {
      c.cgroup.version = static_cast<int>(ver->get_int64());
    }
    if (const auto* procs = co.if_contains("procs"); procs != nullptr && procs->is_array()) {
      for (const auto& p : procs->get_array()) {
        if (p.is_string()) c.cgroup.procs_files.emplace_back(p.get_string());
      }
    }
    if (const auto* dirs = co.if_contains("dirs"); dirs != nullptr && dirs->is_array()) {
      for (const auto& d : dirs->get_array()) {
        if (!d.is_object()) continue;
        const auto* name = d.get_object().if_contains("name");
        const auto* path = d.get_object().if_contains("path");
        if (name != nullptr && name->is_string() && path != nullptr && path->is_string()) {
          c.cgroup.v1_dirs.emplace_back(std::string(name->get_string()),
                                        std::string(path->get_string()));
        }
      }
    }
    if (const auto* p = co.if_contains("path"); p != nullptr && p->is_string()) {
      c.cgroup.v2_dir = std::string(p->get_string());
    }
  }
  return c;
}

}  // namespace berth::plugins::isolation
