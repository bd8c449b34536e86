#include "distribution/errors.hpp"

#include <boost/json/object.hpp>

#include "core/common/json_text.hpp"

namespace berth::distribution {
namespace {

struct ErrorInfo {
  std::string_view code;
  unsigned status;
  std::string_view message;
};

ErrorInfo info(RegistryErrorCode code) {
  switch (code) {
    case RegistryErrorCode::kBlobUnknown: return {"BLOB_UNKNOWN", 404, "blob unknown to registry"};
    case RegistryErrorCode::kBlobUploadInvalid: return {"BLOB_UPLOAD_INVALID", 400, "blob upload invalid"};
    case RegistryErrorCode::kBlobUploadUnknown:
      return {"BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry"};
    case RegistryErrorCode::kDigestInvalid:
      return {"DIGEST_INVALID", 400, "provided digest did not match uploaded content"};
    case RegistryErrorCode::kManifestBlobUnknown:
      return {"MANIFEST_BLOB_UNKNOWN", 400, "manifest references a manifest or blob unknown to registry"};
    case RegistryErrorCode::kManifestInvalid: return {"MANIFEST_INVALID", 400, "manifest invalid"};
    case RegistryErrorCode::kManifestUnknown: return {"MANIFEST_UNKNOWN", 404, "manifest unknown to registry"};
    case RegistryErrorCode::kNameInvalid: return {"NAME_INVALID", 400, "invalid repository name"};
    case RegistryErrorCode::kNameUnknown: return {"NAME_UNKNOWN", 404, "repository name not known to registry"};
    case RegistryErrorCode::kSizeInvalid:
      return {"SIZE_INVALID", 400, "provided length did not match content length"};
    case RegistryErrorCode::kUnauthorized: return {"UNAUTHORIZED", 401, "authentication required"};
    case RegistryErrorCode::kDenied: return {"DENIED", 403, "requested access to the resource is denied"};
    case RegistryErrorCode::kUnsupported: return {"UNSUPPORTED", 405, "the operation is unsupported"};
    case RegistryErrorCode::kTooManyRequests: return {"TOOMANYREQUESTS", 429, "too many requests"};
    case RegistryErrorCode::kRangeInvalid: return {"RANGE_INVALID", 416, "invalid content range"};
  }
  return {"UNSUPPORTED", 405, "the operation is unsupported"};
}

}  // namespace

std::string_view error_code_string(RegistryErrorCode code) { return info(code).code; }
unsigned error_http_status(RegistryErrorCode code) { return info(code).status; }
std::string_view error_default_message(RegistryErrorCode code) { return info(code).message; }

std::string error_body(const RegistryError& error) {
  boost::json::object entry;
  entry["code"] = error_code_string(error.code);
  entry["message"] = error.message.empty() ? std::string(error_default_message(error.code))
                                           : error.message;
  entry["detail"] = error.detail;
  boost::json::object body;
  body["errors"] = boost::json::array{std::move(entry)};
  return json_text::serialize(body);
}

}  // namespace berth::distribution
