// Entry point of berth-net-host.so: the host network driver, registered as "network.host".
// `--network host` goes through it (libnetwork's host driver): an endpoint has no address, no
// interface and no rule of its own, and a join is accepted only for berthd's own namespace,
// which the container then shares. Nothing on the host is created, so every inverse is a no-op.
#include <sys/stat.h>

#include <memory>
#include <string>

#include "berth/sdk/plugin.hpp"

namespace sdk = berth::sdk;

namespace {

class HostNetwork final : public sdk::NetworkDriver {
 public:
  static sdk::Result<std::unique_ptr<HostNetwork>> create(const sdk::InitContext& ctx) {
    return std::make_unique<HostNetwork>(ctx.log);
  }
  explicit HostNetwork(sdk::Logger* log) : log_(log) {}

  sdk::DriverInfo info() override { return {"host", {"shares-host-namespace"}, {}}; }
  sdk::Status create_network(sdk::Context&, const sdk::NetworkSpec& spec) override {
    if (spec.restore) return {};
    return sdk::make_error(sdk::ErrorCode::kPermissionDenied, "only one instance of \"host\" network is allowed");
  }
  sdk::Status delete_network(sdk::Context&, std::string_view) override { return {}; }
  sdk::Result<sdk::EndpointResult> create_endpoint(sdk::Context&, const sdk::EndpointSpec& spec) override {
    if (!spec.address.empty() || !spec.mac_address.empty()) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                             "the host network has no addresses of its own: drop --ip and --mac-address");
    }
    return sdk::EndpointResult{};
  }
  sdk::Status delete_endpoint(sdk::Context&, std::string_view, std::string_view) override { return {}; }
  sdk::Result<sdk::JoinResult> join(sdk::Context&, const sdk::JoinSpec& spec) override {
    // The namespace handed over must be berthd's own: that is what "host" means.
    struct stat want {}, got {};
    if (::stat("/proc/self/ns/net", &want) != 0 || ::stat(spec.netns_path.c_str(), &got) != 0 ||
        want.st_ino != got.st_ino || want.st_dev != got.st_dev) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                             "the host driver joins only berthd's own network namespace, not " + spec.netns_path);
    }
    log_->debug("container shares the host's network namespace", {{"container", spec.container_id}});
    return sdk::JoinResult{};
  }
  sdk::Status leave(sdk::Context&, std::string_view, std::string_view) override { return {}; }

 private:
  sdk::Logger* log_;
};

}  // namespace

BERTH_PLUGIN("net-host", "0.1.0", "berth") {
  return registrar.add_network<HostNetwork>("host");
}
