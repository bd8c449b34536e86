// The README's "Writing a driver" example, whole: a vendor's network driver built only against
// the installed Berth SDK. It keeps its networks in memory, which is enough to prove the build,
// the ABI handshake and the calls. Built and loaded by tests/plugin_loader (in tree) and by
// tests/sdk_package (out of tree, against the installed SDK); the README shows this file as is.
#include <berth/sdk/plugin.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace sdk = berth::sdk;

class AcmeNetwork final : public sdk::NetworkDriver {
 public:
  // Every driver class needs this factory (see berth/sdk/plugin.hpp): the SDK calls it when
  // berthd enables the driver; an error here is what `berth plugin ls` shows.
  static sdk::Result<std::unique_ptr<AcmeNetwork>> create(const sdk::InitContext& ctx) {
    ctx.log->info("acme network driver ready");
    return std::make_unique<AcmeNetwork>();
  }

  sdk::DriverInfo info() override { return {"acme", {"vendor"}, {{"Vendor", "Acme Corp"}}}; }
  sdk::Status create_network(sdk::Context&, const sdk::NetworkSpec& spec) override {
    std::lock_guard lock(mu_);
    networks_.insert(spec.id);
    return {};
  }
  sdk::Status delete_network(sdk::Context&, std::string_view id) override {
    std::lock_guard lock(mu_);
    if (networks_.erase(std::string(id)) == 0) {
      return sdk::make_error(sdk::ErrorCode::kNotFound, "network " + std::string(id) + " not found");
    }
    return {};
  }
  sdk::Result<sdk::EndpointResult> create_endpoint(sdk::Context&,
                                                   const sdk::EndpointSpec& spec) override {
    return sdk::EndpointResult{spec.address, "02:42:ac:00:00:01"};
  }
  sdk::Status delete_endpoint(sdk::Context&, std::string_view, std::string_view) override {
    return {};
  }
  sdk::Result<sdk::JoinResult> join(sdk::Context&, const sdk::JoinSpec&) override {
    return sdk::make_error(sdk::ErrorCode::kUnsupported, "acme joins nothing");
  }
  sdk::Status leave(sdk::Context&, std::string_view, std::string_view) override { return {}; }

 private:
  std::mutex mu_;
  std::set<std::string> networks_;
};

BERTH_PLUGIN("network-acme", "2.3.4", "Acme Corp") {
  return registrar.add_network<AcmeNetwork>("acme");  // driver id "network.acme"
}
