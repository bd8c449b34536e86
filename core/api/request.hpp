// An HTTP request as handlers see it: path without the /vX.Y prefix, decoded query, router
// parameters, headers, and a body read on demand (whole, as JSON, or streamed).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/io.hpp"
#include "berth/sdk/host.hpp"
#include "core/common/result.hpp"

namespace berth::core::api {

struct BodySchema;

// Implemented by the connection: pulls body bytes from the HTTP parser on demand.
class BodySource : public Reader {
 public:
  [[nodiscard]] virtual bool has_body() const = 0;
};

struct Request {
  std::string method;
  std::string target;       // as received
  std::string path;         // decoded, without the /vX.Y prefix
  std::string api_version;  // from the prefix, or the daemon's own when absent
  bool versioned = false;
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> params;   // {name} captures of the route
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string request_id;
  BodySource* body_source = nullptr;
  // Handed to every driver call the request makes: the request id, and cancelled once the client
  // hung up (the server sets it; a bare Request, as in unit tests, has an empty one).
  std::shared_ptr<sdk::Context> context = std::make_shared<sdk::Context>();
  sdk::Context& ctx() const { return *context; }

  [[nodiscard]] std::optional<std::string> query_value(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> query_values(std::string_view name) const;
  // Docker's boolean parameters: "1"/"true"/"yes" (any case) are true, "0"/"false"/"no"/"" false.
  [[nodiscard]] bool query_bool(std::string_view name, bool fallback = false) const;
  // Every boolean parameter of the request holds a boolean word; checked before dispatch.
  [[nodiscard]] Status check_bool_params() const;
  // Missing → fallback; malformed → kInvalidArgument naming the parameter.
  [[nodiscard]] Result<int64_t> query_int(std::string_view name, int64_t fallback) const;
  [[nodiscard]] std::string param(std::string_view name) const;
  [[nodiscard]] std::string header(std::string_view lower_name) const;

  // The whole body as text, refused beyond `limit` bytes.
  Result<std::string> read_body(size_t limit = 16 * 1024 * 1024);
  // The body as JSON; an empty body gives an empty object.
  Result<boost::json::value> read_json();
  // The same, decoded as dockerd's Go decoder would: keys in any case, types checked.
  Result<boost::json::value> read_json(const BodySchema& schema);
  // The body as a stream (uploads: import, load, archive).
  Reader& body();
};

// Splits and percent-decodes a query string ("a=1&b=x+y" → a:1, b:"x y").
std::multimap<std::string, std::string> parse_query(std::string_view query);
std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace berth::core::api
