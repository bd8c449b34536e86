// The whole HTTP request path of berthd's API server on one connection: Beast's parser with
// berthd's limits, version prefixes, query decoding, routing, boolean checks, chunked bodies and
// the body decoder of container create. Whatever the bytes, the server answers or closes; it
// never crashes, throws out of the connection or hangs.
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

#include "core/api/body_schema.hpp"
#include "core/api/router.hpp"
#include "core/api/server.hpp"
#include "core/api/transport.hpp"
#include "core/common/unique_fd.hpp"

using namespace berth::core::api;

namespace {

Router& router() {
  static Router r = [] {
    Router router;
    router.add("GET", "/_ping", [](Request&, ResponseWriter& res) { res.send(200, "OK", "text/plain"); });
    router.add("POST", "/containers/create", [](Request& req, ResponseWriter& res) {
      auto body = req.read_json(container_create_schema());
      if (!body) return res.send_error(body.error());
      res.send_json(201, boost::json::object{{"Id", "x"}});
    });
    router.add("GET", "/containers/{id}/json", [](Request& req, ResponseWriter& res) {
      auto limit = req.query_int("limit", -1);
      if (!limit) return res.send_error(limit.error());
      res.send_json(200, boost::json::object{{"Id", req.param("id")}, {"all", req.query_bool("all")}});
    });
    router.add("PUT", "/containers/{id}/archive", [](Request& req, ResponseWriter& res) {
      char buf[4096];
      size_t total = 0;
      for (;;) {
        auto n = req.body().read(buf, sizeof buf);
        if (!n) return res.send_error(n.error());
        if (*n == 0) break;
        total += *n;
      }
      res.send_json(200, boost::json::object{{"bytes", total}});
    });
    return router;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Server server(router(), ServerLimits{std::chrono::milliseconds(200),
                                              std::chrono::milliseconds(200),
                                              std::chrono::milliseconds(200), 16});
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  berth::UniqueFd client(sv[0]);
  // The client writes everything and half-closes; a reader drains the answers meanwhile so the
  // server never blocks on a full socket.
  std::thread writer([&] {
    size_t off = 0;
    while (off < size) {
      ssize_t n = ::send(client.get(), data + off, size - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::shutdown(client.get(), SHUT_WR);
    char buf[65536];
    while (::recv(client.get(), buf, sizeof buf, 0) > 0) {
    }
  });
  server.serve_connection(std::make_shared<FdTransport>(berth::UniqueFd(sv[1]), "fuzz"));
  writer.join();
  return 0;
}
