// Blob uploads: POST /v2/<name>/blobs/uploads/ (session, monolithic with ?digest=, or mount
// with ?mount=&from=), PATCH a chunk (Content-Range must continue where the upload ends, else
// 416), PUT ?digest= to close (verified before the blob is visible), GET status, DELETE cancel.
#include "distribution/names.hpp"
#include "registry/api.hpp"
#include "registry/url.hpp"

namespace berth::registry {
using distribution::RegistryErrorCode;
namespace json = boost::json;

namespace {

std::string upload_location(const Route& route, const std::string& id) {
  return "/v2/" + route.name + "/blobs/uploads/" + id;
}

// "0-<last byte>" as distribution answers (an empty upload is "0-0").
std::string range_header(int64_t size) { return "0-" + std::to_string(size > 0 ? size - 1 : 0); }

Response upload_progress(const Route& route, const std::string& id, int64_t size, unsigned status) {
  Response res;
  res.status = status;
  res.header("Location", upload_location(route, id));
  res.header("Range", range_header(size));
  res.header("Docker-Upload-UUID", id);
  return res;
}

Response blob_created(const Route& route, const Digest& digest) {
  Response res;
  res.status = 201;
  res.header("Location", "/v2/" + route.name + "/blobs/" + digest.string());
  res.header("Docker-Content-Digest", digest.string());
  return res;
}

Response upload_unknown(const std::string& id) {
  return error_response(RegistryErrorCode::kBlobUploadUnknown, "upload " + id + " is unknown",
                        json::object{{"uuid", id}});
}

struct ContentRange {
  int64_t first = 0;
  int64_t last = 0;
};

// "first-last" (distribution and Docker clients), also "bytes first-last/total".
std::optional<ContentRange> parse_content_range(std::string text) {
  if (text.starts_with("bytes ")) text = text.substr(6);
  text = text.substr(0, text.find('/'));
  size_t dash = text.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= text.size()) return std::nullopt;
  std::string a = text.substr(0, dash), b = text.substr(dash + 1);
  if (a.find_first_not_of("0123456789") != std::string::npos ||
      b.find_first_not_of("0123456789") != std::string::npos || a.size() > 18 || b.size() > 18) {
    return std::nullopt;
  }
  ContentRange range{std::stoll(a), std::stoll(b)};
  if (range.last < range.first) return std::nullopt;
  return range;
}

// Checks a chunk's Content-Range against the upload, then appends the body. nullopt: done.
Task<std::optional<Response>> append_chunk(ApiContext& ctx, Exchange& ex, const Route& route,
                                           UploadWriter& writer) {
  std::string content_range = ex.header("Content-Range");
  auto length = ex.content_length();
  if (!content_range.empty()) {
    auto range = parse_content_range(content_range);
    if (!range) {
      co_return error_response(RegistryErrorCode::kBlobUploadInvalid,
                               "malformed Content-Range \"" + content_range + "\": want FIRST-LAST");
    }
    if (range->first != writer.size()) {
      Response res = error_response(
          RegistryErrorCode::kRangeInvalid,
          "chunk starts at byte " + std::to_string(range->first) + " but the upload has " +
              std::to_string(writer.size()) + " bytes: send the chunk that starts there");
      res.header("Location", upload_location(route, writer.id()));
      res.header("Range", range_header(writer.size()));
      res.header("Docker-Upload-UUID", writer.id());
      co_return res;
    }
    if (length && static_cast<int64_t>(*length) != range->last - range->first + 1) {
      co_return error_response(RegistryErrorCode::kSizeInvalid,
                               "Content-Range covers " +
                                   std::to_string(range->last - range->first + 1) +
                                   " bytes but Content-Length is " + std::to_string(*length));
    }
  }
  uint64_t limit = ctx.options.max_upload_bytes;
  if (limit && length && static_cast<uint64_t>(writer.size()) + *length > limit) {
    co_return error_response(RegistryErrorCode::kSizeInvalid,
                             "blob larger than the registry's limit of " + std::to_string(limit) +
                                 " bytes",
                             nullptr, 413);
  }
  bool too_large = false;
  Status st = co_await ex.stream_body_to_disk([&](std::string_view piece) -> Status {
    if (limit && static_cast<uint64_t>(writer.size()) + piece.size() > limit) {
      too_large = true;
      return make_error(ErrorCode::kResourceExhausted, "upload limit");
    }
    return writer.append(piece);
  });
  if (too_large) {
    co_return error_response(RegistryErrorCode::kSizeInvalid,
                             "blob larger than the registry's limit of " + std::to_string(limit) +
                                 " bytes",
                             nullptr, 413);
  }
  if (!st) {
    co_return error_response(RegistryErrorCode::kBlobUploadInvalid,
                             "upload interrupted: " + st.error().message);
  }
  co_return std::nullopt;
}

// Verifies and installs the upload on a file thread (fsync, rename, and for digests other than
// sha256 a read of the whole upload): a slow disk holds this request only.
Task<Status> commit(ApiContext& ctx, Exchange& ex, std::unique_ptr<UploadWriter> writer,
                    const std::string& repo, const Digest& digest) {
  co_return co_await ex.run_blocking([&]() -> Status {
    return ctx.storage.commit_upload(std::move(writer), repo, digest, std::nullopt);
  });
}

Response commit_failure(const Error& error) {
  if (error.code == ErrorCode::kInvalidArgument) {
    return error_response(RegistryErrorCode::kDigestInvalid, error.message);
  }
  if (error.code == ErrorCode::kFailedPrecondition) {
    return error_response(RegistryErrorCode::kSizeInvalid, error.message);
  }
  return internal_error(error);
}

// ?digest= of a closing request: the digest, or the error answer.
std::variant<Digest, Response> wanted_digest(const Exchange& ex) {
  auto text = ex.query_value("digest");
  if (!text) {
    return error_response(RegistryErrorCode::kDigestInvalid,
                          "closing an upload needs ?digest=<algorithm>:<hex>");
  }
  auto digest = distribution::parse_digest(*text);
  if (!digest) return error_response(RegistryErrorCode::kDigestInvalid, digest.error().message);
  return *digest;
}

// ?mount=<digest>[&from=<repo>]: links an existing blob into the repository without sending
// it. Without `from`, any blob in the registry can be mounted (the spec's "mount without from";
// this registry has no per-repository access rules yet that this would bypass).
std::optional<Response> try_mount(ApiContext& ctx, const Exchange& ex, const Route& route) {
  auto mount = ex.query_value("mount");
  if (!mount) return std::nullopt;
  auto digest = distribution::parse_digest(*mount);
  if (!digest) return std::nullopt;  // the spec: not mountable → a normal upload session
  auto from = ex.query_value("from");
  bool available = false;
  if (from) {
    available = distribution::is_valid_repository_name(*from) &&
                ctx.storage.has_blob_link(*from, *digest);
  } else {
    available = ctx.storage.blob_size(*digest).has_value();
  }
  if (!available) return std::nullopt;
  auto protection = ctx.storage.protect_blobs();
  if (!ctx.storage.touch_blob(*digest)) return std::nullopt;  // collected meanwhile
  if (auto st = ctx.storage.link_blob(route.name, *digest); !st) return internal_error(st.error());
  return blob_created(route, *digest);
}

}  // namespace

