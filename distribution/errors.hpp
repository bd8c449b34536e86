// The distribution spec's error codes, the HTTP status each is answered with, and the error
// body {"errors":[{"code","message","detail"}]} clients parse.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace berth::distribution {

enum class RegistryErrorCode {
  kBlobUnknown,
  kBlobUploadInvalid,
  kBlobUploadUnknown,
  kDigestInvalid,
  kManifestBlobUnknown,
  kManifestInvalid,
  kManifestUnknown,
  kNameInvalid,
  kNameUnknown,
  kSizeInvalid,
  kUnauthorized,
  kDenied,
  kUnsupported,
  kTooManyRequests,
  kRangeInvalid,  // distribution's code for a chunk that does not start where the upload ends
};

// "BLOB_UNKNOWN", ...
std::string_view error_code_string(RegistryErrorCode code);
// The spec's status: 404 for the *_UNKNOWN codes, 400 for invalid input, 401, 403, 405, 429, 416.
unsigned error_http_status(RegistryErrorCode code);
// The spec's default message ("blob unknown to registry").
std::string_view error_default_message(RegistryErrorCode code);

// An error to answer with: code plus a message for people and an optional detail value.
struct RegistryError {
  RegistryErrorCode code;
  std::string message;  // empty: the default message of the code
  boost::json::value detail = nullptr;
};

// {"errors":[{"code":...,"message":...,"detail":...}]}
std::string error_body(const RegistryError& error);

}  // namespace berth::distribution
