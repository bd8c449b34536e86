#include "core/container/task_spec.hpp"

#include <boost/json.hpp>
#include <map>

#include "core/common/json_fields.hpp"

namespace json = boost::json;

namespace berth::core::container {

using json_fields::str;

Result<NetworkPlacement> network_placement(
    const json::object& host_config,
    const std::function<Result<std::pair<std::string, int>>(const std::string&)>& lookup) {
  NetworkPlacement out;
  std::string mode = str(host_config, "NetworkMode");
  if (mode == "host") {
    out.host = true;
    out.network = "host";  // joined through the host network driver when one is loaded
  } else if (mode.rfind("container:", 0) == 0) {
    std::string other = mode.substr(10);
    auto found = lookup(other);
    if (!found) {
      return make_error(ErrorCode::kNotFound, "cannot join network of a non running container: " + other);
    }
    if (found->second <= 0) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "cannot join network of a non running container: " + found->first);
    }
    out.netns_path = "/proc/" + std::to_string(found->second) + "/ns/net";
  } else if (mode != "none") {
    out.network = mode.empty() || mode == "default" ? "bridge" : mode;
  }
  return out;
}

Result<sdk::CreateSpec> build_task_spec(const ContainerRecord& rec, TaskInputs in) {
  auto spec = build_oci_spec(rec, in.spec);
  if (!spec) return spec.error();
  sdk::CreateSpec create;
  create.bundle = std::move(in.bundle);
  create.oci_json = json::serialize(*spec);
  create.rootfs = std::move(in.rootfs);
  create.stdio = {rec.tty(), rec.open_stdin(), rec.stdin_once()};
  if (const auto* init = rec.host_config.if_contains("Init"); init != nullptr && init->is_bool()) {
    create.init = init->get_bool();
  }
  // json-file with rotation on by default; the container's log-opts (checked at create)
  // override the daemon's; "none" keeps no log.
  create.log = {rec.log_path, in.daemon_log.max_size, in.daemon_log.max_file};
  if (const auto* lc = rec.host_config.if_contains("LogConfig"); lc != nullptr && lc->is_object()) {
    const auto& log_config = lc->get_object();
    if (str(log_config, "Type") == "none") create.log.path.clear();
    std::map<std::string, std::string> opts;
    if (const auto* cfg = log_config.if_contains("Config"); cfg != nullptr && cfg->is_object()) {
      for (const auto& [k, v] : cfg->get_object()) opts[std::string(k)] = v.is_string() ? std::string(v.get_string()) : "";
    }
    if (!create.log.path.empty() && !opts.empty()) {
      auto parsed = config::parse_log_options(opts, in.daemon_log);
      if (!parsed) return std::move(parsed).error().wrap("log options");
      create.log.max_size = parsed->max_size;
      create.log.max_files = parsed->max_file;
    }
  }
  return create;
}

}  // namespace berth::core::container
