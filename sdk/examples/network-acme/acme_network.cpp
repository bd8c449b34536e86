// A vendor's network driver, built only against the installed Berth SDK (no berthd source):
// it keeps its networks in memory, which is enough to prove the build and the ABI handshake.
#include <berth/sdk/plugin.hpp>

#include <map>
#include <mutex>
#include <set>

namespace acme {

class AcmeNetwork final : public berth::sdk::NetworkDriver {
 public:
  static berth::sdk::Result<std::unique_ptr<AcmeNetwork>> create(const berth::sdk::InitContext& ctx) {
    ctx.log->info("acme network driver ready");
    return std::make_unique<AcmeNetwork>();
  }
  berth::sdk::DriverInfo info() override { return {"acme", {"vendor"}, {{"Vendor", "Acme Corp"}}}; }
  berth::sdk::Status create_network(berth::sdk::Context&, const berth::sdk::NetworkSpec& spec) override {
    std::lock_guard l(m_);
    networks_.insert(spec.id);
    return {};
  }
  berth::sdk::Status delete_network(berth::sdk::Context&, std::string_view id) override {
    std::lock_guard l(m_);
    networks_.erase(std::string(id));
    return {};
  }
  berth::sdk::Result<berth::sdk::EndpointResult> create_endpoint(berth::sdk::Context&,
                                                                 const berth::sdk::EndpointSpec& s) override {
    return berth::sdk::EndpointResult{s.address, "02:42:ac:00:00:01"};
  }
  berth::sdk::Status delete_endpoint(berth::sdk::Context&, std::string_view, std::string_view) override {
    return {};
  }
  berth::sdk::Result<berth::sdk::JoinResult> join(berth::sdk::Context&, const berth::sdk::JoinSpec&) override {
    return berth::sdk::make_error(berth::sdk::ErrorCode::kUnsupported, "acme joins nothing");
  }
  berth::sdk::Status leave(berth::sdk::Context&, std::string_view, std::string_view) override { return {}; }

 private:
  std::mutex m_;
  std::set<std::string> networks_;
};

}  // namespace acme

BERTH_PLUGIN("network-acme", "2.3.4", "Acme Corp") {
  return registrar.add_network<acme::AcmeNetwork>("acme");
}