Task<Response> handle_upload_start(ApiContext& ctx, Exchange& ex, const Route& route) {
  if (ex.method != "POST") co_return error_response(RegistryErrorCode::kUnsupported, {}, nullptr, 405);
  if (auto mounted = try_mount(ctx, ex, route)) co_return std::move(*mounted);

  std::optional<Digest> monolithic;
  if (ex.query_value("digest")) {
    auto wanted = wanted_digest(ex);
    if (auto* res = std::get_if<Response>(&wanted)) co_return std::move(*res);
    monolithic = std::get<Digest>(wanted);
  }
  auto id = ctx.storage.start_upload(route.name);
  if (!id) co_return internal_error(id.error());
  if (!monolithic) co_return upload_progress(route, *id, 0, 202);

  auto writer = ctx.storage.open_upload(route.name, *id);
  if (!writer) co_return internal_error(writer.error());
  if (auto failed = co_await append_chunk(ctx, ex, route, **writer)) {
    (void)ctx.storage.cancel_upload(route.name, *id);
    co_return std::move(*failed);
  }
  if (auto st = co_await commit(ctx, ex, std::move(*writer), route.name, *monolithic); !st) {
    co_return commit_failure(st.error());
  }
  co_return blob_created(route, *monolithic);
}

Task<Response> handle_upload(ApiContext& ctx, Exchange& ex, const Route& route) {
  const std::string& id = route.reference;
  if (ex.method == "GET" || ex.method == "HEAD") {
    auto size = ctx.storage.upload_size(route.name, id);
    if (!size) co_return upload_unknown(id);
    co_return upload_progress(route, id, *size, 204);
  }
  if (ex.method == "DELETE") {
    if (auto st = ctx.storage.cancel_upload(route.name, id); !st) {
      if (st.error().code == ErrorCode::kNotFound) co_return upload_unknown(id);
      co_return internal_error(st.error());
    }
    Response res;
    res.status = 204;
    co_return res;
  }
  if (ex.method != "PATCH" && ex.method != "PUT") {
    co_return error_response(RegistryErrorCode::kUnsupported, {}, nullptr, 405);
  }
  std::optional<Digest> closing;
  if (ex.method == "PUT") {
    auto wanted = wanted_digest(ex);
    if (auto* res = std::get_if<Response>(&wanted)) co_return std::move(*res);
    closing = std::get<Digest>(wanted);
  }
  auto writer = ctx.storage.open_upload(route.name, id);
  if (!writer) {
    if (writer.error().code == ErrorCode::kNotFound) co_return upload_unknown(id);
    if (writer.error().code == ErrorCode::kUnavailable) {
      auto size = ctx.storage.upload_size(route.name, id);
      Response res = error_response(RegistryErrorCode::kRangeInvalid, writer.error().message);
      res.header("Range", range_header(size ? *size : 0));
      co_return res;
    }
    co_return internal_error(writer.error());
  }
  if (auto failed = co_await append_chunk(ctx, ex, route, **writer)) co_return std::move(*failed);
  if (!closing) co_return upload_progress(route, id, (*writer)->size(), 202);
  if (auto st = co_await commit(ctx, ex, std::move(*writer), route.name, *closing); !st) {
    co_return commit_failure(st.error());
  }
  co_return blob_created(route, *closing);
}

}  // namespace berth::registry
