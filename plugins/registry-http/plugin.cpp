// Entry point of berth-registry-http.so: registers the HTTP(S) registry transport as
// "registry.http".
#include "berth/sdk/plugin.hpp"

#include "http_transport.hpp"

BERTH_PLUGIN("registry-http", "0.1.0", "berth") {
  return registrar.add_registry<berth::plugins::registry_http::HttpTransport>("http");
}
