// POST /containers/create: the body (Config + HostConfig + NetworkingConfig) checked the way
// dockerd checks it, defaults filled in, and merged with the image's config. Nothing here touches
// the system: a refused request changes nothing.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/common/result.hpp"
#include "core/container/container.hpp"
#include "core/container/volumes_from.hpp"
#include "core/image/image_config.hpp"

namespace berth::core::container {

struct PreparedCreate {
  boost::json::object config;       // merged Config, as inspect shows it
  boost::json::object host_config;  // HostConfig with defaults
  boost::json::object networking;
  std::string path;
  std::vector<std::string> args;
  std::vector<MountPoint> mounts;  // requested binds, volumes (names may be empty: anonymous), tmpfs
  std::vector<std::string> warnings;
};

struct CreateDefaults {
  int ncpu = 1;
  int64_t log_max_size = 0;
  int log_max_file = 1;
  bool cgroup_v2 = false;
};

// --volumes-from: the binds and volumes of the named container, or dockerd's error when there
// is no such container. The manager supplies it; without one, VolumesFrom is refused.
using VolumesFromLookup =
    std::function<Result<std::vector<MountPoint>>(const std::string& container)>;

// `id` supplies the default hostname; `image_ref` is the Image field as the user gave it.
Result<PreparedCreate> prepare_create(const boost::json::value& body,
                                      const image::ImageConfig& image, const std::string& id,
                                      const std::string& image_ref, const CreateDefaults& defaults,
                                      const VolumesFromLookup& volumes_from = {});


// Docker's container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading "/" is accepted).
Status validate_name(const std::string& name);

// HostConfig.StorageOpt: the `size` cap in bytes when one is asked for; any other key, or a size
// that is not one, is refused.
Result<std::optional<int64_t>> storage_size_limit(const boost::json::object& host_config);
// A random "adjective_surname" name like dockerd's.
std::string generate_name(int attempt);

// Capabilities by name ("NET_ADMIN", "cap_net_admin", "ALL") to their canonical "CAP_X" form.
Result<std::string> normalize_capability(const std::string& name);
const std::vector<std::string>& all_capabilities();
const std::vector<std::string>& default_capabilities();

// Parses one -v / HostConfig.Binds entry ("name:/path", "/host:/path:ro", "/path").
Result<MountPoint> parse_bind(const std::string& spec);

// Docker's signal names and numbers ("SIGTERM", "TERM", "15") → number; 0 when unknown.
int parse_signal(std::string_view text);

}  // namespace berth::core::container
