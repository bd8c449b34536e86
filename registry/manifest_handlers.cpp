// /v2/<name>/manifests/<tag or digest>: GET/HEAD serve the stored bytes with the media type
// they were pushed with; PUT checks the manifest (JSON, digest, every blob and child manifest
// present in the repository) before anything is stored; DELETE by digest removes the revision
// and its tags, by tag only the tag.
#include "distribution/manifest.hpp"
#include "distribution/names.hpp"
#include "registry/api.hpp"

namespace berth::registry {
using distribution::RegistryErrorCode;
namespace json = boost::json;

namespace {

Response manifest_unknown(const std::string& reference) {
  return error_response(RegistryErrorCode::kManifestUnknown,
                        "manifest " + reference + " is unknown",
                        json::object{{"reference", reference}});
}

Task<Response> put_manifest(ApiContext& ctx, Exchange& ex, const Route& route,
                            const distribution::ManifestReference& reference) {
  uint64_t limit = ctx.options.max_manifest_bytes;
  auto too_large = [&] {
    return error_response(RegistryErrorCode::kSizeInvalid,
                          "manifest larger than the registry's limit of " +
                              std::to_string(limit) + " bytes",
                          nullptr, 413);
  };
  if (auto length = ex.content_length(); length && *length > limit) co_return too_large();
  auto body = co_await ex.read_body(limit);
  if (!body) {
    if (body.error().code == ErrorCode::kResourceExhausted) co_return too_large();
    co_return error_response(RegistryErrorCode::kManifestInvalid, body.error().message);
  }
  auto manifest = distribution::parse_manifest(*body, ex.header("Content-Type"));
  if (!manifest) {
    co_return error_response(RegistryErrorCode::kManifestInvalid, manifest.error().message);
  }

  const auto* by_digest = std::get_if<Digest>(&reference);
  auto digester = distribution::Digester::create(by_digest ? by_digest->algorithm : "sha256");
  digester->update(*body);
  Digest digest = digester->finish();
  if (by_digest && *by_digest != digest) {
    co_return error_response(RegistryErrorCode::kDigestInvalid,
                             "manifest content has digest " + digest.string() + ", not " +
                                 by_digest->string());
  }
  // From the checks to the stored manifest, garbage collection deletes no blob; each one
  // referenced is touched so a collection that marked before this push still keeps it.
  auto protection = ctx.storage.protect_blobs();
  for (const auto& blob : manifest->required_blobs()) {
    if (!ctx.storage.has_blob_link(route.name, blob.digest) ||
        !ctx.storage.touch_blob(blob.digest)) {
      co_return error_response(RegistryErrorCode::kManifestBlobUnknown,
                               "blob " + blob.digest.string() + " is not in " + route.name +
                                   ": push it before the manifest",
                               json::object{{"digest", blob.digest.string()}});
    }
  }
  for (const auto& child : manifest->manifests) {
    if (!ctx.storage.has_manifest(route.name, child.digest) ||
        !ctx.storage.touch_blob(child.digest)) {
      co_return error_response(RegistryErrorCode::kManifestBlobUnknown,
                               "manifest " + child.digest.string() + " is not in " + route.name +
                                   ": push it before the index",
                               json::object{{"digest", child.digest.string()}});
    }
  }

  distribution::Descriptor self{manifest->media_type, digest,
                                static_cast<int64_t>(body->size()),
                                manifest->referrer_artifact_type(), manifest->annotations};
  std::optional<Digest> subject;
  if (manifest->subject) subject = manifest->subject->digest;
  const auto* tag = std::get_if<std::string>(&reference);
  StoredManifest stored{std::move(*body), manifest->media_type, digest};
  if (auto st = ctx.storage.put_manifest(route.name, stored, tag ? *tag : std::string(), subject,
                                         distribution::descriptor_json(self));
      !st) {
    co_return internal_error(st.error());
  }
  Response res;
  res.status = 201;
  res.header("Location", "/v2/" + route.name + "/manifests/" + digest.string());
  res.header("Docker-Content-Digest", digest.string());
  if (subject) res.header("OCI-Subject", subject->string());
  co_return res;
}

}  // namespace

Task<Response> handle_manifest(ApiContext& ctx, Exchange& ex, const Route& route) {
  auto reference = distribution::parse_manifest_reference(route.reference);
  if (!reference) {
    bool digest_like = route.reference.find(':') != std::string::npos;
    co_return error_response(
        digest_like ? RegistryErrorCode::kDigestInvalid : RegistryErrorCode::kManifestInvalid,
        reference.error().message);
  }
  if (ex.method == "PUT") co_return co_await put_manifest(ctx, ex, route, *reference);
  bool reads = ex.method == "GET" || ex.method == "HEAD";
  if (!reads && ex.method != "DELETE") {
    co_return error_response(RegistryErrorCode::kUnsupported, {}, nullptr, 405);
  }
  // An unknown repository answers MANIFEST_UNKNOWN too, as distribution does: clients print
  // "manifest unknown" either way.
  if (!ctx.storage.repository_exists(route.name)) co_return manifest_unknown(route.reference);
  const auto* tag = std::get_if<std::string>(&*reference);
  if (ex.method == "DELETE") {
    Status st = tag ? ctx.storage.delete_tag(route.name, *tag)
                    : ctx.storage.delete_manifest(route.name, std::get<Digest>(*reference));
    if (!st) {
      if (st.error().code == ErrorCode::kNotFound) co_return manifest_unknown(route.reference);
      co_return internal_error(st.error());
    }
    Response res;
    res.status = 202;
    co_return res;
  }

  Digest digest;
  if (tag) {
    auto resolved = ctx.storage.resolve_tag(route.name, *tag);
    if (!resolved) co_return manifest_unknown(route.reference);
    digest = *resolved;
  } else {
    digest = std::get<Digest>(*reference);
  }
  auto stored = ctx.storage.get_manifest(route.name, digest);
  if (!stored) {
    if (stored.error().code == ErrorCode::kNotFound) co_return manifest_unknown(route.reference);
    co_return internal_error(stored.error());
  }
  Response res;
  res.header("Content-Type", stored->media_type);
  res.header("Docker-Content-Digest", digest.string());
  res.header("ETag", "\"" + digest.string() + "\"");
  res.body = std::move(stored->content);
  co_return res;
}

}  // namespace berth::registry
