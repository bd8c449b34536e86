// GET/HEAD /v2/<name>/blobs/<digest> (with Range → 206) and DELETE (unlinks the blob from the
// repository; the content goes when garbage collection finds nothing referencing it).
#include <optional>

#include "core/common/logging.hpp"
#include "registry/api.hpp"

namespace berth::registry {
using distribution::RegistryErrorCode;

namespace {

struct ByteRange {
  int64_t first = 0;
  int64_t last = 0;  // inclusive
};

// One "bytes=" range against a blob of `size` bytes: nullopt when absent or not of a form
// we honour (the whole blob is sent, as RFC 9110 allows); .second false when unsatisfiable.
std::pair<std::optional<ByteRange>, bool> parse_range(const std::string& header, int64_t size) {
  constexpr std::string_view kPrefix = "bytes=";
  if (!header.starts_with(kPrefix) || header.find(',') != std::string::npos) return {std::nullopt, true};
  std::string spec = header.substr(kPrefix.size());
  size_t dash = spec.find('-');
  if (dash == std::string::npos) return {std::nullopt, true};
  std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  auto number = [](const std::string& s) -> std::optional<int64_t> {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(s);
  };
  if (a.empty()) {  // suffix: the last N bytes
    auto n = number(b);
    if (!n) return {std::nullopt, true};
    if (*n == 0 || size == 0) return {std::nullopt, false};
    return {ByteRange{std::max<int64_t>(0, size - *n), size - 1}, true};
  }
  auto first = number(a);
  if (!first) return {std::nullopt, true};
  int64_t last = size - 1;
  if (!b.empty()) {
    auto parsed = number(b);
    if (!parsed || *parsed < *first) return {std::nullopt, true};
    last = std::min(*parsed, size - 1);
  }
  if (*first >= size) return {std::nullopt, false};
  return {ByteRange{*first, last}, true};
}

}  // namespace

Task<Response> handle_blob(ApiContext& ctx, Exchange& ex, const Route& route) {
  auto digest = distribution::parse_digest(route.reference);
  if (!digest) co_return error_response(RegistryErrorCode::kDigestInvalid, digest.error().message);

  if (ex.method == "DELETE") {
    if (!ctx.storage.has_blob_link(route.name, *digest)) {
      co_return error_response(RegistryErrorCode::kBlobUnknown, {},
                               boost::json::object{{"digest", digest->string()}});
    }
    if (auto st = ctx.storage.unlink_blob(route.name, *digest); !st) co_return internal_error(st.error());
    Response res;
    res.status = 202;
    res.header("Docker-Content-Digest", digest->string());
    co_return res;
  }
  if (ex.method != "GET" && ex.method != "HEAD") {
    co_return error_response(RegistryErrorCode::kUnsupported, {}, nullptr, 405);
  }
  if (!ctx.storage.has_blob_link(route.name, *digest)) {
    co_return error_response(RegistryErrorCode::kBlobUnknown, {},
                             boost::json::object{{"digest", digest->string()}});
  }
  auto size = ctx.storage.blob_size(*digest);
  // A HEAD answers from the size alone; a GET opens (and, when needed, verifies) the content.
  Result<UniqueFd> file = UniqueFd();
  if (size && ex.method == "GET") file = ctx.storage.open_blob(*digest);
  if (!size || !file) {
    if (!file) logging::get("registry")->error("{}", file.error().message);
    co_return error_response(RegistryErrorCode::kBlobUnknown, {},
                             boost::json::object{{"digest", digest->string()}});
  }
  Response res;
  res.header("Content-Type", "application/octet-stream");
  res.header("Docker-Content-Digest", digest->string());
  res.header("Accept-Ranges", "bytes");
  res.header("ETag", "\"" + digest->string() + "\"");
  res.header("Cache-Control", "max-age=31536000");
  res.file = std::move(*file);
  res.file_offset = 0;
  res.file_length = *size;
  auto [range, satisfiable] = parse_range(ex.header("Range"), *size);
  if (!satisfiable) {
    Response bad = error_response(RegistryErrorCode::kRangeInvalid,
                                  "range \"" + ex.header("Range") + "\" is outside the blob's " +
                                      std::to_string(*size) + " bytes");
    bad.header("Content-Range", "bytes */" + std::to_string(*size));
    co_return bad;
  }
  if (range) {
    res.status = 206;
    res.file_offset = range->first;
    res.file_length = range->last - range->first + 1;
    res.header("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                    std::to_string(range->last) + "/" + std::to_string(*size));
  }
  if (ex.method == "HEAD") res.declared_length = res.file_length;
  co_return res;
}

}  // namespace berth::registry
